"""The hosted-pages blueprint and the helper every page renders through."""

from __future__ import annotations

from typing import Any

from quart import Blueprint, Response, render_template

from portico.web.csrf import csrf_token, set_csrf_cookie

bp = Blueprint("web", __name__)


async def page(template: str, status: int = 200, **context: Any) -> Response:
    """Render a page with a CSRF token and no caching of personal content."""
    html = await render_template(template, csrf_token=csrf_token(), **context)
    response = Response(html, status=status, content_type="text/html; charset=utf-8")
    response.headers["Cache-Control"] = "no-store"
    return set_csrf_cookie(response)
