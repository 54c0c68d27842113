"""Minting ID tokens (OIDC Core §2) and JWT access tokens (RFC 9068)."""

from __future__ import annotations

import json
import time
from base64 import urlsafe_b64decode
from typing import TYPE_CHECKING, Any

from authlib.oidc.core.util import create_half_hash
from joserfc import jwt

from portico.crypto.signing_keys import LoadedKeys
from portico.crypto.tokens import new_id
from portico.protocol.claims import requested_claim_names, select_claims, user_claims
from portico.protocol.subjects import subject_for

if TYPE_CHECKING:
    from portico.orgs.active import Acting
    from portico.settings import Settings
    from portico.storage.models import Client, User

# The default JWS algorithm of RFC 9068 access tokens; a client may register another
# (``access_token_signed_response_alg``, any of SUPPORTED_ALGS): ES256 signs in a tenth
# of RS256's time, which is most of a client_credentials request's own CPU.
ACCESS_TOKEN_ALG = "RS256"


def sign(keys: LoadedKeys, alg: str, claims: dict[str, Any], typ: str = "JWT") -> str:
    """Sign ``claims`` with the active key for ``alg`` (its kid in the header)."""
    key = keys.signers[alg]
    header = {"alg": alg, "kid": key.kid, "typ": typ}
    return jwt.encode(header, claims, key, algorithms=[alg])


def half_hash(value: str, alg: str) -> str:
    """``at_hash`` / ``c_hash``: left half of the hash that matches ``alg`` (§3.1.3.6)."""
    digest = create_half_hash(value, alg)
    assert digest is not None
    return digest.decode()


def id_token(
    keys: LoadedKeys,
    *,
    alg: str,
    issuer: str,
    client_id: str,
    subject: str,
    ttl: int,
    auth_time: int | None,
    nonce: str | None = None,
    acr: str | None = None,
    amr: list[str] | None = None,
    sid: str | None = None,
    access_token: str | None = None,
    code: str | None = None,
    extra: dict[str, Any] | None = None,
) -> str:
    """An ID token for ``client_id`` about ``subject``."""
    now = int(time.time())
    claims: dict[str, Any] = dict(extra or {})
    claims.update(iss=issuer, sub=subject, aud=client_id, azp=client_id, iat=now, exp=now + ttl)
    if auth_time is not None:
        claims["auth_time"] = auth_time
    if nonce:
        claims["nonce"] = nonce
    if acr:
        claims["acr"] = acr
    if amr:
        claims["amr"] = amr
    if sid:
        claims["sid"] = sid
    if access_token:
        claims["at_hash"] = half_hash(access_token, alg)
    if code:
        claims["c_hash"] = half_hash(code, alg)
    return sign(keys, alg, claims)


def id_token_for_client(
    keys: LoadedKeys,
    settings: Settings,
    client: Client,
    user: User,
    acting: Acting | None,
    *,
    scopes: set[str],
    claims_request: dict[str, Any] | None,
    auth_time: int | None,
    nonce: str | None,
    acr: str | None,
    amr: list[str] | None,
    sid: str | None,
    access_token: str | None = None,
    code: str | None = None,
) -> str:
    """THE ID token Portico gives ``client`` about ``user``: the token endpoint (code
    and refresh grants) and /authorize (implicit and hybrid flows) all come here, so
    whatever depends on the client (signing alg, subject type, encryption) is decided
    once. Claims: those of the scopes and of the ``claims`` parameter (OIDC Core
    §5.4, §5.5), organization claims of ``acting``; ``at_hash``/``c_hash`` when an
    access token / code travels with it (§3.3.2.11)."""
    names = requested_claim_names(scopes, claims_request, "id_token", include_scope_claims=True)
    extra = select_claims(user_claims(user, acting), names)
    return id_token(
        keys,
        alg=client.id_token_signed_response_alg,
        issuer=settings.issuer,
        client_id=client.id,
        subject=subject_for(client, user.id),  # OIDC Core §8: pairwise clients differ
        ttl=settings.id_token_ttl,
        auth_time=auth_time,
        nonce=nonce,
        acr=acr,
        amr=amr,
        sid=sid,
        access_token=access_token,
        code=code,
        extra=extra,
    )


def access_token(
    keys: LoadedKeys,
    *,
    issuer: str,
    client_id: str,
    subject: str,
    scope: str,
    ttl: int,
    auth_time: int | None = None,
    extra: dict[str, Any] | None = None,
    audience: str | list[str] | None = None,
    alg: str | None = None,
) -> tuple[str, str, int]:
    """An RFC 9068 access token signed with ``alg`` (default ``ACCESS_TOKEN_ALG``);
    returns (token, jti, exp). ``aud`` is the issuer unless resource indicators or token
    exchange named the resource(s) (``audience``)."""
    now = int(time.time())
    jti = new_id()
    claims: dict[str, Any] = dict(extra or {})
    claims.update(
        iss=issuer,
        sub=subject,
        aud=audience or issuer,
        client_id=client_id,
        scope=scope,
        iat=now,
        exp=now + ttl,
        jti=jti,
    )
    if auth_time is not None:
        claims["auth_time"] = auth_time
    return sign(keys, alg or ACCESS_TOKEN_ALG, claims, typ="at+jwt"), jti, now + ttl


def _padded(segment: str) -> bytes:
    return (segment + "=" * (-len(segment) % 4)).encode("ascii")


def verify(keys: LoadedKeys, token: str, *, typ: str | None = None) -> dict[str, Any]:
    """Verify a token Portico signed; raises ``ValueError`` when it is not one.

    The ``kid`` picks the published key and the key's own ``alg`` is the only algorithm
    accepted (RFC 8725 §3.1): tokens of every client verify whatever algorithm it
    registered, and a header cannot choose another. Expiry is the caller's business: an
    expired ``id_token_hint`` is still a hint.
    """
    from joserfc.errors import JoseError

    if not isinstance(token, str) or len(token) > 16384 or token.count(".") != 2:
        raise ValueError("not a compact JWS")
    try:
        header = json.loads(urlsafe_b64decode(_padded(token.partition(".")[0])))
        kid = header.get("kid") if isinstance(header, dict) else None
        key = keys.keyset.get_by_kid(kid) if isinstance(kid, str) else None
    except (JoseError, ValueError, TypeError, KeyError):
        key = None
    if key is None or not key.alg:
        raise ValueError("token does not verify: no published key has its kid")
    try:
        decoded = jwt.decode(token, key, algorithms=[key.alg])
    except (JoseError, ValueError, TypeError) as exc:
        raise ValueError(f"token does not verify: {type(exc).__name__}") from None
    if typ is not None and decoded.header.get("typ") != typ:
        raise ValueError("unexpected token type")
    return dict(decoded.claims)
