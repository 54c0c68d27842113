"""Turning a completed upstream round trip into a Portico session, and auditing the
trips that failed. One transaction: user, identity, session, the pending
authorization's login and the audit event commit together or not at all."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portico.accounts.sessions import StartedSession, start_session
from portico.audit.recorder import record
from portico.federation.flow import Completed
from portico.federation.linking import link_to, resolve
from portico.storage.db import Database
from portico.storage.models import User
from portico.storage.models.base import utcnow
from portico.storage.repositories.interactions import PendingAuthorizations

# RFC 8176: "fed" — the person was authenticated by a federated identity provider.
FEDERATED = "fed"


@dataclass(frozen=True)
class SignedIn:
    """The person, their new session (cookie inside) and how they were matched."""

    user: User
    started: StartedSession
    how: str


def session_amr(completed: Completed) -> list[str]:
    """``fed`` first, then what the upstream said it used (``pwd``, ``mfa``...)."""
    upstream = [a[:20] for a in completed.result.amr if a != FEDERATED][:5]
    return [FEDERATED, *upstream]


async def sign_in(db: Database, completed: Completed, *, session_ttl: int, ip: str | None,
                  user_agent: str | None, replaces: str | None) -> SignedIn:
    """Find or create the user and start a session carrying the upstream's auth facts."""
    provider, result = completed.provider, completed.result

    async def write(session: AsyncSession) -> SignedIn:
        resolved = await resolve(session, provider, completed.mapped, ip=ip)
        started = await start_session(session, resolved.user, session_ttl,
                                      amr=session_amr(completed), ip=ip,
                                      user_agent=user_agent, replaces=replaces)
        now = utcnow()
        # The upstream's auth_time is when the person actually authenticated (never later
        # than now); max_age at Portico's /authorize is measured from it.
        started.row.auth_time = min(result.auth_time, now) if result.auth_time else now
        started.row.acr = result.acr[:100] if result.acr else None
        if completed.flow.pending_id:
            await PendingAuthorizations(session).record_login(completed.flow.pending_id,
                                                              started.row.id)
        await record(session, "login.succeeded", actor_id=resolved.user.id, ip=ip,
                     user_agent=user_agent, target=f"user:{resolved.user.id}",
                     method="federation", provider=provider.slug, how=resolved.how)
        return SignedIn(resolved.user, started, resolved.how)

    try:
        return await db.run(write)
    except IntegrityError:
        # The same new identity signed in twice at once (two tabs, two instances): the
        # other attempt created it, so this one is now a returning sign-in.
        return await db.run(write)


async def link_identity(db: Database, completed: Completed, user_id: str, *,
                        ip: str | None) -> None:
    """Attach the upstream identity to the signed-in person who started the link."""

    async def write(session: AsyncSession) -> None:
        await link_to(session, completed.provider, completed.mapped, user_id, ip=ip)

    await db.run(write)


async def record_failure(db: Database, provider: str, reason: str, *, purpose: str = "login",
                         actor_id: str | None = None, ip: str | None = None,
                         user_agent: str | None = None, detail: str | None = None) -> None:
    """The audit event of a failed trip, in its own transaction (nothing else was
    written)."""
    action = "login.failed" if purpose == "login" else "federation.link_failed"

    async def write(session: AsyncSession) -> None:
        await record(session, action, outcome="failure", actor_id=actor_id, ip=ip,
                     user_agent=user_agent, target=f"provider:{provider[:64]}",
                     method="federation", reason=reason, why=(detail or "")[:200] or None)

    await db.run(write)
