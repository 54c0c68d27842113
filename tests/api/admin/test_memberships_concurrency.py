"""The owner and last-admin rules under concurrent changes, on every database.

Each change locks the organization row first, so of two admins demoting each other
at the same moment exactly one wins and one admin always remains; ownership moves
while someone removes the new owner, and accounts are deleted in parallel, without
ever leaving an organization with no owner or no admin.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select

from portico.accounts.admin_users import delete_account
from portico.accounts.passwords import PasswordPolicy
from portico.accounts.users import create_user
from portico.errors import Conflict, Forbidden, PorticoError
from portico.orgs.memberships import (
    Actor,
    add_member,
    change_role,
    create_organization,
    remove_member,
    transfer_ownership,
)
from portico.storage.db import Database
from portico.storage.models import Membership, User
from portico.storage.scope import OrgScope

ROUNDS = 20


@dataclass
class Team:
    db: Database
    root: Actor
    people: dict[str, User]

    def actor(self, name: str, org_id: str) -> Actor:
        return Actor(self.people[name], OrgScope.of([org_id]))

    def id(self, name: str) -> str:
        return self.people[name].id


@pytest.fixture
async def team(migrated_database_url: str) -> AsyncIterator[Team]:
    """ann, bob, cat and dan, members of the default organization, and the superadmin."""
    db = Database(migrated_database_url)
    people = {}
    for name in ("root", "ann", "bob", "cat", "dan"):
        people[name] = await create_user(
            db, username=name, email=f"{name}@example.org", password="Correct-horse-1",
            policy=PasswordPolicy(), rounds=4, superadmin=name == "root")
    yield Team(db, Actor(people["root"], OrgScope.everything()), people)
    await db.dispose()


async def new_org(team: Team, name: str, owner: str | None, admins: list[str]) -> str:
    org = await create_organization(team.db, team.root, name=name, slug=None,
                                    owner_id=team.id(owner) if owner else None)
    for person in admins:
        await add_member(team.db, team.root, org.id, team.id(person), "admin")
    return org.id


async def both(first: Awaitable[Any], second: Awaitable[Any]) -> list[Any]:
    """Run two changes at the same moment; each result is a value or its error."""
    return list(await asyncio.gather(first, second, return_exceptions=True))


def won(results: list[Any]) -> list[bool]:
    for result in results:
        if isinstance(result, BaseException) and not isinstance(result, PorticoError):
            raise result
    return [not isinstance(r, BaseException) for r in results]


async def memberships(team: Team, org_id: str) -> list[Membership]:
    async with team.db.session() as session:
        rows = await session.execute(select(Membership).where(Membership.org_id == org_id))
        return list(rows.scalars())


async def assert_sound(team: Team, org_id: str, *, owned: bool = True) -> list[Membership]:
    """At least one admin; exactly one owner (when the organization has one), an admin."""
    rows = await memberships(team, org_id)
    assert [m for m in rows if m.role == "admin"], rows
    owners = [m for m in rows if m.is_owner]
    assert len(owners) == (1 if owned else 0), owners
    assert all(m.role == "admin" for m in owners)
    return rows


async def test_two_admins_demoting_each_other_leave_exactly_one(team: Team):
    org = await new_org(team, "Pair", None, ["ann", "bob"])
    for _ in range(ROUNDS):
        results = await both(
            change_role(team.db, team.actor("ann", org), org, team.id("bob"), "member"),
            change_role(team.db, team.actor("bob", org), org, team.id("ann"), "member"))
        assert won(results).count(True) == 1, results
        assert all(isinstance(r, Conflict) for r in results if isinstance(r, BaseException))
        rows = await assert_sound(team, org, owned=False)
        admins = [m.user_id for m in rows if m.role == "admin"]
        assert len(admins) == 1
        demoted = team.id("ann") if admins == [team.id("bob")] else team.id("bob")
        await change_role(team.db, team.root, org, demoted, "admin")


async def test_two_admins_removing_each_other_leave_exactly_one(team: Team):
    org = await new_org(team, "Pair", None, ["ann", "bob"])
    for _ in range(ROUNDS):
        results = await both(
            remove_member(team.db, team.actor("ann", org), org, team.id("bob")),
            remove_member(team.db, team.actor("bob", org), org, team.id("ann")))
        assert won(results).count(True) == 1, results
        rows = await assert_sound(team, org, owned=False)
        assert len(rows) == 1
        gone = team.id("ann") if rows[0].user_id == team.id("bob") else team.id("bob")
        await add_member(team.db, team.root, org, gone, "admin")


async def test_transfer_and_removal_of_the_new_owner_never_both_win(team: Team):
    org = await new_org(team, "Handover", "ann", ["bob"])
    for _ in range(ROUNDS):
        results = await both(
            transfer_ownership(team.db, team.actor("ann", org), org, team.id("bob")),
            remove_member(team.db, team.actor("ann", org), org, team.id("bob")))
        transferred, removed = won(results)
        assert transferred != removed, results
        rows = await assert_sound(team, org)
        owner = next(m.user_id for m in rows if m.is_owner)
        if transferred:
            assert owner == team.id("bob") and isinstance(results[1], Conflict)
            await transfer_ownership(team.db, team.root, org, team.id("ann"))
        else:
            assert owner == team.id("ann") and team.id("bob") not in {m.user_id for m in rows}
            await add_member(team.db, team.root, org, team.id("bob"), "admin")


async def test_removing_the_owner_while_ownership_moves_keeps_one_owner(team: Team):
    org = await new_org(team, "Handover", "ann", ["bob"])
    for _ in range(ROUNDS):
        results = await both(
            transfer_ownership(team.db, team.actor("ann", org), org, team.id("bob")),
            remove_member(team.db, team.actor("bob", org), org, team.id("ann")))
        transferred, removed = won(results)
        assert transferred, results  # the owner may always hand over
        rows = await assert_sound(team, org)
        assert next(m.user_id for m in rows if m.is_owner) == team.id("bob")
        # The removal won only if it saw the transfer: ann was no longer the owner.
        assert removed == (team.id("ann") not in {m.user_id for m in rows})
        if removed:
            await add_member(team.db, team.root, org, team.id("ann"), "admin")
        else:
            assert isinstance(results[1], Conflict)
        await transfer_ownership(team.db, team.root, org, team.id("ann"))


async def test_two_transfers_at_once_leave_one_owner(team: Team):
    org = await new_org(team, "Contest", "ann", ["bob", "cat"])
    for _ in range(ROUNDS):
        results = await both(
            transfer_ownership(team.db, team.actor("ann", org), org, team.id("bob")),
            transfer_ownership(team.db, team.actor("ann", org), org, team.id("cat")))
        assert won(results).count(True) == 1, results
        assert all(isinstance(r, Forbidden) for r in results if isinstance(r, BaseException))
        await assert_sound(team, org)
        await transfer_ownership(team.db, team.root, org, team.id("ann"))


async def test_deleting_the_last_two_admins_at_once_deletes_one(team: Team):
    orgs = [await new_org(team, f"Doomed {n}", None, ["cat", "dan"]) for n in range(3)]
    results = await both(delete_account(team.db, team.root, team.id("cat")),
                         delete_account(team.db, team.root, team.id("dan")))
    assert won(results).count(True) == 1, results
    assert all(isinstance(r, Conflict) for r in results if isinstance(r, BaseException))
    for org in orgs:
        rows = await assert_sound(team, org, owned=False)
        assert len(rows) == 1
    async with team.db.session() as session:
        left = (await session.execute(select(User.username).where(
            User.username.in_(["cat", "dan"])))).scalars().all()
    assert len(left) == 1
