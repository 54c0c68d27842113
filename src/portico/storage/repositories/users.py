"""Users, organizations and memberships; ``ScopedUsers`` is the admin's view of
accounts, filtered by the caller's ``OrgScope`` like every org-scoped query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, not_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from portico.crypto.tokens import new_id
from portico.storage.models import Membership, Organization, User
from portico.storage.scope import OrgScope

DEFAULT_ORG_SLUG = "default"


class Users:
    """Look-ups and writes of user rows."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, user_id: str) -> User | None:
        return await self.session.get(User, user_id)

    async def find_by_login(self, username_key: str, email: str) -> User | None:
        """The user whose normalised username or email matches."""
        stmt = select(User).where(or_(User.username_key == username_key, User.email == email))
        return (await self.session.execute(stmt.limit(1))).scalar_one_or_none()

    async def taken(self, username_key: str, email: str) -> tuple[bool, bool]:
        """Whether the username and the email are already used."""
        rows = (
            await self.session.execute(
                select(User.username_key, User.email).where(
                    or_(User.username_key == username_key, User.email == email)
                )
            )
        ).all()
        return (
            any(r.username_key == username_key for r in rows),
            any(r.email == email for r in rows),
        )

    async def add(self, user: User) -> User:
        self.session.add(user)
        await self.session.flush()
        return user

    async def list(self, limit: int = 100) -> list[User]:
        stmt = select(User).order_by(User.created_at).limit(limit)
        return list((await self.session.execute(stmt)).scalars())

    async def set_disabled(self, user_id: str, disabled: bool) -> bool:
        user = await self.get(user_id)
        if user is None:
            return False
        user.disabled = disabled
        return True

    async def admin_exists(self) -> bool:
        stmt = select(func.count()).select_from(Membership).where(Membership.role == "admin")
        return bool((await self.session.execute(stmt)).scalar_one())


class Organizations:
    """Organizations and who belongs to them."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_slug(self, slug: str) -> Organization | None:
        stmt = select(Organization).where(Organization.slug == slug)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def default(self) -> Organization:
        """The organization of single-tenant mode, created on first use."""
        org = await self.by_slug(DEFAULT_ORG_SLUG)
        if org is None:
            org = Organization(id=new_id(), slug=DEFAULT_ORG_SLUG, name="Default")
            self.session.add(org)
            await self.session.flush()
        return org

    async def add_member(
        self, org: Organization, user: User, role: str, owner: bool = False
    ) -> Membership:
        membership = Membership(user_id=user.id, org_id=org.id, role=role, is_owner=owner)
        self.session.add(membership)
        await self.session.flush()
        return membership

    async def memberships(self, user_id: str) -> list[tuple[Membership, Organization]]:
        stmt = (
            select(Membership, Organization)
            .join(Organization, Organization.id == Membership.org_id)
            .where(Membership.user_id == user_id)
            .order_by(Membership.created_at)
        )
        return [(m, o) for m, o in (await self.session.execute(stmt)).all()]


def contains(value: str) -> str:
    """A LIKE pattern matching ``value`` anywhere, its wildcards taken literally."""
    escaped = value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


@dataclass(frozen=True)
class UserFilter:
    """What an admin's user list is narrowed to; ``username`` is in comparison form
    (``username_key``) and ``email`` lowercased, both matched as substrings."""

    username: str | None = None
    email: str | None = None
    org_id: str | None = None
    role: str | None = None
    disabled: bool | None = None
    locked: bool | None = None


class ScopedUsers:
    """Accounts as an admin sees them: a person is visible when they belong to an
    organization in the scope (the superadmin sees everyone); memberships outside
    the scope are never listed."""

    def __init__(self, session: AsyncSession, scope: OrgScope) -> None:
        self.session = session
        self.scope = scope

    def _member_of_scope(self, org_id: str | None = None,
                         role: str | None = None) -> ColumnElement[bool]:
        conditions = [Membership.user_id == User.id, self.scope.clause(Membership.org_id)]
        if org_id is not None:
            conditions.append(Membership.org_id == org_id)
        if role is not None:
            conditions.append(Membership.role == role)
        return select(Membership.id).where(*conditions).exists()

    async def get(self, user_id: str) -> User | None:
        """The user, or None when missing or outside the scope."""
        stmt = select(User).where(User.id == user_id)
        if not self.scope.is_global:
            stmt = stmt.where(self._member_of_scope())
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def page(self, query: UserFilter, *, now: datetime,
                   after: tuple[datetime, str] | None, limit: int) -> list[User]:
        """Visible users matching ``query``, by (created_at, id), after the cursor."""
        stmt = select(User)
        if not self.scope.is_global or query.org_id is not None or query.role is not None:
            stmt = stmt.where(self._member_of_scope(query.org_id, query.role))
        if query.username:
            stmt = stmt.where(User.username_key.like(contains(query.username), escape="\\"))
        if query.email:
            stmt = stmt.where(User.email.like(contains(query.email), escape="\\"))
        if query.disabled is not None:
            stmt = stmt.where(User.disabled == query.disabled)
        if query.locked is True:
            stmt = stmt.where(User.locked_until > now)
        elif query.locked is False:
            stmt = stmt.where(or_(User.locked_until.is_(None), User.locked_until <= now))
        if after is not None:
            stmt = stmt.where((User.created_at > after[0])
                              | ((User.created_at == after[0]) & (User.id > after[1])))
        stmt = stmt.order_by(User.created_at, User.id).limit(limit)
        return list((await self.session.execute(stmt)).scalars())

    async def memberships(self, user_ids: list[str]
                          ) -> dict[str, list[tuple[Membership, Organization]]]:
        """Each user's memberships in the scope's organizations, oldest first."""
        found: dict[str, list[tuple[Membership, Organization]]] = {uid: [] for uid in user_ids}
        if not user_ids:
            return found
        stmt = (select(Membership, Organization)
                .join(Organization, Organization.id == Membership.org_id)
                .where(Membership.user_id.in_(user_ids), self.scope.clause(Membership.org_id))
                .order_by(Membership.created_at, Membership.id))
        for membership, org in (await self.session.execute(stmt)).all():
            found[membership.user_id].append((membership, org))
        return found

    async def outside_scope(self, user_id: str) -> int:
        """How many of the user's organizations the scope does not cover."""
        if self.scope.is_global:
            return 0
        stmt = select(func.count()).select_from(Membership).where(
            Membership.user_id == user_id, not_(self.scope.clause(Membership.org_id)))
        return int((await self.session.execute(stmt)).scalar_one())

    async def all_memberships(self, user_id: str) -> list[Membership]:
        """Every membership of the user, whatever the scope, by organization id (the
        order organization rows are locked in, so two deletions never deadlock)."""
        stmt = (select(Membership).where(Membership.user_id == user_id)
                .order_by(Membership.org_id)
                .execution_options(populate_existing=True))
        return list((await self.session.execute(stmt)).scalars())

    async def taken_by_others(self, user_id: str, username_key: str | None,
                              email: str | None) -> tuple[bool, bool]:
        """Whether another account already uses this username or email."""
        conditions = []
        if username_key is not None:
            conditions.append(User.username_key == username_key)
        if email is not None:
            conditions.append(User.email == email)
        if not conditions:
            return False, False
        rows = (await self.session.execute(
            select(User.username_key, User.email).where(or_(*conditions), User.id != user_id)
        )).all()
        return (
            username_key is not None and any(r.username_key == username_key for r in rows),
            email is not None and any(r.email == email for r in rows),
        )
