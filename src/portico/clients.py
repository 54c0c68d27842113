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
from portico.crypto.jwe import CONTENT_ENCS, DEFAULT_ENC, KEY_ALGS, EncryptionError, pick_key
from portico.crypto.signing_keys import SUPPORTED_ALGS
from portico.crypto.tokens import lookup_hash, new_client_id, random_token
from portico.errors import Conflict, Forbidden, NotFound, ValidationFailed
from portico.orgs.access import named_org
from portico.orgs.memberships import Actor
from portico.protocol.authorize.request_object import REQUEST_OBJECT_ALGS, SIGNED_ALGS
from portico.protocol.authorize.response import RESPONSE_TYPES
from portico.protocol.authorize.response import normalise as normalise_response_type
from portico.protocol.claims import SUPPORTED_SCOPES
from portico.protocol.first_party import SYSTEM_CLIENT_ID
from portico.protocol.subjects import PAIRWISE, SUBJECT_TYPES, sector_of
from portico.settings import is_loopback_url
from portico.storage.db import Database
from portico.storage.models import Client
from portico.storage.repositories.clients import Clients, ScopedClients
from portico.storage.scope import OrgScope

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")
SECRET_METHODS = ("client_secret_basic", "client_secret_post")
DEVICE_CODE = "urn:ietf:params:oauth:grant-type:device_code"
TOKEN_EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"  # RFC 8693
GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials", DEVICE_CODE,
               TOKEN_EXCHANGE)
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


# Registered metadata Portico stores in ``extra_metadata`` and echoes (RFC 7591 §2, OIDC
# Registration §2); display strings and URLs may carry a BCP 47 tag: ``client_name#ja``.
EXTRA_URLS = ("client_uri", "logo_uri", "policy_uri", "tos_uri")
EXTRA_TEXTS = ("software_id", "software_version")
EXTRA_KEYS = (*EXTRA_URLS, *EXTRA_TEXTS, "client_name", "contacts", "initiate_login_uri",
              "default_max_age", "require_auth_time", "application_type",
              "require_signed_request_object")
APPLICATION_TYPES = ("web", "native")


def _language_tag(tag: str) -> bool:
    """A plausible BCP 47 tag (letters, digits, hyphens; starts with a letter)."""
    return 0 < len(tag) <= 35 and tag[0].isalpha() and all(
        c.isascii() and (c.isalnum() or c == "-") for c in tag)


def check_extra_metadata(extra: dict[str, Any]) -> dict[str, Any]:
    """The display and behaviour metadata kept in ``extra_metadata``, checked by type;
    ``ValidationFailed`` names the member at fault. Unknown members are refused here
    (the registration endpoint drops the ones it does not understand before, as RFC
    7591 §2 asks)."""
    out: dict[str, Any] = {}
    for name, value in extra.items():
        base, _, tag = name.partition("#")
        if base not in EXTRA_KEYS or (tag and (
                base not in (*EXTRA_URLS, "client_name") or not _language_tag(tag))):
            raise ValidationFailed("invalid client", {name: "not a supported member"})
        if value is None:
            continue
        if base in EXTRA_URLS or base == "initiate_login_uri":
            if not isinstance(value, str):
                raise ValidationFailed("invalid client", {name: "a URL"})
            if base == "initiate_login_uri":
                parts = urlsplit(value)
                if parts.scheme != "https" and not (
                        parts.scheme == "http" and is_loopback_url(value)):
                    raise ValidationFailed("invalid client", {name: "an https URL"})
            _check_https_url(value, name)
        elif base == "contacts":
            if not isinstance(value, list) or len(value) > 20 or not all(
                    isinstance(c, str) and 0 < len(c) <= 320 and c.isprintable()
                    for c in value):
                raise ValidationFailed("invalid client", {name: "a list of e-mail addresses"})
        elif base == "default_max_age":
            if not isinstance(value, int) or isinstance(value, bool) or not \
                    0 <= value <= 10**9:
                raise ValidationFailed("invalid client", {name: "a number of seconds"})
        elif base in ("require_auth_time", "require_signed_request_object"):
            if not isinstance(value, bool):
                raise ValidationFailed("invalid client", {name: "true or false"})
        elif base == "application_type":
            if value not in APPLICATION_TYPES:
                raise ValidationFailed("invalid client", {name: f"one of {APPLICATION_TYPES}"})
        elif not isinstance(value, str) or not 0 < len(value) <= 200 or not value.isprintable():
            raise ValidationFailed("invalid client", {name: "1 to 200 printable characters"})
        out[name] = value
    return out


