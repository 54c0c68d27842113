"""Organizations and the roles people hold in them: the rules live here, once.

* Roles are ``admin`` and ``member`` per organization.
* The owner cannot be removed or downgraded; ownership moves only by transfer.
* At least one admin always remains.
* Every user belongs to at least one organization.

Each change locks the organization row first (``ScopedOrganizations.lock``) and then
reads the counts the rules need, so concurrent changes on any number of instances are
serialised per organization and can never leave it without an admin.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portico.audit.recorder import record
from portico.crypto.tokens import new_id
from portico.errors import Conflict, Forbidden, NotFound, ValidationFailed
from portico.storage.db import Database
from portico.storage.models import Membership, Organization, User
from portico.storage.repositories.orgs import ScopedOrganizations
from portico.storage.scope import OrgScope

ROLES = ("admin", "member")
# Control, surrogate, private-use and unassigned code points (format marks such as the
# zero-width joiner of emoji sequences stay allowed).
UNPRINTABLE = frozenset({"Cc", "Cs", "Co", "Cn"})
SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


@dataclass(frozen=True)
class Actor:
    """Who makes a change, for the rules (superadmin or not) and the audit log."""

    user: User
    scope: OrgScope
    ip: str | None = None


def check_role(role: str) -> str:
    if role not in ROLES:
        raise ValidationFailed("invalid role", {"role": "admin or member"})
    return role


def check_slug(slug: str) -> str:
    value = slug.strip().lower()
    if not SLUG_RE.match(value):
        raise ValidationFailed(
            "invalid slug",
            {"slug": "1 to 64 of a-z, 0-9 and '-', not starting or ending with '-'"})
    return value


def check_name(name: str) -> str:
    value = unicodedata.normalize("NFKC", name.strip())
    if not 1 <= len(value) <= 200 or any(
            unicodedata.category(c) in UNPRINTABLE for c in value):
        raise ValidationFailed("invalid name", {"name": "1 to 200 printable characters"})
    return value


def slug_from(text: str) -> str:
    """A slug suggestion from a name: ASCII-folded, lowercase, dashes."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    slug = re.sub(r"[^a-z0-9]+", "-", folded).strip("-")[:56].strip("-")
    return slug or "org"


async def free_slug(orgs: ScopedOrganizations, base: str) -> str:
    """``base``, or ``base-2``, ``base-3``… whichever is not taken yet."""
    candidate, n = base, 1
    while await orgs.slug_taken(candidate):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


async def insert_organization(session: AsyncSession, *, name: str, slug: str | None,
                              owner: User | None) -> Organization:
    """A new organization (and its owner's admin membership) inside the caller's
    transaction; a taken slug is a 409 naming ``slug`` when one was asked for."""
    orgs = ScopedOrganizations(session, OrgScope.everything())
    clean_name = check_name(name)
    if slug is None:
        chosen = await free_slug(orgs, slug_from(clean_name))
    else:
        chosen = check_slug(slug)
        if await orgs.slug_taken(chosen):
            raise Conflict("the slug is taken", fields={"slug": "already taken"})
    org = Organization(id=new_id(), slug=chosen, name=clean_name, settings={})
    try:
        async with session.begin_nested():
            await orgs.add(org)
    except IntegrityError:
        raise Conflict("the slug is taken", fields={"slug": "already taken"}) from None
    if owner is not None:
        await orgs.add_member(org.id, owner.id, "admin", owner=True)
    return org


async def create_organization(db: Database, actor: Actor, *, name: str, slug: str | None,
                              owner_id: str | None, settings: dict[str, Any] | None = None
                              ) -> Organization:
    """An organization made by the superadmin; ``owner_id`` becomes its owner and admin."""
    if not actor.scope.is_global:
        raise Forbidden("Only the instance's superadmin may create organizations.")

    async def write(session: AsyncSession) -> Organization:
        owner = None
        if owner_id is not None:
            owner = await session.get(User, owner_id)
            if owner is None:
                raise ValidationFailed("unknown user", {"owner_id": "no such user"})
        org = await insert_organization(session, name=name, slug=slug, owner=owner)
        org.settings = dict(settings or {})
        await record(session, "org.created", actor_id=actor.user.id, org_id=org.id,
                     target=f"org:{org.id}", ip=actor.ip, slug=org.slug,
                     owner=f"user:{owner_id}" if owner_id else None)
        return org

    return await db.run(write)


async def update_organization(db: Database, actor: Actor, org_id: str, *,
                              name: str | None = None, slug: str | None = None,
                              settings: dict[str, Any] | None = None) -> Organization:
    """Rename, re-slug or change the settings of an organization the caller administers."""

    async def write(session: AsyncSession) -> Organization:
        orgs = ScopedOrganizations(session, actor.scope)
        org = await orgs.lock(org_id)
        if org is None:
            raise NotFound("No such organization.")
        changed: list[str] = []
        if name is not None and check_name(name) != org.name:
            org.name = check_name(name)
            changed.append("name")
        if slug is not None and check_slug(slug) != org.slug:
            new_slug = check_slug(slug)
            if await orgs.slug_taken(new_slug):
                raise Conflict("the slug is taken", fields={"slug": "already taken"})
            org.slug = new_slug
            changed.append("slug")
        if settings is not None and settings != org.settings:
            org.settings = dict(settings)
            changed.append("settings")
        try:
            async with session.begin_nested():
                await session.flush()
        except IntegrityError:
            raise Conflict("the slug is taken", fields={"slug": "already taken"}) from None
        if changed:
            await record(session, "org.updated", actor_id=actor.user.id, org_id=org.id,
                         target=f"org:{org.id}", ip=actor.ip, changed=changed)
        return org

    return await db.run(write)


