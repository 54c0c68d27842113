"""Discovery and JWKS: serialised once, sent with a strong ETag, served before the framework.

The two discovery documents (OIDC Discovery 1.0 §4, RFC 8414 §3) and the JWK Set are
public, the same for every caller, and by far the most requested URLs of a provider:
every relying party fetches them, and resource servers poll /jwks. So:

* **Precomputed bodies.** Discovery is serialised once per effective ``Settings``
  object (``portico.policy`` swaps in a new one when an admin changes the policy, so a
  change rebuilds it) and JWKS once per published key set (``KeyService`` keys its
  snapshot by the database's (kid, status) list, re-checked every few seconds, so a
  rotation on any instance is seen by all). The ETag is a hash of the bytes: instances
  that read the same rows send the same tag, so a load balancer may switch between them.
* **Conditional requests.** ``If-None-Match`` with a matching tag gets ``304 Not
  Modified`` and no body (RFC 9110 §13.1.2: weak comparison, ``*`` matches).
* **A fast path.** A GET or HEAD of one of these paths with no query string is answered
  by ``FastPath`` at the ASGI level, with the same headers the Quart route would give
  (security headers, CORS for configured origins, Cache-Control, ETag) and the same
  request metrics, without building a Quart request context. That framework work costs
  several times what sending the body does (bench/README.md has the measurements).
  Anything else (a query string, OPTIONS, POST, an error while loading keys) goes to the
  Quart routes, which answer from the same cached documents.
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from portico.crypto.signing_keys import entity_tag
from portico.http import cors, metrics, security_headers

if TYPE_CHECKING:
    from quart import Quart

    from portico.services import Services
    from portico.settings import Settings

OPENID = "/.well-known/openid-configuration"
OAUTH = "/.well-known/oauth-authorization-server"
JWKS = "/jwks"
PATHS = (OPENID, OAUTH, JWKS)
DISCOVERY_CACHE = "public, max-age=300"
JWKS_CACHE = "public, max-age=60"

ASGIReceive = Callable[[], Awaitable[dict[str, Any]]]
ASGISend = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[dict[str, Any], ASGIReceive, ASGISend], Awaitable[None]]


@dataclass(frozen=True)
class Document:
    """One published document, ready to send."""

    body: bytes
    etag: str
    cache_control: str


def _document(doc: dict[str, Any], cache_control: str) -> Document:
    body = json.dumps(doc, separators=(",", ":")).encode()
    return Document(body, entity_tag(body), cache_control)


class Documents:
    """This process's serialised discovery documents and JWKS."""

    def __init__(self, svc: Services) -> None:
        self.svc = svc
        self._settings: Settings | None = None
        self._discovery: dict[str, Document] = {}
        self._jwks: Document | None = None

    async def get(self, path: str) -> Document:
        """The document published at ``path`` (one of ``PATHS``)."""
        if path == JWKS:
            keys = await self.svc.keys.load()
            cached = self._jwks
            if cached is None or cached.etag != keys.etag:
                cached = self._jwks = Document(keys.jwks_json, keys.etag, JWKS_CACHE)
            return cached
        from portico.policy import install_policy

        settings = await install_policy(self.svc)
        if self._settings is not settings:
            from portico.protocol.discovery import (
                authorization_server_metadata,
                openid_configuration,
            )

            server = self.svc.bridge.server
            self._discovery = {
                OPENID: _document(openid_configuration(settings, server), DISCOVERY_CACHE),
                OAUTH: _document(authorization_server_metadata(settings, server),
                                 DISCOVERY_CACHE),
            }
            self._settings = settings
        return self._discovery[path]


def not_modified(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 §13.1.2: whether ``If-None-Match`` names ``etag`` (weak comparison)."""
    if not if_none_match:
        return False
    for tag in if_none_match.split(","):
        tag = tag.strip()
        if tag == "*" or tag.removeprefix("W/") == etag:
            return True
    return False


def headers_for(doc: Document, origin: str | None, status: int) -> list[tuple[str, str]]:
    """The response headers of ``doc`` (its body length only on a 200)."""
    out = [("Cache-Control", doc.cache_control), ("ETag", doc.etag)]
    if status == 200:
        out += [("Content-Type", "application/json"), ("Content-Length", str(len(doc.body)))]
    out += security_headers.HEADERS
    if origin:
        out += cors.response_headers(origin)
    return out


def documents_of(app: Quart) -> Documents:
    """The app's document cache."""
    return app.extensions["portico.documents"]  # type: ignore[no-any-return]


class FastPath:
    """ASGI middleware: answers GET/HEAD of the published documents directly."""

    def __init__(self, app: Quart, inner: ASGIApp) -> None:
        self.app = app
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: ASGIReceive,
                       send: ASGISend) -> None:
        path = scope.get("path")
        if (scope["type"] != "http" or path not in PATHS or scope["method"] not in ("GET", "HEAD")
                or scope.get("query_string")):
            await self.inner(scope, receive, send)
            return
        started = time.perf_counter()
        try:
            doc = await documents_of(self.app).get(path)
        except Exception:  # noqa: BLE001 - the Quart route meets it again and renders it
            await self.inner(scope, receive, send)
            return
        origin = if_none_match = None
        for name, value in scope["headers"]:
            if name == b"origin":
                origin = value.decode("latin-1")
            elif name == b"if-none-match":
                if_none_match = value.decode("latin-1")
        svc: Services = self.app.extensions["portico"]
        allowed = cors.allowed_origin(origin, path, svc.settings)
        status = 304 if not_modified(if_none_match, doc.etag) else 200
        headers = [(k.encode(), v.encode()) for k, v in headers_for(doc, allowed, status)]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        body = doc.body if status == 200 and scope["method"] == "GET" else b""
        await send({"type": "http.response.body", "body": body})
        metrics.observe(path, scope["method"], status, time.perf_counter() - started)


def install(app: Quart, svc: Services) -> None:
    """Keep the document cache on ``app`` and put the fast path in front of it."""
    app.extensions["portico.documents"] = Documents(svc)
    app.asgi_app = FastPath(app, app.asgi_app)  # type: ignore[method-assign]
