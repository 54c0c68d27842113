"""Organizations and memberships as an admin sees them: every method is filtered by
the caller's ``OrgScope``, so a row of another organization is simply not found."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from portico.storage.models import Membership, Organization, User
from portico.storage.scope import OrgScope


class ScopedOrganizations:
    """Organizations, memberships and their rules' inputs, within a scope."""

    def __init__(self, session: AsyncSession, scope: OrgScope) -> None:
        self.session = session
        self.scope = scope

    async def get(self, org_id: str) -> Organization | None:
        if not self.scope.allows(org_id):
            return None
        return await self.session.get(Organization, org_id)

    async def by_ref(self, ref: str) -> Organization | None:
        """An organization by id or slug."""
        stmt = select(Organization).where(
            (Organization.id == ref) | (Organization.slug == ref),
            self.scope.clause(Organization.id),
        )
        return (await self.session.execute(stmt.limit(1))).scalar_one_or_none()

    async def lock(self, org_id: str) -> Organization | None:
        """The organization row, locked until the transaction ends.

        Every membership change takes this lock first, so two admins demoting each
        other at once are serialised and the last-admin rule sees the other's change
        (PostgreSQL and its distributed kin honour FOR UPDATE; SQLite's transactions
        are already serialised by ``BEGIN IMMEDIATE``).
        """
        if not self.scope.allows(org_id):
            return None
        stmt = select(Organization).where(Organization.id == org_id).with_for_update()
        return (
            await self.session.execute(stmt.execution_options(populate_existing=True))
        ).scalar_one_or_none()

    async def page(self, *, after: tuple[datetime, str] | None, limit: int,
                   query: str | None = None) -> list[Organization]:
        stmt = select(Organization).where(self.scope.clause(Organization.id))
        if query:
            from portico.storage.repositories.users import contains

            like = contains(query.lower())
            stmt = stmt.where(func.lower(Organization.name).like(like, escape="\\")
                              | Organization.slug.like(like, escape="\\"))
        if after is not None:
            stmt = stmt.where((Organization.created_at > after[0])
                              | ((Organization.created_at == after[0])
                                 & (Organization.id > after[1])))
        stmt = stmt.order_by(Organization.created_at, Organization.id).limit(limit)
        return list((await self.session.execute(stmt)).scalars())

    async def slug_taken(self, slug: str) -> bool:
        """Whether any organization (in scope or not) already uses ``slug``."""
        stmt = select(func.count()).select_from(Organization).where(Organization.slug == slug)
        return bool((await self.session.execute(stmt)).scalar_one())

    async def membership(self, org_id: str, user_id: str) -> Membership | None:
        if not self.scope.allows(org_id):
            return None
        stmt = select(Membership).where(Membership.org_id == org_id,
                                        Membership.user_id == user_id)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def members(self, org_id: str, *, after: tuple[datetime, int] | None = None,
                      limit: int = 200) -> list[tuple[Membership, User]]:
        if not self.scope.allows(org_id):
            return []
        stmt = (select(Membership, User).join(User, User.id == Membership.user_id)
                .where(Membership.org_id == org_id))
        if after is not None:
            stmt = stmt.where((Membership.created_at > after[0])
                              | ((Membership.created_at == after[0])
                                 & (Membership.id > after[1])))
        stmt = stmt.order_by(Membership.created_at, Membership.id).limit(limit)
        return [(m, u) for m, u in (await self.session.execute(stmt)).all()]

    async def admin_count(self, org_id: str) -> int:
        stmt = select(func.count()).select_from(Membership).where(
            Membership.org_id == org_id, Membership.role == "admin")
        return int((await self.session.execute(stmt)).scalar_one())

    async def member_count(self, org_id: str) -> int:
        stmt = select(func.count()).select_from(Membership).where(Membership.org_id == org_id)
        return int((await self.session.execute(stmt)).scalar_one())

    async def owner(self, org_id: str) -> Membership | None:
        stmt = select(Membership).where(Membership.org_id == org_id, Membership.is_owner)
        return (await self.session.execute(stmt.limit(1))).scalar_one_or_none()

    async def membership_count(self, user_id: str) -> int:
        """How many organizations ``user_id`` belongs to (all of them, not only in scope)."""
        stmt = select(func.count()).select_from(Membership).where(Membership.user_id == user_id)
        return int((await self.session.execute(stmt)).scalar_one())

    async def sole_members(self, org_id: str) -> int:
        """Members of ``org_id`` who belong to no other organization."""
        others = (select(Membership.user_id).where(Membership.org_id != org_id)).scalar_subquery()
        stmt = select(func.count()).select_from(Membership).where(
            Membership.org_id == org_id, Membership.user_id.not_in(others))
        return int((await self.session.execute(stmt)).scalar_one())

    async def add(self, org: Organization) -> Organization:
        self.session.add(org)
        await self.session.flush()
        return org

    async def add_member(self, org_id: str, user_id: str, role: str,
                         owner: bool = False) -> Membership:
        membership = Membership(user_id=user_id, org_id=org_id, role=role, is_owner=owner)
        self.session.add(membership)
        await self.session.flush()
        return membership

    async def delete(self, org: Organization) -> None:
        await self.session.delete(org)
        await self.session.flush()
