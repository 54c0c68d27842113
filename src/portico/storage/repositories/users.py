"""Users, organizations and memberships."""

from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from portico.crypto.tokens import new_id
from portico.storage.models import Membership, Organization, User

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
