"""Registering and managing relying parties: validated metadata, secrets shown once.

Secrets are 256-bit random values stored as SHA-256: constant-time comparison of a
hash keeps the token endpoint fast, where bcrypt would cap it at a few requests a
second (SPEC, domain rules). A secret exists in plaintext only in the value returned
by ``register_client`` or ``rotate_secret``; rotation replaces the hash, so the old
secret stops working with the commit.

Admins manage the clients of the organizations they administer (``org_id``); clients
of no organization are instance-wide and the superadmin's. The built-in ``portico``
client is Portico's own and never managed here. Error field names are the admin API's
request fields, so a 400 points at what to fix.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from sqlalchemy.ext.asyncio import AsyncSession

from portico.audit.recorder import record
from portico.crypto.signing_keys import SUPPORTED_ALGS
from portico.crypto.tokens import lookup_hash, random_token
from portico.errors import Conflict, Forbidden, NotFound, ValidationFailed
from portico.orgs.access import named_org
from portico.orgs.memberships import Actor
from portico.protocol.claims import SUPPORTED_SCOPES
from portico.protocol.first_party import SYSTEM_CLIENT_ID
from portico.settings import is_loopback_url
from portico.storage.db import Database
from portico.storage.models import Client
from portico.storage.repositories.clients import Clients, ScopedClients
from portico.storage.scope import OrgScope

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")
SECRET_METHODS = ("client_secret_basic", "client_secret_post")
GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")
DEFAULT_GRANTS = ("authorization_code", "refresh_token")
HIDDEN = (SYSTEM_CLIENT_ID,)


def check_redirect_uri(uri: str, field: str = "redirect_uri") -> str:
    """OIDC Registration §2: absolute, no fragment; http only on loopback. Private-use
    schemes (``com.example.app:/cb``) stay allowed for native apps (RFC 8252 §7.1)."""
    if len(uri) > 2000 or any(ord(c) <= 0x20 or ord(c) == 0x7F for c in uri):
        # urlsplit would quietly strip some of these; exact matching needs the URI as sent.
        raise ValidationFailed("invalid redirect URI",
                               {field: "at most 2000 characters, no spaces or control characters"})
    parts = urlsplit(uri)
    if not parts.scheme or parts.fragment:
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


def _check_https_url(url: str, field: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment:
        raise ValidationFailed("invalid URL", {field: "an absolute https URL"})
    return check_redirect_uri(url, field)


def _check_jwks(jwks: dict[str, Any]) -> dict[str, Any]:
    """A JWK Set of public keys only: a private key pasted here would be shown later."""
    try:
        keys = KeySet.import_key_set(jwks)  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError):
        raise ValidationFailed("invalid client", {"jwks": "not a JWK Set"}) from None
    if not keys.keys:
        raise ValidationFailed("invalid client", {"jwks": "no keys"})
    if any(key.is_private for key in keys.keys):
        raise ValidationFailed("invalid client", {"jwks": "public keys only"})
    return keys.as_dict(private=False)  # type: ignore[no-any-return]


def public_jwks(jwks: dict[str, Any] | None) -> dict[str, Any] | None:
    """``jwks`` without private members, whatever was stored (the CLI did not check)."""
    if not jwks:
        return None
    try:
        return KeySet.import_key_set(jwks).as_dict(private=False)  # type: ignore[arg-type, no-any-return]
    except (JoseError, ValueError, TypeError, KeyError):
        return None


@dataclass(frozen=True)
class ClientFields:
    """A client's editable metadata, checked as a whole (a change to one field can make
    another one wrong: ``private_key_jwt`` needs keys, public clients no secret grant)."""

    name: str
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str]
    token_endpoint_auth_method: str = "client_secret_basic"
    grant_types: list[str] | None = None
    scope: str = ""
    id_token_signed_response_alg: str = "RS256"
    userinfo_signed_response_alg: str | None = None
    jwks: dict[str, Any] | None = None
    jwks_uri: str | None = None
    request_uris: list[str] | None = None
    first_party: bool = False

    @classmethod
    def of(cls, client: Client) -> ClientFields:
        return cls(**{f.name: getattr(client, f.name) for f in fields(cls)})

    def checked(self) -> ClientFields:
        """The normalised fields, or ``ValidationFailed`` naming the first bad one."""
        name = self.name.strip()
        if not 1 <= len(name) <= 200 or not name.isprintable():
            raise ValidationFailed("invalid client",
                                   {"name": "1 to 200 printable characters"})
        method = self.token_endpoint_auth_method
        if method not in AUTH_METHODS:
            raise ValidationFailed("invalid client",
                                   {"token_endpoint_auth_method": f"one of {AUTH_METHODS}"})
        grants = list(dict.fromkeys(self.grant_types or DEFAULT_GRANTS))
        if any(g not in GRANT_TYPES for g in grants):
            raise ValidationFailed("invalid client", {"grant_types": f"from {GRANT_TYPES}"})
        if method == "none" and "client_credentials" in grants:
            raise ValidationFailed(
                "invalid client", {"grant_types": "public clients cannot use client_credentials"})
        if "authorization_code" in grants and not self.redirect_uris:
            raise ValidationFailed("invalid client", {"redirect_uris": "at least one is required"})
        scopes = list(dict.fromkeys(self.scope.split()))
        unknown = [s for s in scopes if s not in SUPPORTED_SCOPES]
        if unknown:
            raise ValidationFailed("invalid client", {
                "scope": f"unknown {unknown[0]!r}; supported: {' '.join(SUPPORTED_SCOPES)}"})
        for alg, where in ((self.id_token_signed_response_alg, "id_token_signed_response_alg"),
                           (self.userinfo_signed_response_alg, "userinfo_signed_response_alg")):
            if alg is not None and alg not in SUPPORTED_ALGS:
                raise ValidationFailed("invalid client", {where: f"one of {SUPPORTED_ALGS}"})
        jwks = _check_jwks(self.jwks) if self.jwks else None
        jwks_uri = _check_https_url(self.jwks_uri, "jwks_uri") if self.jwks_uri else None
        if method == "private_key_jwt" and not (jwks or jwks_uri):
            raise ValidationFailed("invalid client",
                                   {"jwks": "private_key_jwt needs jwks or jwks_uri"})
        return replace(
            self, name=name, grant_types=grants, scope=" ".join(scopes), jwks=jwks,
            jwks_uri=jwks_uri,
            redirect_uris=[check_redirect_uri(u, f"redirect_uris.{i}")
                           for i, u in enumerate(self.redirect_uris)],
            post_logout_redirect_uris=[
                check_redirect_uri(u, f"post_logout_redirect_uris.{i}")
                for i, u in enumerate(self.post_logout_redirect_uris)],
            request_uris=list(self.request_uris or []))

    def apply(self, client: Client) -> None:
        for f in fields(self):
            setattr(client, f.name, getattr(self, f.name))


@dataclass(frozen=True)
class Registered:
    """A client and, when one was just issued, its secret (shown this once)."""

    client: Client
    secret: str | None = field(repr=False)


def _new_secret(client: Client) -> str | None:
    """A fresh secret for clients that authenticate with one; the others hold none."""
    if client.token_endpoint_auth_method not in SECRET_METHODS:
        client.secret_hash = None
        return None
    secret = random_token(32)
    client.secret_hash = lookup_hash(secret)
    return secret


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
    org_id: str | None = None,
    actor_id: str | None = None,
    ip: str | None = None,
    via: str | None = None,
) -> Registered:
    """Create a client of ``org_id`` (None: instance-wide), audited."""
    spec = ClientFields(
        name=name, redirect_uris=list(redirect_uris),
        post_logout_redirect_uris=list(post_logout_redirect_uris or []),
        token_endpoint_auth_method=auth_method, grant_types=grant_types, scope=scope,
        id_token_signed_response_alg=id_token_alg, userinfo_signed_response_alg=userinfo_alg,
        jwks=jwks, jwks_uri=jwks_uri, request_uris=request_uris, first_party=first_party,
    ).checked()
    client = Client(id=client_id or random_token(16), org_id=org_id)
    spec.apply(client)
    secret = _new_secret(client)

    async def write(session: AsyncSession) -> None:
        if await Clients(session).get(client.id) is not None:
            raise Conflict("client_id taken", fields={"client_id": "already registered"})
        await Clients(session).add(client)
        await record(
            session, "client.created", actor_id=actor_id, org_id=org_id,
            target=f"client:{client.id}", ip=ip, name=spec.name, auth_method=auth_method,
            grant_types=spec.grant_types, first_party=first_party, via=via)

    await db.run(write)
    return Registered(client, secret)


# --- as an admin ---------------------------------------------------------------------


async def owner_org(db: Database, scope: OrgScope, ref: str | None) -> str | None:
    """The organization a new client belongs to: the one named, else the caller's only
    one; the superadmin naming none makes an instance-wide client (None)."""
    if ref is not None and ref.strip():
        async with db.session() as session:
            return (await named_org(session, scope, ref)).id
    if scope.is_global:
        return None
    assert scope.org_ids is not None
    if len(scope.org_ids) != 1:
        raise ValidationFailed("organization required",
                               {"organization": "required: you administer several organizations"})
    return next(iter(scope.org_ids))


def check_first_party(actor: Actor, wanted: bool, current: bool = False) -> None:
    """Only the superadmin decides first-party trust: such clients skip consent and their
    tokens are accepted by Portico's own API."""
    if wanted != current and not actor.scope.is_global:
        raise Forbidden("Only the instance's superadmin may change first_party.")


