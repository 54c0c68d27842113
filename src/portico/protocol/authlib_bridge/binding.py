"""What the token endpoint's grants share about *where* and *to whom* a token goes:
the DPoP key it is bound to (RFC 9449) and the resources it is meant for (RFC 8707).

Every grant calls ``request_proof`` first — before anything single-use is consumed, so
a client told ``use_dpop_nonce`` can retry with the same code or refresh token — then,
once the grant is known, ``shape_tokens`` records the decisions on ``Call.issue``,
which the token generator and ``save_token`` read.
"""

from __future__ import annotations

from typing import Any

from authlib.oauth2.rfc6749 import OAuth2Error, OAuth2Request

from portico.protocol import dpop, resources
from portico.protocol.authlib_bridge.adapters import ClientAdapter
from portico.protocol.authlib_bridge.context import current_call, run_async
from portico.protocol.errors import OAuthError
from portico.storage.repositories.dpop import DpopProofs

# Parameters the token endpoint accepts more than once (RFC 8707 §2, RFC 8693 §2.1).
MULTI_VALUED = frozenset({"resource", "audience"})


class BridgedError(OAuth2Error):  # type: ignore[misc]
    """A Portico ``OAuthError`` raised inside an authlib grant, keeping its code, status
    and, for ``use_dpop_nonce``, the ``DPoP-Nonce`` header (RFC 9449 §8)."""

    def __init__(self, err: OAuthError) -> None:
        super().__init__(description=err.description, status_code=err.status, error=err.error)
        nonce = getattr(err, "nonce", None)
        self._extra = [(dpop.NONCE_HEADER, nonce)] if isinstance(nonce, str) else []

    def get_headers(self) -> list[tuple[str, str]]:
        return [*super().get_headers(), *self._extra]


def _header_values(request: OAuth2Request, name: str) -> list[str]:
    folded = getattr(request, "header_lists", {}).get(name.lower())
    if folded is not None:
        return list(folded)
    return [v for k, v in (request.headers or {}).items() if k.lower() == name.lower()]


def request_proof(request: OAuth2Request) -> dpop.Proof | None:
    """The request's DPoP proof, checked (RFC 9449 §4.3) and recorded against replay
    (§11.1) in this transaction; None when there is none. Cached on the request."""
    if hasattr(request, "dpop_proof"):
        return request.dpop_proof  # type: ignore[no-any-return]
    call = current_call.get()
    try:
        proof = dpop.check_proof(
            _header_values(request, dpop.DPOP_HEADER),
            method=request.method,
            url=request.uri,
            settings=call.settings,
        )
    except OAuthError as err:
        raise BridgedError(err) from None
    if proof is not None and not run_async(
        DpopProofs(call.session).first_use(proof.replay_key, proof.expires_at)
    ):
        raise BridgedError(dpop.InvalidDpopProof("The DPoP proof was already used."))
    request.dpop_proof = proof
    return proof


def require_proof(client: ClientAdapter, proof: dpop.Proof | None) -> None:
    """RFC 9449 §5.2: a client registered with ``dpop_bound_access_tokens`` must send
    a proof with every token request."""
    if proof is None and client.row.dpop_bound_access_tokens:
        raise BridgedError(dpop.InvalidDpopProof("This client must send a DPoP proof."))


def requested_resources(request: OAuth2Request) -> list[str] | None:
    """The request's ``resource`` parameters (RFC 8707 §2), checked against the policy."""
    values = request.payload.datalist.get("resource", [])
    try:
        return resources.requested(values, current_call.get().settings)
    except OAuthError as err:
        raise BridgedError(err) from None


def shape_tokens(
    request: OAuth2Request,
    proof: dpop.Proof | None,
    *,
    granted: list[str] | None,
    refresh_jkt: str | None = None,
    asked: list[str] | None = None,
    actor: dict[str, Any] | None = None,
) -> None:
    """Record on ``Call.issue`` what the tokens about to be minted carry.

    Audience: the requested resources, within ``granted`` when the grant has any
    (RFC 8707 §2.2). DPoP: the access token is bound to the proof's key (RFC 9449 §5);
    a new refresh token stays bound to the key its predecessor had, and a public
    client's is bound to the proof's key. A confidential client's refresh tokens are
    not bound: it authenticates at every refresh, and §5 lets it change keys.
    """
    call = current_call.get()
    asked = asked if asked is not None else requested_resources(request)
    try:
        audience = resources.narrowed(asked, granted)
    except OAuthError as err:
        raise BridgedError(err) from None
    issue = call.issue
    issue.audience = audience
    issue.resource = granted
    issue.jkt = proof.jkt if proof else None
    public = request.client.row.is_public
    issue.refresh_jkt = refresh_jkt or (proof.jkt if proof and public else None)
    issue.actor = actor
