"""Tokens for Portico's own API clients (scripts, single-page apps).

``POST /api/v1/auth/login`` signs a person in with a password and receives the
same artefacts an OIDC client would: an RFC 9068 access token and a rotating
refresh token, issued to the built-in public client ``portico``. Refreshing goes
through the ordinary refresh grant, so rotation and reuse detection are shared.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portico.crypto.signing_keys import LoadedKeys
from portico.crypto.tokens import lookup_hash, new_id, random_token
from portico.protocol import tokens
from portico.settings import Settings
from portico.storage.models import AccessToken, Client, RefreshToken, Session, User
from portico.storage.models.base import utcnow
from portico.storage.repositories.clients import Clients
from portico.storage.repositories.grants import Tokens

SYSTEM_CLIENT_ID = "portico"
API_SCOPE = "offline_access"


async def ensure_system_client(session: AsyncSession) -> Client:
    """The built-in first-party public client that API tokens are issued to.

    Workers and instances start at the same time on one database: the loser of the
    insert race (a savepoint keeps its transaction usable) reads the winner's row.
    """
    repo = Clients(session)
    client = await repo.get(SYSTEM_CLIENT_ID)
    if client is not None:
        return client
    client = Client(id=SYSTEM_CLIENT_ID, name="Portico", token_endpoint_auth_method="none",
                    redirect_uris=[], grant_types=["refresh_token"], first_party=True,
                    scope=API_SCOPE)
    try:
        async with session.begin_nested():
            await repo.add(client)
    except IntegrityError:
        found = await repo.get(SYSTEM_CLIENT_ID)
        if found is None:
            raise
        return found
    return client


async def issue_session_tokens(session: AsyncSession, settings: Settings, keys: LoadedKeys,
                               user: User, login: Session) -> dict[str, Any]:
    """An access token and a refresh token for ``login``, recorded like any other."""
    await ensure_system_client(session)
    access, jti, exp = tokens.access_token(
        keys, issuer=settings.issuer, client_id=SYSTEM_CLIENT_ID, subject=user.id,
        scope=API_SCOPE, ttl=settings.access_token_ttl,
        auth_time=int(login.auth_time.timestamp()))
    family = new_id()
    refresh = random_token(32)
    now = utcnow()
    repo = Tokens(session)
    await repo.add_access_token(AccessToken(
        jti=jti, client_id=SYSTEM_CLIENT_ID, user_id=user.id, scope=API_SCOPE,
        family_id=family, session_id=login.id, expires_at=datetime.fromtimestamp(exp, UTC)))
    await repo.add_refresh_token(RefreshToken(
        id=new_id(), token_hash=lookup_hash(refresh), family_id=family,
        client_id=SYSTEM_CLIENT_ID, user_id=user.id, scope=API_SCOPE, session_id=login.id,
        auth_time=login.auth_time, amr=list(login.amr or []), issued_at=now,
        expires_at=now + timedelta(seconds=settings.refresh_token_ttl)))
    return {"token_type": "Bearer", "access_token": access,
            "expires_in": settings.access_token_ttl, "refresh_token": refresh,
            "scope": API_SCOPE}
