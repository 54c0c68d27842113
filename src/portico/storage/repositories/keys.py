"""Signing-key rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from portico.storage.models import SigningKey
from portico.storage.models.base import utcnow


class SigningKeys:
    """Keys by status; rotation is done by the key service in one transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

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
