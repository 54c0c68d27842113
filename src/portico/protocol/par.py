"""Pushed authorization requests (RFC 9126): the client POSTs its authorization request
to ``/par`` and sends the browser to /authorize with only ``client_id`` and the
``request_uri`` it got back.

The pushing client authenticates exactly as at the token endpoint (§2; done by the
authlib bridge before this module runs). The request then goes through the same
``CHECKS`` as /authorize — everything that does not need the person — so a pushed
request can never skip what /authorize enforces (registered redirect URIs, PKCE,
response types…). Errors are JSON here (§2.3), never redirects. What passed is stored
under the SHA-256 of a random ``request_uri`` (§2.2), usable once, for a short while;
/authorize consumes it (``authorize.pushed``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from portico.crypto.tokens import lookup_hash, new_id, random_token
from portico.protocol import dpop
from portico.protocol.authorize import CHECKS, build_request
from portico.protocol.authorize.context import AuthorizeContext, AuthorizeState
from portico.protocol.authorize.pushed import REQUEST_URI_PREFIX
from portico.protocol.errors import InvalidRequest
from portico.protocol.params import parse
from portico.storage.models import PushedAuthorizationRequest
from portico.storage.models.base import utcnow
from portico.storage.repositories.dpop import DpopProofs
from portico.storage.repositories.pushed import PushedRequests

# Client authentication travels in the same body; it is never part of the request.
CLIENT_AUTH_PARAMS = ("client_secret", "client_assertion", "client_assertion_type")


@dataclass(frozen=True)
class Pushed:
    """The §2.2 answer: where the browser finds the request, and for how long."""

    request_uri: str
    expires_in: int

    def __repr__(self) -> str:
        return f"Pushed(expires_in={self.expires_in})"


def _bind_to_proof(items: list[tuple[str, str]], proof: dpop.Proof) -> list[tuple[str, str]]:
    """RFC 9449 §10.1: a DPoP proof sent with the pushed request binds the code to its key,
    as ``dpop_jkt`` would; when both are sent they must name the same key."""
    sent = [value for name, value in items if name == "dpop_jkt"]
    if sent and sent != [proof.jkt]:
        raise InvalidRequest("The dpop_jkt does not match the DPoP proof's key.")
    return items if sent else [*items, ("dpop_jkt", proof.jkt)]


async def push(items: list[tuple[str, str]], client_id: str, ctx: AuthorizeContext, *,
               dpop_values: list[str] | None = None, url: str | None = None) -> Pushed:
    """Validate the pushed ``items`` for the authenticated ``client_id`` and store them;
    raises ``OAuthError`` (answered as JSON with status 400, RFC 9126 §2.3).
    ``dpop_values`` are the request's DPoP headers, checked against ``url``."""
    proof = dpop.check_proof(dpop_values or [], method="POST",
                             url=url or ctx.settings.url("/par"), settings=ctx.settings)
    if proof is not None:
        items = _bind_to_proof(items, proof)
    params = parse(
        [(name, value) for name, value in items if name not in CLIENT_AUTH_PARAMS],
        long_limit=ctx.settings.request_object_max_bytes,
    )
    if "request_uri" in params.values or "request_uri" in params.oversized:
        # §2.1: "The request_uri authorization request parameter is one exception, and
        # it MUST NOT be provided."
        raise InvalidRequest("The request_uri parameter cannot be pushed.")
    sent = params.values.get("client_id")
    if sent is not None and sent != client_id:
        raise InvalidRequest("The client_id does not match the authenticated client.")
    params.values["client_id"] = client_id
    state = AuthorizeState(params, pushed=True)
    for check in CHECKS:
        await check(state, ctx)
    build_request(state)
    ttl = ctx.settings.pushed_request_ttl
    request_uri = REQUEST_URI_PREFIX + random_token(32)
    now = utcnow()
    async with ctx.db.session() as session:
        if proof is not None and not await DpopProofs(session).first_use(
                proof.replay_key, proof.expires_at):
            raise dpop.InvalidDpopProof("The DPoP proof was already used.")
        await PushedRequests(session).add(
            PushedAuthorizationRequest(
                id=new_id(),
                ref_hash=lookup_hash(request_uri),
                client_id=client_id,
                params={
                    "params": dict(state.params.values),
                    "multi": {k: list(v) for k, v in state.params.multi.items()},
                    "signed_request_object": state.signed_request_object,
                },
                created_at=now,
                expires_at=now + timedelta(seconds=ttl),
            )
        )
    return Pushed(request_uri, ttl)

