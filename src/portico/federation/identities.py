"""A person's linked upstream identities: listing and unlinking, never removing the
last way they have to sign in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portico.audit.recorder import record
from portico.errors import Conflict, NotFound
from portico.storage.db import Database
from portico.storage.models import FederatedIdentity, IdentityProvider, User
from portico.storage.repositories.federation import FederatedIdentities


@dataclass(frozen=True)
class LinkedIdentity:
    """One link as the account page shows it."""

    id: str
    provider_slug: str
    provider_name: str
    email: str | None
    created_at: datetime
    last_login_at: datetime | None


async def list_links(db: Database, user_id: str) -> list[LinkedIdentity]:
    async def read(session: AsyncSession) -> list[LinkedIdentity]:
        rows = await session.execute(
            select(FederatedIdentity, IdentityProvider)
            .join(IdentityProvider, IdentityProvider.id == FederatedIdentity.provider_id)
            .where(FederatedIdentity.user_id == user_id)
            .order_by(FederatedIdentity.created_at))
        return [LinkedIdentity(i.id, p.slug, p.display_name, i.email, i.created_at,
                               i.last_login_at) for i, p in rows.all()]

    return await db.run(read)


async def unlink(db: Database, user: User, identity_id: str, *, ip: str | None) -> None:
    """Remove one of the person's links; 409 when it is their only way in."""

    async def write(session: AsyncSession) -> None:
        # Lock the person first, so two concurrent unlinks cannot both take the last one.
        fresh = await session.scalar(
            select(User).where(User.id == user.id).with_for_update()
            .execution_options(populate_existing=True))
        repo = FederatedIdentities(session)
        links = await repo.of_user(user.id)
        found = next((i for i in links if i.id == identity_id), None)
        if found is None:
            raise NotFound("This link does not exist.")
        has_password = fresh is not None and fresh.password_hash is not None
        if not has_password and len(links) <= 1:
            raise Conflict("This is your only way to sign in. Link another provider "
                           "first, or ask an administrator to set a password.")
        await repo.remove(identity_id, user.id)
        await record(session, "federation.unlinked", actor_id=user.id, ip=ip,
                     target=f"user:{user.id}", provider_id=found.provider_id)

    await db.run(write)
