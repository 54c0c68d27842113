"""JSON surfaces under /api/v1: problem+json errors (RFC 9457), one credential
resolver, quart-schema validation and the OpenAPI document."""

from __future__ import annotations

from quart import Blueprint


def api_blueprints() -> list[Blueprint]:
    """Every /api/v1 blueprint, in registration order."""
    from portico.api import auth, auth_credentials, external_auth  # noqa: F401 - routes
    from portico.api.admin import load_routes

    return [auth.bp, external_auth.bp, load_routes()]
