"""Registering relying parties: validated metadata, a generated secret shown once.

Secrets are 256-bit random values stored as SHA-256: constant-time comparison of a
hash keeps the token endpoint fast, where bcrypt would cap it at a few requests a
second (SPEC, domain rules).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncSession

from portico.audit.recorder import record
from portico.crypto.signing_keys import SUPPORTED_ALGS
from portico.crypto.tokens import lookup_hash, random_token
from portico.errors import ValidationFailed
from portico.settings import is_loopback_url
from portico.storage.db import Database
from portico.storage.models import Client
from portico.storage.repositories.clients import Clients

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")
GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")


def check_redirect_uri(uri: str, field: str = "redirect_uri") -> str:
    """OIDC Registration §2: absolute, no fragment; http only on loopback."""
    parts = urlsplit(uri)
    if not parts.scheme or parts.fragment or len(uri) > 2000:
        raise ValidationFailed("invalid redirect URI", {field: f"{uri!r} is not allowed"})
    if parts.scheme == "http" and not is_loopback_url(uri):
        raise ValidationFailed(
            "invalid redirect URI", {field: f"{uri!r}: http is only allowed on loopback"}
        )
    if parts.scheme in ("http", "https") and not parts.hostname:
        raise ValidationFailed("invalid redirect URI", {field: f"{uri!r} has no host"})
    if parts.scheme in ("javascript", "data", "file", "vbscript"):
        raise ValidationFailed("invalid redirect URI", {field: f"{uri!r} scheme not allowed"})
    return uri


@dataclass(frozen=True)
class Registered:
    """A new client and its secret (None for public and private_key_jwt clients)."""

    client: Client
    secret: str | None


async def register_client(
    db: Database,
    *,
    name: str,
    redirect_uris: list[str],
    post_logout_redirect_uris: list[str] | None = None,
    auth_method: str = "client_secret_basic",
    grant_types: list[str] | None = None,
    first_party: bool = False,
    scope: str = "",
    id_token_alg: str = "RS256",
    userinfo_alg: str | None = None,
    jwks: dict[str, Any] | None = None,
    jwks_uri: str | None = None,
    request_uris: list[str] | None = None,
    client_id: str | None = None,
    actor_id: str | None = None,
) -> Registered:
    """Create a client, audited; the secret exists in plaintext only in the result."""
    name = name.strip()
    if not 1 <= len(name) <= 200:
        raise ValidationFailed("invalid client", {"name": "1 to 200 characters"})
    if auth_method not in AUTH_METHODS:
        raise ValidationFailed("invalid client", {"auth_method": f"one of {AUTH_METHODS}"})
    grants = list(dict.fromkeys(grant_types or ["authorization_code", "refresh_token"]))
    if any(g not in GRANT_TYPES for g in grants):
        raise ValidationFailed("invalid client", {"grant_types": f"from {GRANT_TYPES}"})
    if auth_method == "none" and "client_credentials" in grants:
        raise ValidationFailed(
            "invalid client", {"grant_types": "public clients cannot use client_credentials"}
        )
    if "authorization_code" in grants and not redirect_uris:
        raise ValidationFailed("invalid client", {"redirect_uris": "at least one is required"})
    if auth_method == "private_key_jwt" and not (jwks or jwks_uri):
        raise ValidationFailed("invalid client", {"jwks": "private_key_jwt needs jwks or jwks_uri"})
    for alg, field in ((id_token_alg, "id_token_alg"), (userinfo_alg, "userinfo_alg")):
        if alg is not None and alg not in SUPPORTED_ALGS:
            raise ValidationFailed("invalid client", {field: f"one of {SUPPORTED_ALGS}"})
    uris = [check_redirect_uri(u) for u in redirect_uris]
    logout_uris = [
        check_redirect_uri(u, "post_logout_redirect_uri") for u in post_logout_redirect_uris or []
    ]
    secret = None
    if auth_method in ("client_secret_basic", "client_secret_post"):
        secret = random_token(32)
    client = Client(
        id=client_id or random_token(16),
        name=name,
        secret_hash=lookup_hash(secret) if secret else None,
        token_endpoint_auth_method=auth_method,
        redirect_uris=uris,
        post_logout_redirect_uris=logout_uris,
        grant_types=grants,
        scope=scope,
        id_token_signed_response_alg=id_token_alg,
        userinfo_signed_response_alg=userinfo_alg,
        jwks=jwks,
        jwks_uri=jwks_uri,
        request_uris=list(request_uris or []),
        first_party=first_party,
    )

    async def write(session: AsyncSession) -> None:
        await Clients(session).add(client)
        await record(
            session,
            "client.created",
            actor_id=actor_id,
            target=f"client:{client.id}",
            name=name,
            auth_method=auth_method,
            grant_types=grants,
        )

    await db.run(write)
    return Registered(client, secret)
