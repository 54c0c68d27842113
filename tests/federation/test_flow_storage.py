"""Upstream login flows in storage, on every database: consumed exactly once under
concurrency, sealed verifiers bound to their row, and cleaned up by maintenance."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portico.crypto.secretbox import SecretBox, SecretBoxError
from portico.crypto.tokens import lookup_hash, new_id
from portico.storage import maintenance
from portico.storage.db import Database
from portico.storage.models import IdentityProvider, UpstreamLoginFlow
from portico.storage.models.base import utcnow
from portico.storage.repositories.federation import UpstreamFlows


@pytest.fixture
async def db(migrated_database_url: str):
    database = Database(migrated_database_url)
    yield database
    await database.dispose()


async def _provider(db: Database) -> str:
    pid = new_id()
    async with db.session() as s:
        s.add(IdentityProvider(id=pid, slug="p" + pid[:8], display_name="P", kind="oidc",
                               issuer="https://idp.example", options={}, client_id="c",
                               scopes=["openid"], claim_mapping={}, email_domains=[]))
    return pid


async def _flow(db: Database, pid: str, state: str, *, expires_in: int = 600) -> None:
    now = utcnow()
    async with db.session() as s:
        await UpstreamFlows(s).add(UpstreamLoginFlow(
            id=new_id(), state_hash=lookup_hash(state), binding_hash=lookup_hash("b"),
            provider_id=pid, nonce="n", verifier_sealed="x", created_at=now,
            expires_at=now + timedelta(seconds=expires_in)))


async def test_twenty_concurrent_callbacks_consume_a_flow_once(db: Database):
    pid = await _provider(db)
    await _flow(db, pid, "state-1")

    async def take() -> bool:
        async def fn(s):
            return await UpstreamFlows(s).consume(lookup_hash("state-1"))

        return await db.run(fn) is not None

    results = await asyncio.gather(*(take() for _ in range(20)))
    assert results.count(True) == 1


async def test_an_expired_flow_cannot_be_consumed_and_maintenance_removes_it(db: Database):
    pid = await _provider(db)
    await _flow(db, pid, "old", expires_in=-1)
    await _flow(db, pid, "used")
    await _flow(db, pid, "live")
    async with db.session() as s:
        assert await UpstreamFlows(s).consume(lookup_hash("old")) is None
        assert await UpstreamFlows(s).consume(lookup_hash("used")) is not None
    counts = await maintenance.purge(db)
    assert counts["upstream_login_flows"] == 2
    async with db.session() as s:
        assert await s.scalar(select(func.count()).select_from(UpstreamLoginFlow)) == 1


def test_a_sealed_verifier_opens_only_in_its_own_row():
    box = SecretBox(b"k" * 32)
    sealed = box.seal(b"verifier", "upstream_login_flows:a:verifier")
    assert box.open(sealed, "upstream_login_flows:a:verifier") == b"verifier"
    with pytest.raises(SecretBoxError):
        box.open(sealed, "upstream_login_flows:b:verifier")
