"""Pending authorization requests (login / consent in progress)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portico.storage.models import PendingAuthorization
from portico.storage.models.base import utcnow


class PendingAuthorizations:
    """Parked /authorize requests; completion is atomic and once only."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: PendingAuthorization) -> PendingAuthorization:
        self.session.add(row)
        await self.session.flush()
        return row

    async def find_open(self, pending_id: str) -> PendingAuthorization | None:
        """The pending request if it is neither completed nor expired."""
        if not pending_id or len(pending_id) > 64:
            return None
        stmt = select(PendingAuthorization).where(
            PendingAuthorization.id == pending_id,
            PendingAuthorization.completed_at.is_(None),
            PendingAuthorization.expires_at > utcnow(),
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def record_login(self, pending_id: str, session_id: str) -> None:
        await self.session.execute(
            update(PendingAuthorization)
            .where(PendingAuthorization.id == pending_id)
            .values(login_session_id=session_id)
        )

    async def record_consent(self, pending_id: str) -> None:
        await self.session.execute(
            update(PendingAuthorization)
            .where(PendingAuthorization.id == pending_id)
            .values(consented_at=utcnow())
        )

    async def record_denial(self, pending_id: str) -> None:
        await self.session.execute(
            update(PendingAuthorization)
            .where(PendingAuthorization.id == pending_id)
            .values(denied_at=utcnow())
        )

    async def complete(self, pending_id: str) -> bool:
        """Mark done; False when another request completed it first."""
        result = await self.session.execute(
            update(PendingAuthorization)
            .where(
                PendingAuthorization.id == pending_id,
                PendingAuthorization.completed_at.is_(None),
            )
            .values(completed_at=utcnow())
        )
        return bool(result.rowcount)
