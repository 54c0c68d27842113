"""Who may administer which organizations.

An admin of an organization administers that organization only; the operator who
ran setup (``is_superadmin``) administers every one. Routes get an ``OrgScope`` from
here and hand it to the repositories, which filter by it.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portico.errors import Forbidden, ValidationFailed
from portico.storage.models import Membership, Organization, User
from portico.storage.repositories.orgs import ScopedOrganizations
from portico.storage.scope import OrgScope


async def admin_scope(session: AsyncSession, user: User) -> OrgScope | None:
    """The organizations ``user`` administers, or None when they administer none."""
    if user.is_superadmin:
        return OrgScope.everything()
    rows = await session.execute(
        select(Membership.org_id).where(Membership.user_id == user.id, Membership.role == "admin")
    )
    org_ids = frozenset(rows.scalars())
    return OrgScope(org_ids) if org_ids else None


async def require_admin(session: AsyncSession, user: User) -> OrgScope:
    """The caller's admin scope; ``Forbidden`` for people who administer nothing."""
    scope = await admin_scope(session, user)
    if scope is None:
        raise Forbidden("This needs the admin role in an organization.")
    return scope


def require_superadmin(user: User) -> None:
    """Instance-wide changes (authentication policy, signing keys, instance clients)."""
    if not user.is_superadmin:
        raise Forbidden("Only the instance's superadmin may do this.")


async def named_org(session: AsyncSession, scope: OrgScope, ref: str) -> Organization:
    """An organization named by id or slug: 403 when the caller does not administer it
    (whether or not it exists, so names cannot be probed), 400 for the superadmin when
    there is no such organization."""
    org = await ScopedOrganizations(session, scope).by_ref(ref.strip())
    if org is not None:
        return org
    if scope.is_global:
        raise ValidationFailed("unknown organization", {"organization": "no such organization"})
    raise Forbidden("You do not administer this organization.")
