"""Invitations in storage, on every database: one invite is accepted exactly once
however many people race for it, concurrent invitations of one address leave exactly
one pending invite (the unique ``pending_key``, not luck), and maintenance removes
finished invites once their retention has passed."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from portico.accounts.passwords import PasswordPolicy
from portico.accounts.users import create_user
from portico.crypto.secretbox import SecretBox
from portico.crypto.tokens import lookup_hash
from portico.errors import Conflict
from portico.orgs.invites import (
    InviteConfig,
    InviteUnavailable,
    accept_as_user,
    accept_with_new_account,
    create_invite,
)
from portico.orgs.memberships import insert_organization
from portico.storage import maintenance
from portico.storage.db import Database
from portico.storage.models import Invite, Membership, Organization, User
from portico.storage.models.base import utcnow
from portico.storage.repositories.invites import Invites

RACERS = 8
PASSWORD = "Correct-horse-1"
POLICY = PasswordPolicy()


@pytest.fixture
def cfg() -> InviteConfig:
    return InviteConfig(SecretBox(b"k" * 32), "https://id.example", 3600)


async def new_org(db: Database, slug: str = "acme") -> Organization:
    async with db.session() as session:
        return await insert_organization(session, name=slug.title(), slug=slug, owner=None)


async def token_for(db: Database, cfg: InviteConfig, email: str = "new@example.org") -> str:
    made = await create_invite(db, cfg, None, await new_org(db), email, "member")
    return made.link.rsplit("/", 1)[1]


async def count(db: Database, model: type, *where: object) -> int:
    async with db.session() as session:
        stmt = select(func.count()).select_from(model).where(*where)
        return int((await session.execute(stmt)).scalar_one())


async def test_one_invite_makes_exactly_one_account(db: Database, cfg: InviteConfig):
    token = await token_for(db, cfg)

    async def register(n: int) -> object:
        try:
            return await accept_with_new_account(db, token, username=f"racer{n}",
                                                 password=PASSWORD, name=None, policy=POLICY,
                                                 rounds=4)
        except (InviteUnavailable, Conflict) as exc:
            return exc

    results = await asyncio.gather(*(register(n) for n in range(RACERS)))
    winners = [r for r in results if not isinstance(r, Exception)]
    losers = [r for r in results if isinstance(r, Exception)]
    assert len(winners) == 1, results
    # A loser either found the invite used, or (having checked before the winner
    # committed) lost the race for the invited email: never a second account.
    assert all(isinstance(r, InviteUnavailable) and r.state == "accepted"
               or isinstance(r, Conflict) for r in losers), losers
    assert await count(db, User) == 1
    assert await count(db, Membership) == 1
    assert await count(db, Invite, Invite.accepted_at.is_not(None)) == 1


async def test_existing_members_racing_for_one_invite_join_once(db: Database,
                                                                cfg: InviteConfig):
    token = await token_for(db, cfg, "dora@example.org")
    dora = await create_user(db, username="dora", email="dora@example.org", password=PASSWORD,
                             policy=POLICY, rounds=4, new_org_name="Dora's")

    async def accept() -> object:
        try:
            return await accept_as_user(db, token, dora)
        except (InviteUnavailable, Conflict) as exc:
            return exc

    results = await asyncio.gather(*(accept() for _ in range(RACERS)))
    assert sum(not isinstance(r, Exception) for r in results) == 1, results
    assert await count(db, Membership, Membership.user_id == dora.id) == 2


async def test_concurrent_invitations_of_one_address_leave_one_pending(db: Database,
                                                                       cfg: InviteConfig):
    org = await new_org(db)

    async def invite() -> object:
        try:
            return await create_invite(db, cfg, None, org, "same@example.org", "member")
        except Conflict as exc:
            return exc

    results = await asyncio.gather(*(invite() for _ in range(RACERS)))
    assert sum(not isinstance(r, Exception) for r in results) == 1, results
    assert all(r.fields == {"email": "already has a pending invite"}
               for r in results if isinstance(r, Conflict))
    assert await count(db, Invite) == 1


async def test_consume_is_single_use_at_the_row_level(db: Database, cfg: InviteConfig):
    token = await token_for(db, cfg)

    async def consume() -> bool:
        async with db.session() as session:
            return await Invites(session).consume(lookup_hash(token), utcnow()) is not None

    assert sum(await asyncio.gather(*(consume() for _ in range(RACERS * 2)))) == 1


async def test_an_expired_invite_is_released_for_a_new_one_once(db: Database,
                                                                cfg: InviteConfig):
    org = await new_org(db)
    old = await create_invite(db, cfg, None, org, "late@example.org", "member")
    async with db.session() as session:
        row = await session.get(Invite, old.invite.id)
        row.expires_at = utcnow() - timedelta(seconds=1)

    async def invite() -> object:
        try:
            return await create_invite(db, cfg, None, org, "late@example.org", "admin")
        except Conflict as exc:
            return exc

    results = await asyncio.gather(*(invite() for _ in range(RACERS)))
    assert sum(not isinstance(r, Exception) for r in results) == 1, results
    assert await count(db, Invite, Invite.pending_key.is_not(None)) == 1
    assert await count(db, Invite) == 2


async def test_maintenance_removes_invites_finished_longer_ago_than_the_retention(
        db: Database, cfg: InviteConfig):
    org = await new_org(db)
    now = utcnow()
    old, recent = now - timedelta(days=8), now - timedelta(days=1)
    states = {
        "pending": {},
        "expired-recently": {"expires_at": recent},
        "expired-long-ago": {"expires_at": old},
        "accepted-recently": {"accepted_at": recent},
        "accepted-long-ago": {"accepted_at": old},
        "cancelled-long-ago": {"cancelled_at": old},
    }
    ids = {}
    for name, values in states.items():
        made = await create_invite(db, cfg, None, org, f"{name}@example.org", "member")
        ids[name] = made.invite.id
        async with db.session() as session:
            row = await session.get(Invite, made.invite.id)
            for column, value in values.items():
                setattr(row, column, value)
            if values:
                row.pending_key = None

    counts = await maintenance.purge(db, retention=maintenance.Retention(timedelta(days=7)))
    assert counts["invites"] == 3
    async with db.session() as session:
        left = set((await session.execute(select(Invite.id))).scalars())
    assert left == {ids["pending"], ids["expired-recently"], ids["accepted-recently"]}
    counts = await maintenance.purge(db, retention=maintenance.Retention(timedelta(0)))
    assert counts["invites"] == 2
