"""Browser sessions: an opaque 256-bit cookie whose SHA-256 names a database row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from portico.audit.recorder import record
from portico.crypto.tokens import lookup_hash, new_id, random_token
from portico.errors import NotFound
from portico.storage.db import Database
from portico.storage.models import AccessToken, RefreshToken, Session, User
from portico.storage.models.base import utcnow
from portico.storage.repositories.logout import SessionEnding
from portico.storage.repositories.sessions import Sessions
from portico.storage.repositories.users import Users


@dataclass(frozen=True)
class StartedSession:
    """A new session and the cookie value that proves it (shown to the browser only)."""

    row: Session
    cookie: str


async def start_session(
    session: AsyncSession,
    user: User,
    ttl: int,
    *,
    amr: list[str],
    ip: str | None,
    user_agent: str | None,
    replaces: str | None = None,
    via: str = "browser",
) -> StartedSession:
    """Start a session at sign-in; ``via`` says where it began ("browser" pages or the
    "api"), for the session list.

    Every sign-in gets a new cookie value, so a planted cookie never becomes a signed-in
    one. When ``replaces`` is a live session of the same person (``prompt=login``,
    ``max_age``, a second sign-in), that session is re-authenticated in place: same id,
    so the ``sid`` applications hold stays valid and nobody is logged out by signing in
    again (OIDC Core §2 ``auth_time``; Back-Channel Logout §2.5). Anyone else's session
    is revoked, with the logout notices that brings."""
    cookie = random_token(32)
    now = utcnow()
    sessions = Sessions(session)
    if replaces:
        previous = await sessions.get(replaces)
        if (previous is not None and previous.user_id == user.id
                and previous.revoked_at is None and previous.expires_at > now):
            previous.token_hash = lookup_hash(cookie)
            previous.auth_time = now
            previous.amr = amr
            previous.acr = None  # set again by whoever signed the person in
            previous.last_seen_at = now
            previous.expires_at = now + timedelta(seconds=ttl)
            previous.ip = ip
            previous.user_agent = (user_agent or "")[:300] or None
            await session.flush()
            return StartedSession(previous, cookie)
        await sessions.revoke(replaces)
    row = Session(
        id=new_id(),
        token_hash=lookup_hash(cookie),
        user_id=user.id,
        auth_time=now,
        amr=amr,
        created_at=now,
        last_seen_at=now,
        expires_at=now + timedelta(seconds=ttl),
        ip=ip,
        user_agent=(user_agent or "")[:300] or None,
        via=via,
    )
    await sessions.add(row)
    return StartedSession(row, cookie)


async def resolve_session(
    session: AsyncSession, cookie: str | None, idle_ttl: int | None = None
) -> tuple[Session, User] | None:
    """The live session and its user for a cookie value, or None.

    Past ``idle_ttl`` seconds without use the session is over; ``last_seen_at`` is
    refreshed at most once a minute, so reading a page rarely writes.
    """
    if not cookie or len(cookie) > 128:
        return None
    row = await Sessions(session).find_live(lookup_hash(cookie))
    if row is None:
        return None
    now = utcnow()
    if idle_ttl is not None and now - row.last_seen_at > timedelta(seconds=idle_ttl):
        return None
    user = await Users(session).get(row.user_id)
    if user is None or user.disabled:
        return None
    if now - row.last_seen_at > timedelta(seconds=60):
        row.last_seen_at = now
    return row, user


async def list_sessions(session: AsyncSession, user_id: str) -> list[Session]:
    """A person's live sessions, newest first."""
    stmt = (
        select(Session)
        .where(Session.user_id == user_id, Session.revoked_at.is_(None),
               Session.expires_at > utcnow())
        .order_by(Session.last_seen_at.desc())
    )
    return list((await session.execute(stmt)).scalars())


async def revoke_other_sessions(session: AsyncSession, user_id: str,
                                keep: str | None) -> int:
    """Sign a person out everywhere but ``keep`` (after a password change, a reset, a
    disable); the clients of the ended sessions get their logout notices."""
    stmt = update(Session).where(Session.user_id == user_id, Session.revoked_at.is_(None))
    if keep:
        stmt = stmt.where(Session.id != keep)
    ended = list((await session.execute(
        stmt.values(revoked_at=utcnow()).returning(Session.id))).scalars())
    await SessionEnding(session).record(ended)
    return len(ended)


async def end_session(db: Database, user_id: str, session_id: str, *, token_client_id: str,
                      action: str = "logout", ip: str | None = None) -> None:
    """Revoke one of a person's own sessions and the API tokens (``token_client_id``'s)
    issued for it; ``NotFound`` when it is not theirs or already over, so nobody learns
    about other people's sessions."""

    async def write(session: AsyncSession) -> None:
        row = await Sessions(session).get(session_id)
        if row is None or row.user_id != user_id or not await Sessions(session).revoke(row.id):
            raise NotFound("No such session.")
        now = utcnow()
        for model in (RefreshToken, AccessToken):
            await session.execute(
                update(model)
                .where(model.session_id == session_id, model.client_id == token_client_id,
                       model.revoked_at.is_(None))
                .values(revoked_at=now))
        await record(session, action, actor_id=user_id, target=f"session:{session_id}", ip=ip)

    await db.run(write)
