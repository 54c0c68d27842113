"""Browser sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portico.storage.models import Session
from portico.storage.models.base import utcnow
from portico.storage.repositories.logout import SessionEnding


class Sessions:
    """Session rows, looked up by the SHA-256 of the cookie."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, row: Session) -> Session:
        self.session.add(row)
        await self.session.flush()
        return row

    async def find_live(self, token_hash: str, now: datetime | None = None) -> Session | None:
        """The unexpired, unrevoked session for this cookie hash."""
        now = now or utcnow()
        stmt = select(Session).where(
            Session.token_hash == token_hash,
            Session.revoked_at.is_(None),
            Session.expires_at > now,
        )
        return (await self.session.execute(stmt)).scalar_one_or_none()

    async def get(self, session_id: str) -> Session | None:
        return await self.session.get(Session, session_id)

    async def revoke(self, session_id: str) -> bool:
        result = await self.session.execute(
            update(Session)
            .where(Session.id == session_id, Session.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        if result.rowcount:
            # Logout notices for the clients of this session, in this transaction.
            await SessionEnding(self.session).record([session_id])
        return bool(result.rowcount)
