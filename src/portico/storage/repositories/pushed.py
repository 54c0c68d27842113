"""Pushed authorization requests (RFC 9126): stored once, consumed once."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from portico.storage.models import PushedAuthorizationRequest
from portico.storage.models.base import utcnow


class PushedRequests:
    """Validated requests waiting for the browser to bring their ``request_uri``."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: PushedAuthorizationRequest) -> None:
        self.session.add(row)
        await self.session.flush()

    async def consume(
        self, ref_hash: str, client_id: str, now: datetime | None = None
    ) -> PushedAuthorizationRequest | None:
        """The request behind ``ref_hash`` if it belongs to ``client_id``, is unexpired
        and unused — marking it used in the same conditional UPDATE, so two browsers
        presenting one ``request_uri`` cannot both proceed."""
        now = now or utcnow()
        stmt = (
            update(PushedAuthorizationRequest)
            .where(
                PushedAuthorizationRequest.ref_hash == ref_hash,
                PushedAuthorizationRequest.client_id == client_id,
                PushedAuthorizationRequest.used_at.is_(None),
                PushedAuthorizationRequest.expires_at > now,
            )
            .values(used_at=now)
            .returning(PushedAuthorizationRequest)
            .execution_options(synchronize_session=False)
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()