def _check_encryption(alg: str | None, enc: str | None, what: str) -> tuple[str | None,
                                                                            str | None]:
    """OIDC Registration §2: ``*_encrypted_response_enc`` needs its ``_alg``; an ``_alg``
    alone means ``A128CBC-HS256``."""
    if alg is None:
        if enc is not None:
            raise ValidationFailed("invalid client", {
                f"{what}_encrypted_response_enc": f"requires {what}_encrypted_response_alg"})
        return None, None
    if alg not in KEY_ALGS:
        raise ValidationFailed("invalid client", {
            f"{what}_encrypted_response_alg": f"one of {tuple(KEY_ALGS)}"})
    if enc is not None and enc not in CONTENT_ENCS:
        raise ValidationFailed("invalid client", {
            f"{what}_encrypted_response_enc": f"one of {CONTENT_ENCS}"})
    return alg, enc or DEFAULT_ENC


def _check_logout_uris(backchannel: str | None, frontchannel: str | None,
                       redirect_uris: list[str]) -> dict[str, str | None]:
    """Back-Channel Logout 1.0 §2.2: an absolute URI, no fragment (https unless
    loopback). Front-Channel Logout 1.0 §2: "The domain, port, and scheme of this URL
    MUST be the same as that of a registered Redirection URI value"."""
    out: dict[str, str | None] = {}
    for name, uri in (("backchannel_logout_uri", backchannel),
                      ("frontchannel_logout_uri", frontchannel)):
        if uri and urlsplit(uri).username is not None:
            raise ValidationFailed("invalid URL", {name: "no user information in the URL"})
        out[name] = _check_https_url(uri, name) if uri else None
    if frontchannel:

        def origin(uri: str) -> tuple[str, str, int | None]:
            parts = urlsplit(uri)
            return parts.scheme, (parts.hostname or "").lower(), parts.port

        if origin(frontchannel) not in {origin(u) for u in redirect_uris}:
            raise ValidationFailed("invalid URL", {
                "frontchannel_logout_uri": "scheme, host and port of a registered redirect URI"})
    return out


