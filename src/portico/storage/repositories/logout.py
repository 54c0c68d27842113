"""Which clients took part in a browser session, and the back-channel logout
notices owed to them once it ends.

``SessionEnding.record`` is the one thing every revocation of a browser session calls
(``Sessions.revoke`` and ``accounts.sessions.revoke_other_sessions``), inside the
revoking transaction: the notices commit or roll back with the revocation itself.

Delivery rows are claimed with a conditional UPDATE that moves ``next_attempt_at``
past a short lease, so two instances polling at once never send the same notice
twice, on SQLite, PostgreSQL and the PostgreSQL-compatible engines alike (no advisory
locks, no ``SKIP LOCKED``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import event, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portico.crypto.tokens import new_id
from portico.storage import upsert
from portico.storage.models import AccessToken, Client, LogoutDelivery, RefreshToken, SessionClient
from portico.storage.models.base import utcnow

OFFLINE_ACCESS = "offline_access"

# Called (without arguments) after a transaction that queued notices commits; the
# delivery worker of this process registers here to try them at once. Only a wake-up:
# the rows are the truth, and every instance's poll finds them anyway.
_on_queued: set[Callable[[], None]] = set()


def on_notices_queued(callback: Callable[[], None]) -> Callable[[], None]:
    """Register ``callback``; returns the function that unregisters it."""
    _on_queued.add(callback)
    return lambda: _on_queued.discard(callback)


def _wake_after_commit(session: AsyncSession) -> None:
    """Call the registered callbacks once this transaction commits (not on rollback)."""
    if session.info.get("logout_wake"):
        return
    session.info["logout_wake"] = True

    def wake(_session: object) -> None:
        session.info.pop("logout_wake", None)
        for callback in list(_on_queued):
            callback()

    event.listen(session.sync_session, "after_commit", wake, once=True)


class SessionClients:
    """Clients that received tokens or an ID token within a browser session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def join(self, session_id: str, client_id: str, user_id: str) -> None:
        """Record ``client_id`` in ``session_id``; idempotent (insert or ignore)."""
        values = {"session_id": session_id, "client_id": client_id, "user_id": user_id,
                  "created_at": utcnow()}
        await self.session.execute(
            upsert.insert(self.session, SessionClient).values(**values)
            .on_conflict_do_nothing(index_elements=["session_id", "client_id"]))

    async def clients_of(self, session_id: str) -> list[Client]:
        """The clients of one session, in the order they joined."""
        stmt = (select(Client).join(SessionClient, SessionClient.client_id == Client.id)
                .where(SessionClient.session_id == session_id)
                .order_by(SessionClient.created_at, Client.id))
        return list((await self.session.execute(stmt)).scalars())


class SessionEnding:
    """What ending browser sessions implies beyond the session rows themselves."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(self, session_ids: Sequence[str]) -> list[str]:
        """Queue a back-channel notice per participating client with a
        ``backchannel_logout_uri`` and revoke the sessions' online grants; returns
        the ids of the queued notices.

        Online grants are the access and refresh tokens issued in the session
        without ``offline_access``: OIDC Core §11 makes ``offline_access`` the
        request for access "even when the End-User is not logged in", and
        Back-Channel Logout 1.0 §2.7 says the others SHOULD be revoked at logout.
        """
        if not session_ids:
            return []
        ids = list(dict.fromkeys(session_ids))
        now = utcnow()
        for model in (AccessToken, RefreshToken):
            await self.session.execute(
                update(model)
                .where(model.session_id.in_(ids), model.revoked_at.is_(None),
                       ~model.scope.contains(OFFLINE_ACCESS))
                .values(revoked_at=now).execution_options(synchronize_session=False))
        stmt = (select(SessionClient.session_id, SessionClient.user_id, Client.id)
                .join(Client, Client.id == SessionClient.client_id)
                .where(SessionClient.session_id.in_(ids),
                       Client.backchannel_logout_uri.is_not(None))
                .order_by(SessionClient.created_at, Client.id))
        queued: list[str] = []
        for session_id, user_id, client_id in (await self.session.execute(stmt)).all():
            row = LogoutDelivery(id=new_id(), client_id=client_id, user_id=user_id,
                                 session_id=session_id, created_at=now, next_attempt_at=now)
            self.session.add(row)
            queued.append(row.id)
        if queued:
            await self.session.flush()
            _wake_after_commit(self.session)
        return queued


@dataclass(frozen=True)
class Claimed:
    """A notice this process won the right to send, with what signing it needs."""

    delivery: LogoutDelivery
    client: Client


class LogoutDeliveries:
    """Back-channel logout notices: due ones claimed, outcomes recorded."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def due(self, now: datetime, limit: int, only: Iterable[str] | None = None
                  ) -> list[tuple[str, datetime]]:
        """``(id, next_attempt_at)`` of pending notices whose time has come."""
        stmt = (select(LogoutDelivery.id, LogoutDelivery.next_attempt_at)
                .where(LogoutDelivery.delivered_at.is_(None),
                       LogoutDelivery.abandoned_at.is_(None),
                       LogoutDelivery.next_attempt_at <= now)
                .order_by(LogoutDelivery.next_attempt_at).limit(limit))
        if only is not None:
            stmt = stmt.where(LogoutDelivery.id.in_(list(only)))
        return [(i, t) for i, t in (await self.session.execute(stmt)).all()]

    async def claim(self, delivery_id: str, seen: datetime, lease: timedelta
                    ) -> Claimed | None:
        """Take one notice for ``lease`` (counting the attempt), if nobody else did
        since it was seen due; None when another process won it."""
        now = utcnow()
        result = await self.session.execute(
            update(LogoutDelivery)
            .where(LogoutDelivery.id == delivery_id, LogoutDelivery.next_attempt_at == seen,
                   LogoutDelivery.delivered_at.is_(None), LogoutDelivery.abandoned_at.is_(None))
            .values(next_attempt_at=now + lease, attempts=LogoutDelivery.attempts + 1)
            .execution_options(synchronize_session=False))
        if not result.rowcount:
            return None
        row = await self.session.get(LogoutDelivery, delivery_id, populate_existing=True)
        client = await self.session.get(Client, row.client_id) if row else None
        if row is None or client is None:
            return None
        return Claimed(row, client)

    async def delivered(self, delivery_id: str) -> None:
        await self.session.execute(
            update(LogoutDelivery).where(LogoutDelivery.id == delivery_id)
            .values(delivered_at=utcnow(), last_error=None)
            .execution_options(synchronize_session=False))

    async def failed(self, delivery_id: str, error: str, retry_at: datetime | None) -> None:
        """Record a failed attempt: try again at ``retry_at``, or give up (None)."""
        values: dict[str, object] = {"last_error": error[:500]}
        if retry_at is None:
            values["abandoned_at"] = utcnow()
        else:
            values["next_attempt_at"] = retry_at
        await self.session.execute(
            update(LogoutDelivery).where(LogoutDelivery.id == delivery_id).values(**values)
            .execution_options(synchronize_session=False))

    async def pending_for_session(self, session_id: str) -> list[str]:
        """Ids of the notices of one ended session not yet delivered or abandoned."""
        stmt = (select(LogoutDelivery.id)
                .where(LogoutDelivery.session_id == session_id,
                       LogoutDelivery.delivered_at.is_(None),
                       LogoutDelivery.abandoned_at.is_(None))
                .order_by(LogoutDelivery.created_at, LogoutDelivery.id))
        return list((await self.session.execute(stmt)).scalars())

    async def get(self, delivery_id: str) -> LogoutDelivery | None:
        return await self.session.get(LogoutDelivery, delivery_id, populate_existing=True)