async def get_client(db: Database, scope: OrgScope, client_id: str) -> Client:
    async with db.session() as session:
        client = await ScopedClients(session, scope, HIDDEN).get(client_id)
    if client is None:
        raise NotFound("No such client.")
    return client


async def list_clients(db: Database, scope: OrgScope, *, org_id: str | None,
                       after: tuple[datetime, str] | None, limit: int) -> list[Client]:
    async with db.session() as session:
        return await ScopedClients(session, scope, HIDDEN).page(
            org_id=org_id, after=after, limit=limit)


async def update_client(db: Database, actor: Actor, client_id: str,
                        changes: dict[str, Any]) -> Registered:
    """Apply ``changes`` (field → new value), audited with the changed field names. A
    switch to a secret-based method issues a secret (returned once); a switch away
    drops it."""

    async def write(session: AsyncSession) -> Registered:
        client = await ScopedClients(session, actor.scope, HIDDEN).get(client_id)
        if client is None:
            raise NotFound("No such client.")
        before = ClientFields.of(client)
        if "first_party" in changes:
            check_first_party(actor, bool(changes["first_party"]), before.first_party)
        after = replace(before, **changes).checked()
        changed = [f.name for f in fields(after)
                   if getattr(after, f.name) != getattr(before, f.name)]
        after.apply(client)
        has_secret = client.secret_hash is not None
        needs_secret = client.token_endpoint_auth_method in SECRET_METHODS
        secret = _new_secret(client) if has_secret != needs_secret else None
        await session.flush()
        await record(session, "client.updated", actor_id=actor.user.id, org_id=client.org_id,
                     target=f"client:{client.id}", ip=actor.ip, changed=changed,
                     credential_issued=secret is not None, via="api")
        return Registered(client, secret)

    return await db.run(write)


