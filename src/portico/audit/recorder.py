"""Append audit events inside the caller's transaction, so an event and the change
it describes commit or roll back together."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portico.audit.redact import redact, scrub_text
from portico.http import metrics
from portico.storage.models import AuditEvent, Membership
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
    """Write one audit event; ``details``, ``target`` and ``user_agent`` are redacted.

    Without an explicit organization the actor's (first) organization is recorded, so
    every event a person causes can be filtered by organization.
    """
    if org_id is None and actor_id is not None:
        org_id = (
            await session.execute(
                select(Membership.org_id)
                .where(Membership.user_id == actor_id)
                .order_by(Membership.created_at)
                .limit(1)
            )
        ).scalar_one_or_none()
    await AuditLog(session).append(
        AuditEvent(
            action=action,
            outcome=outcome,
            actor_id=actor_id,
            org_id=org_id,
            # Free text that may echo input (a key or token pasted as the username...).
            target=scrub_text(target),
            ip=ip,
            user_agent=scrub_text((user_agent or "")[:300] or None),
            details=redact(details),
        )
    )
    # Logins and lockouts are metrics too; counted only if this transaction commits.
    metrics.audited(session, action, outcome, details)
