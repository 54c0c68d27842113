"""CORS for the endpoints browsers call directly (discovery, JWKS, token, userinfo,
introspection, revocation), for configured origins only, on every status
including 401 so a browser client can read the error."""

from __future__ import annotations

from quart import Response, request

from portico.http import services
from portico.settings import Settings

CORS_PATHS = (
    "/.well-known/openid-configuration",
    "/.well-known/oauth-authorization-server",
    "/jwks",
    "/token",
    "/userinfo",
    "/introspect",
    "/revoke",
)


def allowed_origin(origin: str | None, path: str, settings: Settings) -> str | None:
    """``origin`` when it may read responses from ``path``; ``None`` otherwise."""
    if not origin or path not in CORS_PATHS:
        return None
    return origin if origin in settings.cors_origins else None


def response_headers(origin: str) -> list[tuple[str, str]]:
    """What lets an allowed ``origin`` read a (non-preflight) response."""
    return [("Access-Control-Allow-Origin", origin),
            ("Access-Control-Expose-Headers", "WWW-Authenticate"), ("Vary", "Origin")]


def _allowed_origin() -> str | None:
    return allowed_origin(request.headers.get("Origin"), request.path, services().settings)


async def preflight() -> Response | None:
    """Answer CORS preflight requests before routing."""
    if request.method != "OPTIONS" or request.path not in CORS_PATHS:
        return None
    response = Response("", status=204)
    origin = _allowed_origin()
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Authorization, Content-Type, DPoP"
        response.headers["Access-Control-Max-Age"] = "600"
        response.headers["Vary"] = "Origin"
    return response


async def add_cors_headers(response: Response) -> Response:
    """Allow a configured origin to read the response."""
    origin = _allowed_origin()
    if origin:
        for name, value in response_headers(origin):
            if name == "Vary":
                response.headers.add(name, value)
            else:
                response.headers[name] = value
    return response
