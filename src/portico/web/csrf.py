"""CSRF protection for hosted forms: a signed double-submit token.

The browser holds a random HttpOnly cookie; each form carries HMAC(key, cookie).
A cross-site page can neither read the cookie nor compute the HMAC. Browsers that
send ``Sec-Fetch-Site: cross-site`` on a POST are refused outright.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from quart import Response, g, request

from portico.errors import Forbidden
from portico.http import services

CSRF_COOKIE = "portico_csrf"
FIELD = "csrf_token"


def _sign(value: str) -> str:
    return hmac.new(services().csrf_key, value.encode(), hashlib.sha256).hexdigest()


def csrf_token() -> str:
    """The token to embed in a form; creates the cookie value on first use."""
    value = request.cookies.get(CSRF_COOKIE)
    if not value or len(value) > 64:
        value = getattr(g, "new_csrf_cookie", None) or secrets.token_urlsafe(32)
        g.new_csrf_cookie = value
    return _sign(value)


def set_csrf_cookie(response: Response) -> Response:
    """Send the cookie if a token was minted for a new browser during this request."""
    value = getattr(g, "new_csrf_cookie", None)
    if value:
        response.set_cookie(
            CSRF_COOKIE,
            value,
            httponly=True,
            samesite="Lax",
            path="/",
            secure=services().settings.cookies_secure,
        )
    return response


async def verify_csrf() -> None:
    """Refuse a form POST without a valid token."""
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        raise Forbidden("This form cannot be submitted from another site.")
    cookie = request.cookies.get(CSRF_COOKIE)
    sent = (await request.form).get(FIELD, "")
    if not cookie or not sent or not hmac.compare_digest(sent, _sign(cookie)):
        raise Forbidden("The form expired or was not sent from this site. Please try again.")
