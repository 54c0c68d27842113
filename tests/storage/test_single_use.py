"""Everything single-use is consumed atomically: concurrent callers, exactly one winner.

A naive get-then-delete lets two concurrent /token calls redeem one code; these
tests race many tasks on separate connections against each database.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta

from portico.crypto.tokens import lookup_hash, new_id
from portico.storage.models import (
    AccessToken,
    AuthorizationCode,
    Client,
    PendingAuthorization,
    RefreshToken,
    User,
)
from portico.storage.models.base import utcnow
from portico.storage.repositories.grants import Assertions, Codes, Tokens
from portico.storage.repositories.interactions import PendingAuthorizations

RACERS = 12


async def seed(db) -> tuple[str, str]:
    user_id, client_id = new_id(), new_id()
    async with db.session() as s:
        s.add(User(id=user_id, username="u", username_key="u", email="u@example.org", profile={}))
        s.add(
            Client(
                id=client_id,
                name="c",
                redirect_uris=["https://rp.example/cb"],
                grant_types=["authorization_code", "refresh_token"],
            )
        )
    return user_id, client_id


async def race(db, fn) -> list:
    async def one():
        async with db.session() as s:
            return await fn(s)

    return await asyncio.gather(*(one() for _ in range(RACERS)))


async def test_a_code_is_redeemed_exactly_once_under_concurrency(db):
    user_id, client_id = await seed(db)
    now = utcnow()
    async with db.session() as s:
        await Codes(s).add(
            AuthorizationCode(
                id=new_id(),
                code_hash=lookup_hash("code-1"),
                client_id=client_id,
                user_id=user_id,
                redirect_uri="https://rp.example/cb",
                scope="openid",
                auth_time=now,
                expires_at=now + timedelta(minutes=1),
            )
        )
    results = await race(db, lambda s: Codes(s).consume(lookup_hash("code-1")))
    assert sum(r.first_use for r in results) == 1
    assert all(r.row is not None for r in results)


async def test_a_refresh_token_rotates_exactly_once_under_concurrency(db):
    user_id, client_id = await seed(db)
    now = utcnow()
    async with db.session() as s:
        await Tokens(s).add_refresh_token(
            RefreshToken(
                id=new_id(),
                token_hash=lookup_hash("rt-1"),
                family_id="fam",
                client_id=client_id,
                user_id=user_id,
                scope="openid offline_access",
                auth_time=now,
                expires_at=now + timedelta(days=1),
            )
        )
    results = await race(db, lambda s: Tokens(s).rotate_refresh_token(lookup_hash("rt-1")))
    assert sum(r.first_use for r in results) == 1


async def test_revoking_a_family_revokes_its_refresh_and_access_tokens(db):
    user_id, client_id = await seed(db)
    now = utcnow()
    async with db.session() as s:
        for i in range(3):
            await Tokens(s).add_refresh_token(
                RefreshToken(
                    id=new_id(),
                    token_hash=lookup_hash(f"rt-{i}"),
                    family_id="fam",
                    client_id=client_id,
                    user_id=user_id,
                    scope="openid",
                    auth_time=now,
                    expires_at=now + timedelta(days=1),
                )
            )
            await Tokens(s).add_access_token(
                AccessToken(
                    jti=f"jti-{i}",
                    client_id=client_id,
                    user_id=user_id,
                    family_id="fam",
                    expires_at=now + timedelta(minutes=5),
                )
            )
        await Tokens(s).add_access_token(
            AccessToken(
                jti="other",
                client_id=client_id,
                user_id=user_id,
                family_id="other-fam",
                expires_at=now + timedelta(minutes=5),
            )
        )
    async with db.session() as s:
        await Tokens(s).revoke_family("fam")
    async with db.session() as s:
        tokens = Tokens(s)
        for i in range(3):
            assert (await tokens.refresh_token(lookup_hash(f"rt-{i}"))).revoked_at is not None
            assert (await tokens.access_token(f"jti-{i}")).revoked_at is not None
        assert (await tokens.access_token("other")).revoked_at is None


async def test_a_replayed_code_revokes_what_its_first_use_produced(db):
    user_id, client_id = await seed(db)
    now = utcnow()
    async with db.session() as s:
        await Tokens(s).add_access_token(
            AccessToken(
                jti="a1",
                client_id=client_id,
                user_id=user_id,
                code_id="code-row",
                family_id="fam",
                expires_at=now + timedelta(minutes=5),
            )
        )
        await Tokens(s).add_refresh_token(
            RefreshToken(
                id=new_id(),
                token_hash=lookup_hash("r1"),
                family_id="fam",
                client_id=client_id,
                user_id=user_id,
                scope="openid",
                code_id="code-row",
                auth_time=now,
                expires_at=now + timedelta(days=1),
            )
        )
        # a later rotation in the same family, no longer carrying the code id
        await Tokens(s).add_access_token(
            AccessToken(
                jti="a2",
                client_id=client_id,
                user_id=user_id,
                family_id="fam",
                expires_at=now + timedelta(minutes=5),
            )
        )
    async with db.session() as s:
        await Tokens(s).revoke_issued_from_code("code-row")
    async with db.session() as s:
        assert (await Tokens(s).access_token("a1")).revoked_at is not None
        assert (await Tokens(s).access_token("a2")).revoked_at is not None
        assert (await Tokens(s).refresh_token(lookup_hash("r1"))).revoked_at is not None


async def test_a_pending_authorization_completes_exactly_once(db):
    _, client_id = await seed(db)
    now = utcnow()
    async with db.session() as s:
        await PendingAuthorizations(s).add(
            PendingAuthorization(
                id="ticket-1", client_id=client_id, params={}, expires_at=now + timedelta(minutes=5)
            )
        )
    results = await race(db, lambda s: PendingAuthorizations(s).complete("ticket-1"))
    assert sum(results) == 1
    async with db.session() as s:
        assert await PendingAuthorizations(s).find_open("ticket-1") is None


async def test_an_expired_pending_authorization_is_not_found(db):
    _, client_id = await seed(db)
    async with db.session() as s:
        await PendingAuthorizations(s).add(
            PendingAuthorization(
                id="old", client_id=client_id, params={}, expires_at=utcnow() - timedelta(seconds=1)
            )
        )
    async with db.session() as s:
        assert await PendingAuthorizations(s).find_open("old") is None


async def test_a_client_assertion_jti_is_accepted_once(db):
    expires = utcnow() + timedelta(minutes=5)
    results = await race(db, lambda s: Assertions(s).first_use("jti-hash", "c", expires))
    assert sum(results) == 1


async def test_startup_rows_survive_every_worker_creating_them_at_once(db):
    # `serve --workers N` and several instances all ensure the system client at start;
    # a lost insert race must not crash a worker (Hypercorn then stops them all).
    from portico.protocol.first_party import SYSTEM_CLIENT_ID, ensure_system_client

    results = await race(db, ensure_system_client)
    assert {client.id for client in results} == {SYSTEM_CLIENT_ID}
