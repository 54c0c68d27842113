"""Cross-cutting HTTP concerns: security headers, CORS, client addresses."""

from __future__ import annotations

from quart import current_app

from portico.services import Services


def services() -> Services:
    """The current app's services."""
    return current_app.extensions["portico"]  # type: ignore[no-any-return]
