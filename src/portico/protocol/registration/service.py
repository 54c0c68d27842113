"""Dynamic client registration (RFC 7591) and management (RFC 7592), and the initial
access tokens that gate it.

- ``client_registration = off`` answers 404; ``open`` registers anyone (an initial
  access token, if sent, still binds the client to its organization); ``token``
  requires an initial access token (RFC 7591 §3: a bearer token, refused with RFC 6750
  ``invalid_token``).
- A registered client gets a ``registration_access_token`` (256 bits, stored as
  SHA-256 in ``clients.registration_access_token_hash``) for reading, replacing and
  deleting its registration at its ``registration_client_uri`` (RFC 7592 §2). A
  replacement rotates that token (RFC 7592 §3: "the authorization server MAY issue a
  new registration access token").
- Network checks (the ``sector_identifier_uri`` document, the keys of a ``jwks_uri``
  client asking for encryption) run before the transaction; the token's use, the
  per-organization limit and the insert are one transaction.
- Every change is audited without a secret: the events carry the client id, its name,
  its grant types and the initial access token's id.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from portico.audit.recorder import record
from portico.clients import SECRET_METHODS
from portico.crypto.jwe import EncryptionError, client_keys, pick_key
from portico.crypto.tokens import lookup_hash, new_client_id, new_id, random_token, same_hash
from portico.errors import NotFound, ValidationFailed
from portico.protocol.errors import InvalidToken
from portico.protocol.fetch import Fetcher, FetchError
from portico.protocol.first_party import SYSTEM_CLIENT_ID
from portico.protocol.registration.metadata import (
    SERVER_ONLY,
    InvalidClientMetadata,
    RegistrationRefused,
    Requested,
    parse,
)
from portico.settings import Settings, is_loopback_url
from portico.storage.db import Database
from portico.storage.models import Client, InitialAccessToken
from portico.storage.models.base import utcnow
from portico.storage.repositories.clients import Clients
from portico.storage.repositories.initial_access_tokens import (
    InitialAccessTokens,
    dynamic_clients_of,
    lock_registration_quota,
)
from portico.storage.scope import OrgScope

IAT_PREFIX = "iat_"


class RegistrationDisabled(NotFound):
    """``client_registration = off``: there is no registration endpoint."""


@dataclass(frozen=True)
class Registration:
    """A client as its registration answers show it; the secret and the registration
    access token are set only in the answer that issued them."""

    client: Client
    secret: str | None = field(default=None, repr=False)
    access_token: str | None = field(default=None, repr=False)


async def _public_host(url: str, settings: Settings) -> None:
    """Refuse to fetch from this server's own network on behalf of an anonymous
    caller (SSRF): the host must resolve to public addresses only. A loopback issuer
    (a development instance) may fetch from anywhere."""
    if is_loopback_url(settings.issuer):
        return
    host = urlsplit(url).hostname or ""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None)
    except OSError:
        raise InvalidClientMetadata(f"The host of {url[:100]} cannot be resolved.") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global:
            raise InvalidClientMetadata(
                f"{url[:100]} does not resolve to a public address.")


async def verify_remote(requested: Requested, settings: Settings, fetcher: Fetcher) -> None:
    """What needs the network: OIDC Registration §5, the ``sector_identifier_uri``
    document is a JSON array holding every redirect URI; a client registering for
    encryption with a ``jwks_uri`` must publish a key for the algorithm."""
    spec = requested.fields
    if spec.sector_identifier_uri:
        await _public_host(spec.sector_identifier_uri, settings)
        try:
            listed = json.loads(await fetcher.text(spec.sector_identifier_uri))
        except FetchError as exc:
            raise InvalidClientMetadata(
                f"The sector_identifier_uri could not be fetched: {exc}") from None
        except ValueError:
            raise InvalidClientMetadata("The sector_identifier_uri is not a JSON array.") from None
        if not isinstance(listed, list) or not all(isinstance(u, str) for u in listed):
            raise InvalidClientMetadata("The sector_identifier_uri is not a JSON array of URIs.")
        missing = [u for u in spec.redirect_uris if u not in listed]
        if missing:
            raise InvalidClientMetadata(
                "The sector_identifier_uri document does not list every redirect_uri.")
    algs = [a for a in (spec.id_token_encrypted_response_alg,
                        spec.userinfo_encrypted_response_alg) if a]
    if algs and spec.jwks_uri:
        await _public_host(spec.jwks_uri, settings)
        probe = Client(id="-", name="-", jwks=None, jwks_uri=spec.jwks_uri)
        try:
            keys = await client_keys(probe, fetcher.jwks)
            for alg in algs:
                pick_key(keys, alg)
        except EncryptionError as exc:
            raise InvalidClientMetadata(f"jwks_uri: {exc}") from None


def _issue_secret(client: Client) -> str | None:
    if client.token_endpoint_auth_method not in SECRET_METHODS:
        client.secret_hash = None
        return None
    secret = random_token(32)
    client.secret_hash = lookup_hash(secret)
    return secret


def _apply(requested: Requested, client: Client) -> None:
    requested.fields.apply(client)
    client.response_types = list(requested.response_types)


async def register(db: Database, settings: Settings, fetcher: Fetcher, body: Any,
                   bearer: str | None, ip: str | None) -> Registration:
    """RFC 7591 §3.1: register a client from ``body``."""
    mode = settings.client_registration
    if mode == "off":
        raise RegistrationDisabled("Dynamic client registration is not enabled.")
    if mode == "token" and not bearer:
        raise InvalidToken("An initial access token is required to register a client.")
    requested = parse(body, settings)
    await verify_remote(requested, settings, fetcher)
    client = Client(id=new_client_id())
    _apply(requested, client)
    secret = _issue_secret(client)
    access_token = random_token(32)
    client.registration_access_token_hash = lookup_hash(access_token)

    async def write(session: AsyncSession) -> None:
        token: InitialAccessToken | None = None
        if bearer:
            token = await InitialAccessTokens(session).use(lookup_hash(bearer))
            if token is None:
                raise InvalidToken("The initial access token is invalid, expired or used up.")
        client.org_id = token.org_id if token else None
        limit = settings.client_registration_max_clients
        if limit:
            await lock_registration_quota(session, client.org_id, SYSTEM_CLIENT_ID)
        if limit and await dynamic_clients_of(session, client.org_id) >= limit:
            raise RegistrationRefused(
                f"The limit of {limit} dynamically registered clients is reached.")
        await Clients(session).add(client)
        await record(session, "client.registered", org_id=client.org_id,
                     target=f"client:{client.id}", ip=ip, name=client.name,
                     auth_method=client.token_endpoint_auth_method,
                     grant_types=list(client.grant_types), subject_type=client.subject_type,
                     initial_access_token_id=token.id if token else None,
                     via="registration")

    await db.run(write)
    return Registration(client, secret, access_token)


async def _managed(session: AsyncSession, client_id: str, bearer: str | None) -> Client:
    """RFC 7592 §2: the client whose registration access token this is. Anything
    else (no token, a wrong one, another client's) is ``invalid_token``."""
    if not bearer or len(bearer) > 200:
        raise InvalidToken("A registration access token is required.")
    stmt = select(Client).where(Client.registration_access_token_hash == lookup_hash(bearer))
    client = (await session.execute(stmt)).scalar_one_or_none()
    if client is None or client.id != client_id:
        raise InvalidToken("The registration access token is invalid for this client.")
    return client


def _enabled(settings: Settings) -> None:
    if settings.client_registration == "off":
        raise RegistrationDisabled("Dynamic client registration is not enabled.")


async def read(db: Database, settings: Settings, client_id: str,
               bearer: str | None) -> Registration:
    """RFC 7592 §2.1: the current registration."""
    _enabled(settings)
    async with db.session() as session:
        return Registration(await _managed(session, client_id, bearer))


async def update(db: Database, settings: Settings, fetcher: Fetcher, client_id: str,
                 bearer: str | None, body: Any, ip: str | None) -> Registration:
    """RFC 7592 §2.2: replace the metadata (omitted members go back to their defaults),
    rotate the registration access token; a switch to a secret-based method issues a
    secret, a switch away deletes it."""
    _enabled(settings)
    async with db.session() as session:
        await _managed(session, client_id, bearer)
    if not isinstance(body, dict):
        raise InvalidClientMetadata("The request body must be a JSON object.")
    if body.get("client_id") != client_id:
        raise InvalidClientMetadata("client_id must be this client's identifier.")
    sent = [name for name in SERVER_ONLY if name in body]
    if sent:
        raise InvalidClientMetadata(f"{sent[0]} must not be sent in an update (RFC 7592).")
    requested = parse(body, settings)
    await verify_remote(requested, settings, fetcher)
    access_token = random_token(32)

    async def write(session: AsyncSession) -> Registration:
        client = await _managed(session, client_id, bearer)
        presented = body.get("client_secret")
        if presented is not None and not (
                client.secret_hash and same_hash(presented, client.secret_hash)):
            raise InvalidClientMetadata("client_secret does not match the issued secret.")
        had_secret = client.secret_hash is not None
        # first_party is the superadmin's decision, not client metadata: it stays.
        _apply(replace(requested, fields=replace(requested.fields,
                                                 first_party=client.first_party)), client)
        needs_secret = client.token_endpoint_auth_method in SECRET_METHODS
        secret = _issue_secret(client) if had_secret != needs_secret else None
        client.registration_access_token_hash = lookup_hash(access_token)
        await session.flush()
        await record(session, "client.registration_updated", org_id=client.org_id,
                     target=f"client:{client.id}", ip=ip, name=client.name,
                     grant_types=list(client.grant_types),
                     credential_issued=secret is not None, via="registration")
        return Registration(client, secret, access_token)

    return await db.run(write)


async def delete(db: Database, settings: Settings, client_id: str, bearer: str | None,
                 ip: str | None) -> None:
    """RFC 7592 §2.3: deregister; its codes, tokens and consents go with it."""
    _enabled(settings)

    async def write(session: AsyncSession) -> None:
        client = await _managed(session, client_id, bearer)
        await Clients(session).remove(client.id)
        await record(session, "client.deregistered", org_id=client.org_id,
                     target=f"client:{client.id}", ip=ip, name=client.name,
                     via="registration")

    await db.run(write)


# --- initial access tokens (admin API and CLI) -------------------------------------


@dataclass(frozen=True)
class IssuedToken:
    """A new initial access token; ``token`` is shown this once."""

    row: InitialAccessToken
    token: str = field(repr=False)


async def create_initial_access_token(
    db: Database, *, org_id: str | None, description: str = "",
    expires_in: int | None = None, max_uses: int | None = None,
    actor_id: str | None = None, ip: str | None = None, via: str = "api",
) -> IssuedToken:
    """An initial access token for ``org_id`` (None: clients of no organization)."""
    description = description.strip()
    if len(description) > 200 or not description.isprintable():
        raise ValidationFailed("invalid token", {"description": "at most 200 printable "
                                                                "characters"})
    if expires_in is not None and not 60 <= expires_in <= 366 * 86400:
        raise ValidationFailed("invalid token", {"expires_in": "60 seconds to 366 days"})
    if max_uses is not None and not 1 <= max_uses <= 1_000_000:
        raise ValidationFailed("invalid token", {"max_uses": "1 to 1000000"})
    token = random_token(32, prefix=IAT_PREFIX)
    row = InitialAccessToken(
        id=new_id(), token_hash=lookup_hash(token), org_id=org_id, description=description,
        created_by=actor_id, max_uses=max_uses, uses=0,
        expires_at=utcnow() + timedelta(seconds=expires_in) if expires_in else None)

    async def write(session: AsyncSession) -> None:
        await InitialAccessTokens(session).add(row)
        await record(session, "registration_token.created", actor_id=actor_id, org_id=org_id,
                     target=f"registration_token:{row.id}", ip=ip, max_uses=max_uses,
                     expires_in=expires_in, via=via)

    await db.run(write)
    return IssuedToken(row, token)


async def list_initial_access_tokens(
    db: Database, scope: OrgScope, *, org_id: str | None,
    after: tuple[datetime, str] | None, limit: int,
) -> list[InitialAccessToken]:
    async with db.session() as session:
        return await InitialAccessTokens(session, scope).page(org_id=org_id, after=after,
                                                             limit=limit)


async def revoke_initial_access_token(db: Database, scope: OrgScope, token_id: str, *,
                                      actor_id: str | None = None, ip: str | None = None,
                                      via: str = "api") -> InitialAccessToken:
    """Revoke a token: registrations with it fail at once. Revoking twice is a no-op."""

    async def write(session: AsyncSession) -> InitialAccessToken:
        repo = InitialAccessTokens(session, scope)
        row = await repo.get(token_id)
        if row is None:
            raise NotFound("No such registration token.")
        if await repo.revoke(row.id):
            await record(session, "registration_token.revoked", actor_id=actor_id,
                         org_id=row.org_id, target=f"registration_token:{row.id}", ip=ip,
                         via=via)
        await session.refresh(row)
        return row

    return await db.run(write)


def token_status(row: InitialAccessToken, now: datetime) -> str:
    """``active``, ``revoked``, ``expired`` or ``used_up``."""
    if row.revoked_at is not None:
        return "revoked"
    if row.expires_at is not None and row.expires_at <= now:
        return "expired"
    if row.max_uses is not None and row.uses >= row.max_uses:
        return "used_up"
    return "active"
