"""``portico org create|list|show|members|add-member|set-role|remove-member|transfer``.

The host operator acts on every organization under the same rules as the admin API
(``orgs.memberships``: owner, last admin, only organization); audit events name no
actor. Organizations are named by slug (or id), people by username, email or id.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import click

from portico.accounts.admin_users import host_actor
from portico.cli.common import emit, run_with_services
from portico.cli.users import find_user
from portico.errors import NotFound
from portico.orgs import memberships as rules
from portico.services import Services
from portico.storage.models import Organization
from portico.storage.repositories.orgs import ScopedOrganizations
from portico.storage.repositories.users import Users
from portico.storage.scope import OrgScope

ROLE = click.Choice(["member", "admin"])
Change = Callable[[Services, Organization, str], Awaitable[str | None]]


@click.group()
def org() -> None:
    """Organizations and their members."""


async def find_org(svc: Services, ref: str) -> Organization:
    async with svc.db.session() as session:
        found = await ScopedOrganizations(session, OrgScope.everything()).by_ref(ref)
    if found is None:
        raise NotFound(f"no organization {ref}")
    return found


async def describe(svc: Services, org_id: str) -> dict[str, object]:
    """One organization with its counts and owner, as ``show`` and ``create`` print it."""
    async with svc.db.session() as session:
        orgs = ScopedOrganizations(session, OrgScope.everything())
        found = await orgs.get(org_id)
        if found is None:
            raise NotFound("no such organization")
        owner = await orgs.owner(org_id)
        owner_user = await Users(session).get(owner.user_id) if owner else None
        return {"id": found.id, "slug": found.slug, "name": found.name,
                "settings": found.settings or {}, "created_at": found.created_at.isoformat(),
                "member_count": await orgs.member_count(org_id),
                "admin_count": await orgs.admin_count(org_id),
                "owner": owner_user.username if owner_user else None}


def _summary(d: dict[str, object]) -> str:
    return (f"{d['slug']} ({d['id']}): {d['name']}, {d['member_count']} member(s), "
            f"{d['admin_count']} admin(s), owner {d['owner'] or '-'}")


@org.command("create")
@click.option("--name", required=True)
@click.option("--slug", default=None, help="Default: made from the name.")
@click.option("--owner", "owner_ref", default=None, metavar="USERNAME",
              help="Becomes the owner and an admin.")
@click.option("--json", "as_json", is_flag=True)
def org_create(name: str, slug: str | None, owner_ref: str | None, as_json: bool) -> None:
    """Create an organization."""

    async def work(svc: Services) -> dict[str, object]:
        owner = await find_user(svc, owner_ref) if owner_ref else None
        created = await rules.create_organization(svc.db, host_actor(), name=name, slug=slug,
                                                  owner_id=owner.id if owner else None)
        return await describe(svc, created.id)

    emit(run_with_services(work), as_json, lambda d: "created " + _summary(d))


@org.command("list")
@click.option("--json", "as_json", is_flag=True)
def org_list(as_json: bool) -> None:
    """List every organization, oldest first."""

    async def work(svc: Services) -> list[dict[str, object]]:
        rows: list[Organization] = []
        async with svc.db.session() as session:
            orgs = ScopedOrganizations(session, OrgScope.everything())
            while True:
                after = (rows[-1].created_at, rows[-1].id) if rows else None
                page = await orgs.page(after=after, limit=200)
                rows += page
                if len(page) < 200:
                    break
            return [{"id": o.id, "slug": o.slug, "name": o.name,
                     "member_count": await orgs.member_count(o.id)} for o in rows]

    emit(run_with_services(work), as_json, lambda rows: "\n".join(
        f"{r['id']}  {r['slug']:<24} {r['name']}  ({r['member_count']} members)" for r in rows)
        or "no organizations")


@org.command("show")
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True)
def org_show(slug: str, as_json: bool) -> None:
    """One organization: counts, owner and settings."""

    async def work(svc: Services) -> dict[str, object]:
        return await describe(svc, (await find_org(svc, slug)).id)

    emit(run_with_services(work), as_json, _summary)


@org.command("members")
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True)
def org_members(slug: str, as_json: bool) -> None:
    """The members of an organization, in the order they joined."""

    async def work(svc: Services) -> list[dict[str, object]]:
        found = await find_org(svc, slug)
        async with svc.db.session() as session:
            rows = await ScopedOrganizations(session, OrgScope.everything()).members(
                found.id, limit=100_000)
        return [{"user_id": u.id, "username": u.username, "email": u.email, "role": m.role,
                 "is_owner": m.is_owner, "disabled": u.disabled} for m, u in rows]

    emit(run_with_services(work), as_json, lambda rows: "\n".join(
        f"{r['user_id']}  {r['username']:<20} {r['role']}{' (owner)' if r['is_owner'] else ''}"
        for r in rows) or "no members")


def _membership_change(slug: str, username: str, as_json: bool, change: Change,
                       human: Callable[[dict[str, object]], str]) -> None:
    """Run ``change(svc, org, user_id)`` (it returns the role now held) and print it."""

    async def work(svc: Services) -> dict[str, object]:
        found, person = await find_org(svc, slug), await find_user(svc, username)
        role = await change(svc, found, person.id)
        return {"org": found.slug, "user_id": person.id, "username": person.username,
                "role": role}

    emit(run_with_services(work), as_json, human)


@org.command("add-member")
@click.argument("slug")
@click.option("--username", required=True, help="Username, email or id.")
@click.option("--role", type=ROLE, default="member", show_default=True)
@click.option("--json", "as_json", is_flag=True)
def org_add_member(slug: str, username: str, role: str, as_json: bool) -> None:
    """Put an existing user in an organization."""

    async def change(svc: Services, found: Organization, user_id: str) -> str:
        return (await rules.add_member(svc.db, host_actor(), found.id, user_id, role)).role

    _membership_change(slug, username, as_json, change,
                       lambda d: f"added {d['username']} to {d['org']} as {d['role']}")


@org.command("set-role")
@click.argument("slug")
@click.option("--username", required=True, help="Username, email or id.")
@click.option("--role", type=ROLE, required=True)
@click.option("--json", "as_json", is_flag=True)
def org_set_role(slug: str, username: str, role: str, as_json: bool) -> None:
    """Promote or demote (never the owner, never the last admin)."""

    async def change(svc: Services, found: Organization, user_id: str) -> str:
        return (await rules.change_role(svc.db, host_actor(), found.id, user_id, role)).role

    _membership_change(slug, username, as_json, change,
                       lambda d: f"{d['username']} is now {d['role']} in {d['org']}")


@org.command("remove-member")
@click.argument("slug")
@click.option("--username", required=True, help="Username, email or id.")
@click.option("--json", "as_json", is_flag=True)
def org_remove_member(slug: str, username: str, as_json: bool) -> None:
    """Take someone out (never the owner, the last admin, or their only organization)."""

    async def change(svc: Services, found: Organization, user_id: str) -> None:
        await rules.remove_member(svc.db, host_actor(), found.id, user_id)

    _membership_change(slug, username, as_json, change,
                       lambda d: f"removed {d['username']} from {d['org']}")


@org.command("transfer")
@click.argument("slug")
@click.option("--username", required=True, help="The member who becomes the owner.")
@click.option("--json", "as_json", is_flag=True)
def org_transfer(slug: str, username: str, as_json: bool) -> None:
    """Make another member the owner; the previous owner stays an admin."""

    async def change(svc: Services, found: Organization, user_id: str) -> str:
        return (await rules.transfer_ownership(svc.db, host_actor(), found.id, user_id)).role

    _membership_change(slug, username, as_json, change,
                       lambda d: f"{d['username']} now owns {d['org']}")


COMMANDS = [org]
