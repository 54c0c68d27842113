"""The one place that runs authlib's synchronous server inside async Portico.

authlib gives us RFC 6749/7636/7523/7662/7009 request validation, client
authentication and error semantics, but its server hooks (``query_client``,
``query_authorization_code``, ``save_token`` …) are plain functions. We run each
protocol call inside ``AsyncSession.run_sync``: that puts the call in a SQLAlchemy
greenlet on the event loop, where ``await_only`` can drive Portico's async
repositories from a sync hook. No threads, one transaction per request, and the
rest of Portico never sees authlib's server classes.

Rules kept here (ECOSYSTEM spike A):
- every consumption is atomic (codes, refresh tokens, assertion ``jti``s);
- nothing slow runs inside: signing keys and a client's remote JWKS are loaded
  before the call, and client secrets are SHA-256 compared, never bcrypt;
- the OAuth2Request is built from awaited form data and the configured issuer,
  not from ``request.url``, so TLS terminated at a proxy still works.
"""

from __future__ import annotations

from portico.protocol.authlib_bridge.context import AUTH_METHODS, CONFIDENTIAL_METHODS
from portico.protocol.authlib_bridge.endpoints import Introspection, Revocation
from portico.protocol.authlib_bridge.server import (
    PorticoServer,
    ProtocolBridge,
    ProtocolResponse,
    build_request,
)

__all__ = [
    "AUTH_METHODS",
    "CONFIDENTIAL_METHODS",
    "Introspection",
    "PorticoServer",
    "ProtocolBridge",
    "ProtocolResponse",
    "Revocation",
    "build_request",
]
