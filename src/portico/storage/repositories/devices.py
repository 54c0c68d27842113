"""Device authorizations (RFC 8628): created at the device authorization endpoint,
decided on the ``/device`` page, polled and redeemed at the token endpoint.

Every change of ``status`` is a conditional UPDATE on the status it leaves
(pending → approved | denied, approved → issued), so two pages deciding at once or
two devices polling at once cannot both win. Polls are counted with a
compare-and-set on ``last_polled_at`` for the same reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portico.storage.models import DeviceAuthorization
from portico.storage.models.base import utcnow

PENDING = "pending"
APPROVED = "approved"
DENIED = "denied"
ISSUED = "issued"


@dataclass(frozen=True)
class Decision:
    """Who approved a request, from which browser session, acting in which organization."""

    user_id: str
    session_id: str
    org_id: str | None
    auth_time: datetime
    acr: str | None
    amr: list[str]


class DeviceAuthorizations:
    """Rows of ``device_authorizations``; secrets are looked up by hash only."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: DeviceAuthorization) -> bool:
        """Insert ``row``; False when its user code collides with a stored one (the caller
        draws another code)."""
        try:
            async with self.session.begin_nested():
                self.session.add(row)
        except IntegrityError:
            return False
        return True

    async def by_device_code(self, device_code_hash: str) -> DeviceAuthorization | None:
        stmt = select(DeviceAuthorization).where(
            DeviceAuthorization.device_code_hash == device_code_hash)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def pending_by_user_code(
        self, user_code: str, now: datetime | None = None
    ) -> DeviceAuthorization | None:
        """The undecided, unexpired request shown under ``user_code``."""
        stmt = select(DeviceAuthorization).where(
            DeviceAuthorization.user_code == user_code,
            DeviceAuthorization.status == PENDING,
            DeviceAuthorization.expires_at > (now or utcnow()),
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def by_user_code(self, user_code: str) -> DeviceAuthorization | None:
        """The stored request under ``user_code`` whatever its state (to say why it is not
        usable any more)."""
        stmt = select(DeviceAuthorization).where(DeviceAuthorization.user_code == user_code)
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def decide(
        self, row_id: str, approved: Decision | None, now: datetime | None = None
    ) -> bool:
        """Approve (with ``approved``) or deny (None) a pending, unexpired request once;
        False when it was decided, or expired, meanwhile."""
        now = now or utcnow()
        values: dict[str, object] = {"status": DENIED, "decided_at": now}
        if approved is not None:
            values.update(
                status=APPROVED,
                user_id=approved.user_id,
                session_id=approved.session_id,
                org_id=approved.org_id,
                auth_time=approved.auth_time,
                acr=approved.acr,
                amr=list(approved.amr),
            )
        result = await self.session.execute(
            update(DeviceAuthorization)
            .where(
                DeviceAuthorization.id == row_id,
                DeviceAuthorization.status == PENDING,
                DeviceAuthorization.expires_at > now,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)

    async def record_poll(
        self, row: DeviceAuthorization, now: datetime, interval: int
    ) -> bool:
        """Record a poll at ``now`` (and the polling ``interval`` now required) if no other
        poll was recorded since ``row`` was read; False when one was (a concurrent poll)."""
        previous = row.last_polled_at
        seen = (DeviceAuthorization.last_polled_at.is_(None) if previous is None
                else DeviceAuthorization.last_polled_at == previous)
        result = await self.session.execute(
            update(DeviceAuthorization)
            .where(DeviceAuthorization.id == row.id, seen)
            .values(last_polled_at=now, interval=interval)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)

    async def mark_issued(
        self, row_id: str, now: datetime | None = None
    ) -> DeviceAuthorization | None:
        """Consume an approved request for token issuance; None for every caller but the
        first (RFC 8628 §3.5: the device code is redeemed once)."""
        stmt = (
            update(DeviceAuthorization)
            .where(DeviceAuthorization.id == row_id, DeviceAuthorization.status == APPROVED)
            .values(status=ISSUED, issued_at=now or utcnow())
            .returning(DeviceAuthorization)
            .execution_options(synchronize_session=False)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()
