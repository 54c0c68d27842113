"""Audit events (append-only)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portico.storage.models import AuditEvent


class AuditLog:
    """Append and read audit events."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def append(self, event: AuditEvent) -> None:
        self.session.add(event)
        await self.session.flush()

    async def recent(self, limit: int = 50, action: str | None = None) -> list[AuditEvent]:
        stmt = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
        if action:
            stmt = stmt.where(AuditEvent.action == action)
        return list((await self.session.execute(stmt)).scalars())
