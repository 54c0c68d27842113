"""DPoP proof identifiers already accepted (RFC 9449 §11.1), shared by every instance."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portico.storage.models import DpopProof


class DpopProofs:
    """The replay cache: one row per accepted proof, kept until the proof expires."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def first_use(self, replay_key: str, expires_at: datetime) -> bool:
        """Record a proof; False when it was recorded before (a replay).

        The primary key settles a race between two instances: the second INSERT fails.
        A savepoint keeps that failure from aborting the caller's transaction.
        """
        if await self.session.get(DpopProof, replay_key) is not None:
            return False
        try:
            async with self.session.begin_nested():
                self.session.add(DpopProof(jti_hash=replay_key, expires_at=expires_at))
        except IntegrityError:
            return False
        return True