async def delete_organization(db: Database, actor: Actor, org_id: str) -> None:
    """Delete an organization with its memberships, clients and invites (superadmin).

    Refused (409) while someone belongs to it and to no other organization: every
    user belongs to at least one, so those people must move or be deleted first.
    """
    if not actor.scope.is_global:
        raise Forbidden("Only the instance's superadmin may delete organizations.")

    async def write(session: AsyncSession) -> None:
        orgs = ScopedOrganizations(session, actor.scope)
        org = await orgs.lock(org_id)
        if org is None:
            raise NotFound("No such organization.")
        stranded = await orgs.sole_members(org_id)
        if stranded:
            raise Conflict(f"{stranded} member(s) belong to no other organization: "
                           "move or delete them first.")
        await record(session, "org.deleted", actor_id=actor.user.id, org_id=org.id,
                     target=f"org:{org.id}", ip=actor.ip, slug=org.slug)
        await orgs.delete(org)

    await db.run(write)


async def _visible_user(session: AsyncSession, scope: OrgScope, user_id: str) -> User | None:
    """A user the scope may see: a member of one of its organizations (any, if global)."""
    user = await session.get(User, user_id)
    if user is None or scope.is_global:
        return user
    found = await session.execute(
        select(Membership.id).where(Membership.user_id == user_id,
                                    scope.clause(Membership.org_id)).limit(1))
    return user if found.first() is not None else None


async def add_member(db: Database, actor: Actor, org_id: str, user_id: str,
                     role: str) -> Membership:
    """Put an existing person in an organization. An organization admin may only add
    people already visible to them (members of another organization they administer);
    anyone else joins by invite."""
    check_role(role)

    async def write(session: AsyncSession) -> Membership:
        orgs = ScopedOrganizations(session, actor.scope)
        if await orgs.lock(org_id) is None:
            raise NotFound("No such organization.")
        user = await _visible_user(session, actor.scope, user_id)
        if user is None:
            raise ValidationFailed("unknown user", {"user_id": "no such user"})
        if await orgs.membership(org_id, user_id) is not None:
            raise Conflict("already a member", fields={"user_id": "already a member"})
        membership = await orgs.add_member(org_id, user_id, role)
        await record(session, "membership.added", actor_id=actor.user.id, org_id=org_id,
                     target=f"user:{user_id}", ip=actor.ip, role=role)
        return membership

    return await db.run(write)


async def change_role(db: Database, actor: Actor, org_id: str, user_id: str,
                      role: str) -> Membership:
    """Promote or demote; the owner stays admin and the last admin cannot be demoted."""
    check_role(role)

    async def write(session: AsyncSession) -> Membership:
        orgs = ScopedOrganizations(session, actor.scope)
        if await orgs.lock(org_id) is None:
            raise NotFound("No such organization.")
        membership = await orgs.membership(org_id, user_id)
        if membership is None:
            raise NotFound("No such member.")
        if membership.role == role:
            return membership
        if membership.is_owner:
            raise Conflict("The owner is always an admin: transfer ownership first.")
        if membership.role == "admin" and await orgs.admin_count(org_id) <= 1:
            raise Conflict("An organization keeps at least one admin.")
        before, membership.role = membership.role, role
        await session.flush()
        await record(session, "membership.role_changed", actor_id=actor.user.id, org_id=org_id,
                     target=f"user:{user_id}", ip=actor.ip, before=before, after=role)
        return membership

    return await db.run(write)


async def remove_member(db: Database, actor: Actor, org_id: str, user_id: str) -> None:
    """Take someone out of an organization: never the owner, never the last admin,
    never their only organization (delete the account instead)."""

    async def write(session: AsyncSession) -> None:
        orgs = ScopedOrganizations(session, actor.scope)
        if await orgs.lock(org_id) is None:
            raise NotFound("No such organization.")
        membership = await orgs.membership(org_id, user_id)
        if membership is None:
            raise NotFound("No such member.")
        if membership.is_owner:
            raise Conflict("The owner cannot be removed: transfer ownership first.")
        if membership.role == "admin" and await orgs.admin_count(org_id) <= 1:
            raise Conflict("An organization keeps at least one admin.")
        if await orgs.membership_count(user_id) <= 1:
            raise Conflict("This is the person's only organization: delete the account instead.")
        await session.delete(membership)
        await session.flush()
        await record(session, "membership.removed", actor_id=actor.user.id, org_id=org_id,
                     target=f"user:{user_id}", ip=actor.ip, role=membership.role)

    await db.run(write)


async def transfer_ownership(db: Database, actor: Actor, org_id: str,
                             new_owner_id: str) -> Membership:
    """Make another member the owner (and an admin). Only the current owner or the
    superadmin may; the previous owner stays an admin."""

    async def write(session: AsyncSession) -> Membership:
        orgs = ScopedOrganizations(session, actor.scope)
        if await orgs.lock(org_id) is None:
            raise NotFound("No such organization.")
        current = await orgs.owner(org_id)
        if not actor.scope.is_global and (current is None or current.user_id != actor.user.id):
            raise Forbidden("Only the owner (or the superadmin) can transfer ownership.")
        target = await orgs.membership(org_id, new_owner_id)
        if target is None:
            raise ValidationFailed("not a member", {"user_id": "must be a member first"})
        if current is not None and current.id == target.id:
            return target
        if current is not None:
            current.is_owner = False
            current.role = "admin"
        target.is_owner, target.role = True, "admin"
        await session.flush()
        await record(session, "org.ownership_transferred", actor_id=actor.user.id,
                     org_id=org_id, target=f"user:{new_owner_id}", ip=actor.ip,
                     previous=f"user:{current.user_id}" if current else None)
        return target

    return await db.run(write)
