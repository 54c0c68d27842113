"""The hosted-pages blueprint and the helpers every page renders through."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from quart import Blueprint, Response, render_template

from portico.web.csrf import csrf_token, set_csrf_cookie

bp = Blueprint("web", __name__)


async def page(template: str, status: int = 200, **context: Any) -> Response:
    """Render a page with a CSRF token and no caching of personal content."""
    html = await render_template(template, csrf_token=csrf_token(), **context)
    response = Response(html, status=status, content_type="text/html; charset=utf-8")
    response.headers["Cache-Control"] = "no-store"
    return set_csrf_cookie(response)


def local_path(value: str | None) -> str | None:
    """``value`` if it is a path on this site, else None: where a page may send the
    browser after signing in, without becoming an open redirect."""
    if not value or len(value) > 2000 or not value.startswith("/") or value.startswith("//"):
        return None
    if "\\" in value or any(ord(c) < 0x21 or ord(c) == 0x7F for c in value):
        return None
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else None


@bp.app_template_filter("when")
def when(value: datetime | None) -> str:
    """A timestamp as people read it (UTC, to the minute); ``never`` for none."""
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "never"
