"""Cross-cutting HTTP concerns: security headers, CORS, client addresses."""

from __future__ import annotations

from typing import TYPE_CHECKING

from quart import current_app

if TYPE_CHECKING:
    # Only for the annotation: importing it for real would tie every module under
    # portico.http (metrics, imported by the audit recorder) to the whole service graph.
    from portico.services import Services


def services() -> Services:
    """The current app's services."""
    return current_app.extensions["portico"]  # type: ignore[no-any-return]
