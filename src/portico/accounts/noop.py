"""``PORTICO_AUTH_MODE=noop``: nobody signs in, everybody *is* one default user.

For developing relying parties on one machine: ``/authorize`` answers at once with
a code for the dev user (no login page, no consent), and the API treats a request
without credentials as that user. Everything noop mode needs lives here, so the
hooks elsewhere stay one line each.

Safety: settings refuse noop with a non-loopback issuer unless
``allow_noop_on_public_issuer`` is set, and every hosted page shows a banner.
The dev user has no password and is a plain member, so switching back to
``local`` keeps all data but grants that account nothing: it simply cannot sign
in, and ``/setup`` still creates the first administrator.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portico.accounts.sessions import start_session
from portico.accounts.users import username_key
from portico.audit.recorder import record
from portico.crypto.tokens import new_id
from portico.settings import Settings, is_loopback_url
from portico.storage.db import Database
from portico.storage.models import Session, User
from portico.storage.models.base import utcnow
from portico.storage.repositories.users import Organizations, Users

log = logging.getLogger("portico")

NOOP_USERNAME = "dev"
NOOP_EMAIL = "dev@example.com"
NOOP_SESSION_VIA = "noop"
# A reused noop session must outlive the code and tokens issued on it by a margin.
_REUSE_MARGIN = timedelta(hours=1)

WARNING = (
    "PORTICO_AUTH_MODE=noop: NO AUTHENTICATION. Every visitor of /authorize and every "
    "API call without credentials acts as user %r. Use this only on your own machine."
)


def is_noop(settings: Settings) -> bool:
    """Whether this instance signs everyone in as the dev user."""
    return settings.auth_mode == "noop"


async def _find_dev(session: AsyncSession) -> User | None:
    return await Users(session).find_by_login(username_key(NOOP_USERNAME), NOOP_EMAIL)


async def ensure_dev_user(db: Database) -> User:
    """Create the default organization and the passwordless dev user if missing.

    Several instances may start at once: the loser of an insert race (unique
    organization slug, username or email) runs again and finds the winner's rows.
    """

    async def create(session: AsyncSession) -> User:
        existing = await _find_dev(session)
        if existing is not None:
            return existing
        org = await Organizations(session).default()
        user = User(id=new_id(), username=NOOP_USERNAME, username_key=username_key(NOOP_USERNAME),
                    email=NOOP_EMAIL, email_verified=True, password_hash=None,
                    name="Developer", profile={})
        await Users(session).add(user)
        await Organizations(session).add_member(org, user, "member")
        await record(session, "noop.user_created", org_id=org.id, target=f"user:{user.id}",
                     username=NOOP_USERNAME)
        return user

    try:
        return await db.run(create)
    except IntegrityError:
        return await db.run(create)


async def bootstrap(settings: Settings, db: Database) -> User | None:
    """At startup in noop mode: the dev user exists and the log says so loudly."""
    if not is_noop(settings):
        return None
    if not is_loopback_url(settings.issuer) and not settings.allow_noop_on_public_issuer:
        # Settings already refuse this; checked again because it must never slip through.
        raise RuntimeError("auth_mode=noop is refused with a non-loopback issuer")
    user = await ensure_dev_user(db)
    log.warning(WARNING, NOOP_USERNAME)
    return user


async def dev_user(session: AsyncSession) -> User | None:
    """The dev user (None if the database was not bootstrapped, or it was disabled)."""
    user = await _find_dev(session)
    return user if user is not None and not user.disabled else None


async def sign_in(session: AsyncSession, settings: Settings) -> tuple[Session, User] | None:
    """A live login session for the dev user: reused when one is left, else started.

    No cookie is involved: ``/authorize`` only needs the session row to issue a
    code, and the next request in noop mode is signed in the same way anyway.
    """
    user = await dev_user(session)
    if user is None:
        return None
    stmt = (
        select(Session)
        .where(Session.user_id == user.id, Session.via == NOOP_SESSION_VIA,
               Session.revoked_at.is_(None), Session.expires_at > utcnow() + _REUSE_MARGIN)
        .order_by(Session.expires_at.desc())
        .limit(1)
    )
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        started = await start_session(session, user, settings.session_ttl, amr=[], ip=None,
                                      user_agent=None)
        row = started.row
        row.via = NOOP_SESSION_VIA
        await session.flush()
    return row, user
