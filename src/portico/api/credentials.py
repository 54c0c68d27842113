"""Who is calling the API: resolved in one place, from (in order) ``Authorization:
Bearer`` (a first-party access token or an API key), the session cookie, and the
``token`` / ``api_key`` query parameters on routes that allow them.

A token's kind is enforced: an access token is never taken for a refresh token or
the reverse (they do not even share a format), and an ID token is not an access
token. Read-only API keys are refused on mutating routes. A person whose password
an admin reset can only change it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar

from quart import g, request

from portico.accounts.api_keys import resolve_api_key
from portico.accounts.sessions import resolve_session
from portico.errors import Forbidden, InvalidCredentials, PasswordChangeRequired
from portico.http import services
from portico.protocol import tokens
from portico.protocol.first_party import SYSTEM_CLIENT_ID
from portico.protocol.routes import SESSION_COOKIE
from portico.storage.models import ApiKey, Session, User
from portico.storage.models.base import utcnow
from portico.storage.repositories.clients import Clients
from portico.storage.repositories.grants import Tokens
from portico.storage.repositories.users import Users

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])
API_KEY_PREFIX = "pk_"


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    user: User
    via: str  # "session" | "access_token" | "api_key" | "noop"
    session: Session | None = None
    api_key: ApiKey | None = None
    read_only: bool = False


async def _from_access_token(token: str) -> Principal | None:
    svc = services()
    try:
        claims = tokens.verify(await svc.keys.load(), token, typ="at+jwt")
    except ValueError:
        raise InvalidCredentials("The access token is invalid.") from None
    async with svc.db.session() as session:
        record = await Tokens(session).access_token(str(claims.get("jti", "")))
        if record is None or record.revoked_at is not None or record.expires_at <= utcnow():
            raise InvalidCredentials("The access token is expired or revoked.")
        client = await Clients(session).get(record.client_id)
        if client is None or not client.first_party or record.user_id is None:
            # Tokens issued to third-party applications are for them, not for this API.
            raise InvalidCredentials("This access token is not accepted by the Portico API.")
        user = await Users(session).get(record.user_id)
        login = await session.get(Session, record.session_id) if record.session_id else None
    if record.client_id == SYSTEM_CLIENT_ID and (
            login is None or login.revoked_at is not None or login.expires_at <= utcnow()):
        # API tokens end with their session (sign-out, session revoked, password changed).
        raise InvalidCredentials("The session of this access token has ended. Sign in again.")
    if user is None or user.disabled:
        raise InvalidCredentials("The account is disabled.")
    return Principal(user, "access_token", session=login)


async def _from_api_key(raw: str) -> Principal:
    found = await resolve_api_key(services().db, raw)
    if found is None:
        raise InvalidCredentials("The API key is invalid, expired or revoked.")
    key, user = found
    return Principal(user, "api_key", api_key=key, read_only=key.access == "read")


async def resolve_principal(allow_query: bool = False) -> Principal | None:
    """The caller, or None when the request carries no credential at all."""
    header = request.headers.get("Authorization")
    if header:
        scheme, _, value = header.partition(" ")
        value = value.strip()
        if scheme.lower() != "bearer" or not value:
            raise InvalidCredentials("Use an Authorization: Bearer credential.")
        if value.startswith(API_KEY_PREFIX):
            return await _from_api_key(value)
        return await _from_access_token(value)
    if allow_query:
        if key := request.args.get("api_key"):
            return await _from_api_key(key)
        if token := request.args.get("token"):
            return await _from_access_token(token)
    cookie = request.cookies.get(SESSION_COOKIE)
    if cookie:
        async with services().db.session() as session:
            resolved = await resolve_session(session, cookie,
                                             idle_ttl=services().settings.session_idle_ttl)
        if resolved is None:
            raise InvalidCredentials("The session has expired. Sign in again.")
        return Principal(resolved[1], "session", session=resolved[0])
    if services().settings.auth_mode == "noop":  # noop mode: no credential = the dev user
        from portico.accounts.noop import dev_user

        async with services().db.session() as session:
            user = await dev_user(session)
        return Principal(user, "noop") if user is not None else None
    return None


def authenticated(*, write: bool = False, allow_query: bool = False,
                  allow_password_change: bool = False) -> Callable[[F], F]:
    """Require a caller (``g.principal``); ``write`` refuses read-only API keys."""

    def decorate(fn: F) -> F:
        @wraps(fn)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = await resolve_principal(allow_query=allow_query)
            if principal is None:
                raise InvalidCredentials("Authentication is required.")
            if write and principal.read_only:
                raise Forbidden("This API key is read-only.")
            if principal.user.must_change_password and not allow_password_change:
                raise PasswordChangeRequired(
                    "An administrator reset your password: change it before anything else."
                )
            g.principal = principal
            return await fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
