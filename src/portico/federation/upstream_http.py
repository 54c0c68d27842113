"""The authlib client objects connectors talk through, and the one place where what
can go wrong on the wire becomes an ``UpstreamError`` with a fixed reason.

authlib's async mixins are used without any web framework (``framework=None``): they
do discovery, PKCE, the code exchange and ID-token validation; Portico keeps the flow
state itself (ECOSYSTEM, spike B). Every request has a timeout of at most 10 s.
"""

from __future__ import annotations

import logging
from typing import Any

import httpx2
from authlib.integrations.base_client import BaseApp, OAuthError
from authlib.integrations.base_client.async_app import AsyncOAuth2Mixin
from authlib.integrations.base_client.async_openid import AsyncOpenIDMixin
from authlib.integrations.httpx_client import AsyncOAuth2Client
from joserfc.errors import JoseError

from portico.federation.base import ProviderConfig, UpstreamError

log = logging.getLogger("portico.federation")
MAX_TIMEOUT = 10.0


class OAuth2App(AsyncOAuth2Mixin, BaseApp):
    """A plain OAuth 2.0 upstream (no ID token)."""

    client_cls = AsyncOAuth2Client


class OpenIDApp(AsyncOAuth2Mixin, AsyncOpenIDMixin, BaseApp):
    """An OpenID Connect upstream: discovery, JWKS and ID-token checks."""

    client_cls = AsyncOAuth2Client


def client_kwargs(config: ProviderConfig, **extra: Any) -> dict[str, Any]:
    """What every authlib client for ``config`` is built with."""
    return {
        "scope": " ".join(config.scopes),
        "code_challenge_method": "S256",
        "timeout": min(config.timeout, MAX_TIMEOUT),
        "follow_redirects": False,
        **extra,
    }


def translate(exc: BaseException, provider: str) -> UpstreamError:
    """An exception from talking to ``provider`` as an ``UpstreamError``."""
    if isinstance(exc, UpstreamError):
        return exc
    if isinstance(exc, httpx2.TimeoutException):
        return UpstreamError("timeout", f"{provider} did not answer in time.",
                             detail=type(exc).__name__)
    if isinstance(exc, httpx2.HTTPStatusError):
        status = exc.response.status_code
        return UpstreamError("upstream_http_error",
                             f"{provider} answered with an error (HTTP {status}).",
                             detail=f"HTTP {status} from {exc.request.url.copy_with(query=None)}")
    if isinstance(exc, httpx2.HTTPError):
        return UpstreamError("unreachable", f"{provider} could not be reached.",
                             detail=type(exc).__name__)
    if isinstance(exc, OAuthError):
        # The token endpoint refused the code or the client credentials.
        return UpstreamError("token_error", f"{provider} refused to complete the sign-in.",
                             detail=f"token endpoint error {exc.error!s:.60}")
    if isinstance(exc, JoseError):
        return UpstreamError("invalid_id_token",
                             f"{provider} sent an identity token that failed verification.",
                             detail=f"{type(exc).__name__}: {getattr(exc, 'description', '')}"
                             [:200])
    if isinstance(exc, (ValueError, KeyError, TypeError, RuntimeError)):
        return UpstreamError("bad_response", f"{provider} sent an answer Portico cannot use.",
                             detail=type(exc).__name__)
    log.warning("unexpected failure talking to %s", provider, exc_info=exc)
    return UpstreamError("internal", f"Signing in with {provider} failed.",
                         detail=type(exc).__name__)
