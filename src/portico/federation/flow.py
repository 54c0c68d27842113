"""The round trip to an upstream: ``begin`` persists the flow and returns where to
send the browser; ``complete`` consumes the flow exactly once and returns the
validated, mapped identity.

The flow row is consumed in its own committed transaction before anything else, so
a replayed or concurrent callback finds nothing, whatever happens afterwards. The
network work (token exchange, JWKS, userinfo) runs outside any transaction.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from portico.crypto.secretbox import SecretBox
from portico.crypto.tokens import lookup_hash, new_id, same_hash
from portico.errors import NotFound
from portico.federation.base import FlowSecrets, LoginHints, UpstreamError, UpstreamResult
from portico.federation.cache import ConnectorCache
from portico.federation.kinds import get_kind
from portico.federation.mapping import MappedAttributes, apply_mapping, merged
from portico.storage.db import Database
from portico.storage.models import IdentityProvider, UpstreamLoginFlow
from portico.storage.models.base import utcnow
from portico.storage.repositories.federation import Providers, UpstreamFlows

CALLBACK_PATH = "/api/v1/external-auth/{slug}/callback"
# A fresh login was asked for: an upstream auth_time older than the flow (less skew)
# means the upstream did not authenticate the person again.
FRESH_SKEW = timedelta(seconds=60)


def verifier_place(flow_id: str) -> str:
    return f"upstream_login_flows:{flow_id}:verifier"


@dataclass(frozen=True)
class Trip:
    """Why the person is going upstream and where they go afterwards."""

    binding: str = field(repr=False)  # the raw browser-binding cookie value
    purpose: str = "login"
    pending_id: str | None = None
    return_to: str | None = None
    link_user_id: str | None = None
    hints: LoginHints = LoginHints()


@dataclass(frozen=True)
class Completed:
    """A finished round trip: the flow it consumed, its provider, what was learnt."""

    flow: UpstreamLoginFlow
    provider: IdentityProvider
    result: UpstreamResult
    mapped: MappedAttributes


@dataclass
class FlowContext:
    """What the flow needs from the process: database, key box, connectors, issuer."""

    db: Database
    box: SecretBox
    connectors: ConnectorCache
    issuer: str
    ttl: int

    def redirect_uri(self, slug: str) -> str:
        return self.issuer + CALLBACK_PATH.format(slug=slug)


async def enabled_provider(db: Database, slug: str) -> IdentityProvider:
    """The enabled provider called ``slug``, else ``NotFound``."""

    async def read(session: AsyncSession) -> IdentityProvider | None:
        return await Providers(session).by_slug(slug)

    row = await db.run(read)
    if row is None or not row.enabled:
        raise NotFound("There is no such way to sign in.")
    return row


async def begin(ctx: FlowContext, slug: str, trip: Trip) -> str:
    """Persist a new flow and return the upstream authorization URL."""
    row = await enabled_provider(ctx.db, slug)
    connector = ctx.connectors.open(row)
    flow_secrets = FlowSecrets(state=secrets.token_urlsafe(32),
                               nonce=secrets.token_urlsafe(24),
                               code_verifier=secrets.token_urlsafe(48))
    url = await connector.authorization_url(ctx.redirect_uri(row.slug), flow_secrets,
                                            trip.hints)
    now = utcnow()
    flow_id = new_id()
    flow = UpstreamLoginFlow(
        id=flow_id, state_hash=lookup_hash(flow_secrets.state),
        binding_hash=lookup_hash(trip.binding), provider_id=row.id,
        nonce=flow_secrets.nonce,
        verifier_sealed=ctx.box.seal(flow_secrets.code_verifier.encode(),
                                     verifier_place(flow_id)),
        purpose=trip.purpose, pending_id=trip.pending_id, return_to=trip.return_to,
        link_user_id=trip.link_user_id, force_login=trip.hints.force_login,
        created_at=now, expires_at=now + timedelta(seconds=ctx.ttl))

    async def write(session: AsyncSession) -> None:
        await UpstreamFlows(session).add(flow)

    await ctx.db.run(write)
    return url


async def consume(ctx: FlowContext, state: str | None, binding: str | None
                  ) -> UpstreamLoginFlow:
    """Take the flow named by ``state`` (once); it must belong to this browser."""
    message = "This sign-in attempt has expired or was already used. Please start again."
    if not state or len(state) > 200:
        raise UpstreamError("bad_state", message, detail="no state")

    async def take(session: AsyncSession) -> UpstreamLoginFlow | None:
        return await UpstreamFlows(session).consume(lookup_hash(state))

    flow = await ctx.db.run(take)
    if flow is None:
        raise UpstreamError("bad_state", message, detail="unknown, used or expired state")
    if not binding or len(binding) > 200 or not same_hash(binding, flow.binding_hash):
        raise UpstreamError("bad_state", message, detail="callback in another browser")
    return flow


async def complete(ctx: FlowContext, slug: str, params: Mapping[str, str],
                   binding: str | None) -> Completed:
    """Consume the flow, finish with the upstream and map what it said."""
    flow = await consume(ctx, params.get("state"), binding)

    async def read(session: AsyncSession) -> IdentityProvider | None:
        return await Providers(session).get(flow.provider_id)

    row = await ctx.db.run(read)
    if row is None or not row.enabled or row.slug != slug:
        name = row.display_name if row is not None else "This provider"
        raise UpstreamError("provider_disabled", f"{name} is not available for sign-in now.",
                            detail="provider disabled, renamed or removed mid-flow")
    connector = ctx.connectors.open(row)
    flow_secrets = FlowSecrets(
        state=params["state"], nonce=flow.nonce,
        code_verifier=ctx.box.open(flow.verifier_sealed, verifier_place(flow.id)).decode())
    result = await connector.complete(ctx.redirect_uri(row.slug), flow_secrets, params)
    check_freshness(flow, result, row.display_name)
    mapping = merged(get_kind(row.kind).default_mapping, row.claim_mapping)
    mapped = apply_mapping(mapping, result.claims)
    if not mapped.subject:
        raise UpstreamError("no_subject",
                            f"{row.display_name} did not say who you are.",
                            detail="the mapping produced no subject")
    return Completed(flow, row, result, mapped)


def check_freshness(flow: UpstreamLoginFlow, result: UpstreamResult, provider: str) -> None:
    """With ``prompt=login``/``max_age`` the upstream must have authenticated anew."""
    if not flow.force_login or result.auth_time is None:
        return
    created: datetime = flow.created_at
    if result.auth_time < created - FRESH_SKEW:
        raise UpstreamError("stale_login", f"{provider} did not ask you to sign in again.",
                            detail="upstream auth_time predates the flow")
