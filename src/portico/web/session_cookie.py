"""Reading and writing the browser-session cookie."""

from __future__ import annotations

from quart import Response, g, request

from portico.accounts.sessions import resolve_session
from portico.http import services
from portico.protocol.routes import SESSION_COOKIE
from portico.storage.models import Session, User


async def current_login() -> tuple[Session, User] | None:
    """The signed-in session and user for this browser, if any.

    Remembered for the rest of the request: the forced-password-change check looks
    before every page, and the page itself looks again."""
    if "portico_login" in g:
        return g.portico_login  # type: ignore[no-any-return]
    async with services().db.session() as session:
        found = await resolve_session(
            session, request.cookies.get(SESSION_COOKIE), services().settings.session_idle_ttl
        )
    g.portico_login = found
    return found


def forget_login() -> None:
    """Drop the remembered login after this request signed someone in or out."""
    g.pop("portico_login", None)


def set_session_cookie(response: Response, value: str) -> None:
    """HttpOnly, SameSite=Lax, Secure unless explicitly relaxed for loopback HTTP."""
    settings = services().settings
    response.set_cookie(
        SESSION_COOKIE,
        value,
        max_age=settings.session_ttl,
        httponly=True,
        secure=settings.cookies_secure,
        samesite="Lax",
        path="/",
    )


def clear_session_cookie(response: Response) -> None:
    """Remove the session cookie."""
    settings = services().settings
    response.delete_cookie(
        SESSION_COOKIE, path="/", httponly=True, secure=settings.cookies_secure, samesite="Lax"
    )
