"""Append audit events inside the caller's transaction, so an event and the change
it describes commit or roll back together."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from portico.audit.redact import redact
from portico.storage.models import AuditEvent
from portico.storage.repositories.audit import AuditLog


async def record(
    session: AsyncSession,
    action: str,
    *,
    outcome: str = "success",
    actor_id: str | None = None,
    org_id: str | None = None,
    target: str | None = None,
    ip: str | None = None,
    user_agent: str | None = None,
    **details: Any,
) -> None:
    """Write one audit event; ``details`` are redacted before storage."""
    await AuditLog(session).append(
        AuditEvent(
            action=action,
            outcome=outcome,
            actor_id=actor_id,
            org_id=org_id,
            target=target,
            ip=ip,
            user_agent=(user_agent or "")[:300] or None,
            details=redact(details),
        )
    )
