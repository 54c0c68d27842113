"""Friendly error pages for browser routes; the one place pages render errors."""

from __future__ import annotations

from quart import Response

from portico.errors import Forbidden, NotFound, PorticoError
from portico.protocol.errors import OAuthError
from portico.web.blueprint import page


async def error_page(err: PorticoError) -> Response:
    """A page naming what went wrong, with the right status, and never a stack trace."""
    if isinstance(err, OAuthError):
        return await page(
            "error.html",
            status=400 if err.status < 500 else err.status,
            title="This request cannot be completed",
            message=err.description,
            code=err.error,
        )
    if isinstance(err, Forbidden):
        return await page("error.html", status=403, title="Not allowed", message=err.message)
    if isinstance(err, NotFound):
        return await page("error.html", status=404, title="Not found", message=err.message)
    return await page(
        "error.html", status=400, title="Something is wrong with this request", message=err.message
    )
