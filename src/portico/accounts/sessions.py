"""Browser sessions: an opaque 256-bit cookie whose SHA-256 names a database row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from portico.crypto.tokens import lookup_hash, new_id, random_token
from portico.storage.models import Session, User
from portico.storage.models.base import utcnow
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
) -> StartedSession:
    """Create a fresh session (a new id at every login) and revoke the one it replaces."""
    if replaces:
        await Sessions(session).revoke(replaces)
    cookie = random_token(32)
    now = utcnow()
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
    )
    await Sessions(session).add(row)
    return StartedSession(row, cookie)


async def resolve_session(session: AsyncSession, cookie: str | None) -> tuple[Session, User] | None:
    """The live session and its user for a cookie value, or None."""
    if not cookie or len(cookie) > 128:
        return None
    row = await Sessions(session).find_live(lookup_hash(cookie))
    if row is None:
        return None
    user = await Users(session).get(row.user_id)
    if user is None or user.disabled:
        return None
    return row, user
