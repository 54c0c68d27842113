"""CORS for the endpoints browsers call directly (discovery, JWKS, token, userinfo,
introspection, revocation), for configured origins only, on every status
including 401 so a browser client can read the error."""

from __future__ import annotations

from quart import Response, request

from portico.http import services

CORS_PATHS = (
    "/.well-known/openid-configuration",
    "/.well-known/oauth-authorization-server",
    "/jwks",
    "/token",
    "/userinfo",
    "/introspect",
    "/revoke",
)


def _allowed_origin() -> str | None:
    origin = request.headers.get("Origin")
    if not origin or request.path not in CORS_PATHS:
        return None
    return origin if origin in services().settings.cors_origins else None


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
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = "WWW-Authenticate"
        response.headers.add("Vary", "Origin")
    return response
