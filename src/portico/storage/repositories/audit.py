"""Audit events (append-only)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portico.storage.models import AuditEvent
from portico.storage.scope import OrgScope


@dataclass(frozen=True)
class AuditFilter:
    """What to read: every field narrows; ``action_prefix`` matches ``login.`` → ``login.*``.
    ``since`` and ``until`` are both inclusive."""

    actor_id: str | None = None
    org_id: str | None = None
    action: str | None = None
    action_prefix: str | None = None
    outcome: str | None = None
    since: datetime | None = None
    until: datetime | None = None


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

    async def page(self, scope: OrgScope, where: AuditFilter, *, before_id: int | None = None,
                   limit: int = 50) -> list[AuditEvent]:
        """Events visible in ``scope`` (events of no organization: a global scope only),
        newest first by id, starting below ``before_id``."""
        stmt = select(AuditEvent)
        if not scope.is_global:
            stmt = stmt.where(scope.clause(AuditEvent.org_id))
        if where.actor_id is not None:
            stmt = stmt.where(AuditEvent.actor_id == where.actor_id)
        if where.org_id is not None:
            stmt = stmt.where(AuditEvent.org_id == where.org_id)
        if where.action is not None:
            stmt = stmt.where(AuditEvent.action == where.action)
        if where.action_prefix:
            stmt = stmt.where(AuditEvent.action.startswith(where.action_prefix, autoescape=True))
        if where.outcome is not None:
            stmt = stmt.where(AuditEvent.outcome == where.outcome)
        if where.since is not None:
            stmt = stmt.where(AuditEvent.at >= where.since)
        if where.until is not None:
            stmt = stmt.where(AuditEvent.at <= where.until)
        if before_id is not None:
            stmt = stmt.where(AuditEvent.id < before_id)
        stmt = stmt.order_by(AuditEvent.id.desc()).limit(limit)
        return list((await self.session.execute(stmt)).scalars())