def _check_response_types(values: list[str] | None) -> list[str]:
    """Supported response types, each once, in its space-sorted form; ``code`` alone
    by default. Types returning tokens from /authorize must be asked for by name."""
    if not values:
        return ["code"]
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ValidationFailed("invalid client", {"response_types": "a list of strings"})
    out = list(dict.fromkeys(normalise_response_type(v) for v in values))
    supported = [normalise_response_type(t) for t in RESPONSE_TYPES]
    if any(v not in supported for v in out):
        raise ValidationFailed("invalid client", {
            "response_types": f"from {', '.join(RESPONSE_TYPES)}"})
    return out


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
    request_object_signing_alg: str | None = None
    subject_type: str = "public"
    sector_identifier_uri: str | None = None
    id_token_encrypted_response_alg: str | None = None
    id_token_encrypted_response_enc: str | None = None
    userinfo_encrypted_response_alg: str | None = None
    userinfo_encrypted_response_enc: str | None = None
    extra_metadata: dict[str, Any] = field(default_factory=dict)
    backchannel_logout_uri: str | None = None
    backchannel_logout_session_required: bool = False
    frontchannel_logout_uri: str | None = None
    frontchannel_logout_session_required: bool = False
    # OIDC Registration §2; implicit and hybrid types are an explicit opt-in.
    response_types: list[str] | None = None
    # RFC 9449 §5.2: every token request of this client must carry a DPoP proof.
    dpop_bound_access_tokens: bool = False
    # RFC 9068 §2.1 leaves the JWS algorithm to the AS; None means RS256 (SPEC default).
    access_token_signed_response_alg: str | None = None
    # JARM §3: how this client's response_mode=jwt answers are signed and encrypted.
    authorization_signed_response_alg: str | None = None
    authorization_encrypted_response_alg: str | None = None
    authorization_encrypted_response_enc: str | None = None
    # RFC 9126 §6: this client's authorization requests must come through /par.
    require_pushed_authorization_requests: bool = False
    # OIDC Registration §2: the only algorithm its private_key_jwt assertions may use.
    token_endpoint_auth_signing_alg: str | None = None

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
                           (self.userinfo_signed_response_alg, "userinfo_signed_response_alg"),
                           (self.access_token_signed_response_alg,
                            "access_token_signed_response_alg"),
                           (self.authorization_signed_response_alg,
                            "authorization_signed_response_alg")):
            if alg is not None and alg not in SUPPORTED_ALGS:
                raise ValidationFailed("invalid client", {where: f"one of {SUPPORTED_ALGS}"})
        jwks = _check_jwks(self.jwks) if self.jwks else None
        jwks_uri = _check_https_url(self.jwks_uri, "jwks_uri") if self.jwks_uri else None
        if method == "private_key_jwt" and not (jwks or jwks_uri):
            raise ValidationFailed("invalid client",
                                   {"jwks": "private_key_jwt needs jwks or jwks_uri"})
        if jwks and jwks_uri:
            # OIDC Registration §2: "The jwks_uri and jwks parameters MUST NOT both be present."
            raise ValidationFailed("invalid client", {"jwks": "give jwks or jwks_uri, not both"})
        if self.token_endpoint_auth_signing_alg not in (None, *SIGNED_ALGS):
            raise ValidationFailed("invalid client", {
                "token_endpoint_auth_signing_alg": f"one of {SIGNED_ALGS}"})
        if self.request_object_signing_alg not in (None, *REQUEST_OBJECT_ALGS):
            raise ValidationFailed("invalid client", {
                "request_object_signing_alg": f"one of {REQUEST_OBJECT_ALGS}"})
        encryption: dict[str, str | None] = {}
        for what in ("id_token", "userinfo", "authorization"):
            alg, enc = _check_encryption(getattr(self, f"{what}_encrypted_response_alg"),
                                         getattr(self, f"{what}_encrypted_response_enc"), what)
            encryption[f"{what}_encrypted_response_alg"] = alg
            encryption[f"{what}_encrypted_response_enc"] = enc
            if alg is not None and not (jwks or jwks_uri):
                raise ValidationFailed("invalid client", {
                    f"{what}_encrypted_response_alg": "needs the client's jwks or jwks_uri"})
            if alg is not None and jwks:
                try:
                    pick_key(KeySet.import_key_set(jwks), alg)  # type: ignore[arg-type]
                except EncryptionError as exc:
                    raise ValidationFailed("invalid client",
                                           {f"{what}_encrypted_response_alg": str(exc)}) from None
        redirect_uris = [check_redirect_uri(u, f"redirect_uris.{i}")
                         for i, u in enumerate(self.redirect_uris)]
        if self.subject_type not in SUBJECT_TYPES:
            raise ValidationFailed("invalid client", {"subject_type": f"one of {SUBJECT_TYPES}"})
        sector_uri = (_check_https_url(self.sector_identifier_uri, "sector_identifier_uri")
                      if self.sector_identifier_uri else None)
        if sector_uri and urlsplit(sector_uri).scheme != "https" \
                and not is_loopback_url(sector_uri):
            raise ValidationFailed("invalid client", {"sector_identifier_uri": "an https URL"})
        if self.subject_type == PAIRWISE and sector_of(sector_uri, redirect_uris) is None:
            # OIDC Core §8.1: several redirect hosts need a sector_identifier_uri.
            raise ValidationFailed("invalid client", {
                "sector_identifier_uri": "required for pairwise subjects when the redirect "
                                         "URIs do not share one host"})
        logout_uris = _check_logout_uris(self.backchannel_logout_uri,
                                         self.frontchannel_logout_uri, redirect_uris)
        return replace(
            self, name=name, grant_types=grants, scope=" ".join(scopes), jwks=jwks,
            jwks_uri=jwks_uri, redirect_uris=redirect_uris,
            post_logout_redirect_uris=[
                check_redirect_uri(u, f"post_logout_redirect_uris.{i}")
                for i, u in enumerate(self.post_logout_redirect_uris)],
            request_uris=list(self.request_uris or []), sector_identifier_uri=sector_uri,
            extra_metadata=check_extra_metadata(dict(self.extra_metadata or {})),
            response_types=_check_response_types(self.response_types),
            **encryption, **logout_uris)

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
    backchannel_logout_uri: str | None = None,
    backchannel_logout_session_required: bool = False,
    frontchannel_logout_uri: str | None = None,
    frontchannel_logout_session_required: bool = False,
    metadata: dict[str, Any] | None = None,
    client_id: str | None = None,
    org_id: str | None = None,
    actor_id: str | None = None,
    ip: str | None = None,
    via: str | None = None,
) -> Registered:
    """Create a client of ``org_id`` (None: instance-wide), audited. ``metadata`` sets
    further ``ClientFields`` by name (subject type, encryption, display metadata…)."""
    spec = ClientFields(
        name=name, redirect_uris=list(redirect_uris),
        post_logout_redirect_uris=list(post_logout_redirect_uris or []),
        token_endpoint_auth_method=auth_method, grant_types=grant_types, scope=scope,
        id_token_signed_response_alg=id_token_alg, userinfo_signed_response_alg=userinfo_alg,
        jwks=jwks, jwks_uri=jwks_uri, request_uris=request_uris, first_party=first_party,
        backchannel_logout_uri=backchannel_logout_uri,
        backchannel_logout_session_required=backchannel_logout_session_required,
        frontchannel_logout_uri=frontchannel_logout_uri,
        frontchannel_logout_session_required=frontchannel_logout_session_required,
        **(metadata or {}),
    ).checked()
    client = Client(id=client_id or new_client_id(), org_id=org_id)
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
