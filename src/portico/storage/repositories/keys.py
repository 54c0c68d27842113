"""Signing-key rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portico.storage.models import Lease, SigningKey
from portico.storage.models.base import utcnow

KEYRING_LOCK = "signing-keys"


class SigningKeys:
    """Keys by status; rotation is done by the key service in one transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def lock(self) -> None:
        """Serialise key changes across instances until this transaction ends.

        A no-op UPDATE of a fixed ``leases`` row takes its row lock, so instances
        starting together (or rotating together) check and create keys one after
        the other instead of each publishing its own "active" key. Plain row locks:
        portable to the PostgreSQL-compatible distributed engines.
        """
        touch = update(Lease).where(Lease.name == KEYRING_LOCK).values(holder=Lease.holder)
        if (await self.session.execute(touch)).rowcount:
            return
        try:
            async with self.session.begin_nested():
                self.session.add(Lease(name=KEYRING_LOCK, holder="keyring", expires_at=utcnow()))
        except IntegrityError:
            await self.session.execute(touch)  # another instance made it first: wait for it

    async def all(self) -> list[SigningKey]:
        stmt = select(SigningKey).order_by(SigningKey.alg, SigningKey.created_at)
        return list((await self.session.execute(stmt)).scalars())

    async def published(self, now: datetime | None = None) -> list[SigningKey]:
        """Keys that belong in /jwks: next, active, and retired ones not yet expired."""
        now = now or utcnow()
        stmt = (
            select(SigningKey)
            .where(or_(SigningKey.expires_at.is_(None), SigningKey.expires_at > now))
            .order_by(SigningKey.alg, SigningKey.created_at)
        )
        return list((await self.session.execute(stmt)).scalars())

    async def by_status(self, alg: str, status: str) -> list[SigningKey]:
        stmt = select(SigningKey).where(SigningKey.alg == alg, SigningKey.status == status)
        return list((await self.session.execute(stmt.order_by(SigningKey.created_at))).scalars())

    async def add(self, key: SigningKey) -> None:
        self.session.add(key)
        await self.session.flush()
