"""UserInfo (OIDC Core §5.3): claims about the person behind an access token.

The bearer token comes from the ``Authorization`` header or, for POST, the form
body (RFC 6750 §2.1–2.2), never both. A revoked token is refused because every
access token has a database record.

A DPoP-bound token (RFC 9449 §7) must come as ``Authorization: DPoP <token>`` with a
proof of the key it is bound to, whose ``ath`` is the token's hash; a bound token sent
as a bearer token is refused (§7.2), and so is an unbound one sent with the DPoP
scheme. A token audience-restricted to other resources (RFC 8707) is refused too.
Refusals carry a ``Bearer`` and a ``DPoP`` challenge (RFC 6750 §3, RFC 9449 §7.1),
both pointing at the protected resource metadata (RFC 9728 §5.1).

Organization claims describe the organization recorded on the token, not the one the
browser session acts in now; once the person has left it they are omitted (the token
still identifies the person, and refreshing such a grant fails).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from portico.crypto.jwe import FetchJwks
from portico.crypto.signing_keys import LoadedKeys
from portico.orgs.active import acting_in
from portico.protocol import dpop, resources, tokens
from portico.protocol.claims import (
    ORGANIZATION_SCOPE,
    SCOPE_CLAIMS,
    requested_claim_names,
    select_claims,
    user_claims,
)
from portico.protocol.encryption import seal_userinfo
from portico.protocol.errors import InsufficientScope, InvalidRequest, InvalidToken, OAuthError
from portico.protocol.resource_metadata import metadata_url
from portico.protocol.subjects import subject_for
from portico.settings import Settings
from portico.storage.db import Database
from portico.storage.models import AccessToken
from portico.storage.models.base import utcnow
from portico.storage.repositories.dpop import DpopProofs
from portico.storage.repositories.grants import Tokens


@dataclass(frozen=True)
class UserInfoResult:
    """Either plain claims or a signed JWT, as the client registered."""

    claims: dict[str, Any]
    jwt: str | None = None


@dataclass(frozen=True)
class Presentation:
    """How the access token came: ``scheme`` (``bearer``, ``dpop`` or ``body``), the
    ``DPoP`` header values, and the method and URL the proof must name (htm, htu)."""

    scheme: str
    proofs: list[str]
    method: str
    url: str


def presented_token(
    authorization: str | None, form_token: str | None
) -> tuple[str, str] | None:
    """``(scheme, token)`` from the Authorization header (Bearer or DPoP) or the form
    body; None when the request carries no token."""
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() not in ("bearer", "dpop") or not value.strip():
            raise InvalidToken("The Authorization header is not a Bearer or DPoP token.")
        if form_token:
            raise InvalidRequest("Send the access token in one place only.")
        return scheme.lower(), value.strip()
    return ("body", form_token) if form_token else None


def check_binding(
    record: AccessToken, presentation: Presentation, proof: dpop.Proof | None
) -> None:
    """RFC 9449 §7: a bound token only with the DPoP scheme and a proof of its key."""
    if record.cnf_jkt:
        if presentation.scheme != "dpop" or proof is None:
            raise InvalidToken("This access token is DPoP-bound; use the DPoP scheme.")
        if proof.jkt != record.cnf_jkt:
            raise InvalidToken("The DPoP proof key does not match the access token.")
    elif presentation.scheme == "dpop":
        raise InvalidToken("This access token is not DPoP-bound; use the Bearer scheme.")


def challenges(
    err: OAuthError | None, scheme: str | None, settings: Settings
) -> tuple[int, list[tuple[str, str]]]:
    """Status and headers of a refused UserInfo request: a ``Bearer`` and a ``DPoP``
    challenge, the error in the one of the scheme used (RFC 6750 §3, RFC 9449 §7.1),
    both with ``resource_metadata`` (RFC 9728 §5.1), and ``DPoP-Nonce`` when a nonce is
    required (§9). DPoP proof errors at a resource are 401s."""
    where = f'resource_metadata="{metadata_url(settings, resources.USERINFO_PATH)}"'
    bearer = ['Bearer realm="portico"']
    proof = ['DPoP realm="portico"', f'algs="{" ".join(dpop.DPOP_ALGS)}"']
    status = 401
    extra: list[tuple[str, str]] = []
    if err is not None:
        is_dpop = isinstance(err, dpop.InvalidDpopProof | dpop.UseDpopNonce)
        status = 401 if is_dpop else err.status
        target = proof if is_dpop or scheme == "dpop" else bearer
        target += [f'error="{err.error}"', f'error_description="{err.description}"']
        if isinstance(err, dpop.UseDpopNonce):
            extra.append((dpop.NONCE_HEADER, err.nonce))
    return status, [
        ("WWW-Authenticate", ", ".join([*bearer, where])),
        ("WWW-Authenticate", ", ".join([*proof, where])),
        *extra,
    ]


def bearer_token(authorization: str | None, form_token: str | None) -> str | None:
    """Extract the bearer token; ``None`` when the request carries none."""
    header_token = None
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise InvalidToken("The Authorization header is not a bearer token.")
        header_token = value.strip()
    if header_token and form_token:
        raise InvalidRequest("Send the access token in one place only.")
    return header_token or form_token


async def userinfo(
    token: str, *, settings: Settings, db: Database, keys: LoadedKeys,
    fetch_jwks: FetchJwks | None = None,
    presentation: Presentation | None = None,
) -> UserInfoResult:
    """The claims this token may see."""
    try:
        claims = tokens.verify(keys, token, typ="at+jwt")
    except ValueError:
        raise InvalidToken("The access token is invalid.") from None
    shown = presentation or Presentation("bearer", [], "GET", settings.url("/userinfo"))
    proof = None
    if shown.scheme == "dpop":
        proof = dpop.check_proof(
            shown.proofs, method=shown.method, url=shown.url, settings=settings,
            access_token=token,
        )
        if proof is None:
            raise dpop.InvalidDpopProof("The DPoP scheme needs a DPoP proof.")
    # Without a DPoP proof to record nothing is written: a read transaction (no SQLite
    # write lock, see storage/db.py).
    async with (db.read() if proof is None else db.session()) as session:
        found = await Tokens(session).access_token_in_full(str(claims.get("jti", "")))
        record, user, client = found if found is not None else (None, None, None)
        if record is None or record.revoked_at is not None or record.expires_at <= utcnow():
            raise InvalidToken("The access token is expired or revoked.")
        check_binding(record, shown, proof)
        if not resources.accepts(record.audience, settings.url(resources.USERINFO_PATH), settings):
            raise InvalidToken("The access token is meant for another resource.")
        if proof is not None and not await DpopProofs(session).first_use(
            proof.replay_key, proof.expires_at
        ):
            raise dpop.InvalidDpopProof("The DPoP proof was already used.")
        if record.user_id is None:
            raise InvalidToken("The access token does not represent a user.")
        scopes = set(record.scope.split())
        if "openid" not in scopes:
            raise InsufficientScope("The access token lacks the openid scope.")
        if user is None or user.disabled:
            raise InvalidToken("The user behind this token is no longer active.")
        names = requested_claim_names(
            scopes, record.claims, "userinfo", include_scope_claims=True
        )
        wants_org = bool(names & set(SCOPE_CLAIMS[ORGANIZATION_SCOPE]))
        acting = await acting_in(session, user.id, record.org_id) if wants_org else None
    body = {"sub": subject_for(client, user.id),
            **select_claims(user_claims(user, acting), names)}
    signed_jwt = None
    if client is not None and client.userinfo_signed_response_alg:
        signed = dict(body, iss=settings.issuer, aud=client.id)
        signed_jwt = tokens.sign(keys, client.userinfo_signed_response_alg, signed)
    if client is not None and fetch_jwks is not None:
        # OIDC Core §5.3.2: signed-then-encrypted, or encrypted JSON, when registered.
        sealed = await seal_userinfo(client, body, signed_jwt, settings.issuer, fetch_jwks)
        if sealed is not None:
            return UserInfoResult(body, sealed)
    return UserInfoResult(body, signed_jwt)