async def rotate_secret(db: Database, actor: Actor, client_id: str) -> Registered:
    """A new secret, shown once; the old one stops working when this commits."""

    async def write(session: AsyncSession) -> Registered:
        client = await ScopedClients(session, actor.scope, HIDDEN).get(client_id)
        if client is None:
            raise NotFound("No such client.")
        if client.token_endpoint_auth_method not in SECRET_METHODS:
            raise Conflict(f"This client authenticates with "
                           f"{client.token_endpoint_auth_method}, not a secret.")
        secret = _new_secret(client)
        await session.flush()
        await record(session, "client.secret_rotated", actor_id=actor.user.id,
                     org_id=client.org_id, target=f"client:{client.id}", ip=actor.ip, via="api")
        return Registered(client, secret)

    return await db.run(write)


async def remove_client(db: Database, scope: OrgScope, client_id: str, *,
                        actor_id: str | None = None, ip: str | None = None,
                        via: str = "api") -> None:
    """Delete a client and, by cascade, every code, token and consent issued to it."""

    async def write(session: AsyncSession) -> None:
        repo = ScopedClients(session, scope, HIDDEN)
        client = await repo.get(client_id)
        if client is None:
            raise NotFound("No such client.")
        await repo.remove(client)
        await record(session, "client.removed", actor_id=actor_id, org_id=client.org_id,
                     target=f"client:{client_id}", ip=ip, name=client.name, via=via)

    await db.run(write)
