"""Minting ID tokens (OIDC Core §2) and JWT access tokens (RFC 9068)."""

from __future__ import annotations

import time
from typing import Any

from authlib.oidc.core.util import create_half_hash
from joserfc import jwt

from portico.crypto.signing_keys import LoadedKeys
from portico.crypto.tokens import new_id

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
) -> tuple[str, str, int]:
    """An RFC 9068 access token; returns (token, jti, exp)."""
    now = int(time.time())
    jti = new_id()
    claims: dict[str, Any] = dict(extra or {})
    claims.update(
        iss=issuer,
        sub=subject,
        aud=issuer,
        client_id=client_id,
        scope=scope,
        iat=now,
        exp=now + ttl,
        jti=jti,
    )
    if auth_time is not None:
        claims["auth_time"] = auth_time
    return sign(keys, ACCESS_TOKEN_ALG, claims, typ="at+jwt"), jti, now + ttl


def verify(keys: LoadedKeys, token: str, *, typ: str | None = None) -> dict[str, Any]:
    """Verify a token Portico signed; raises ``ValueError`` when it is not one.

    Expiry is the caller's business: an expired ``id_token_hint`` is still a hint.
    """
    from joserfc.errors import JoseError

    if not isinstance(token, str) or len(token) > 16384 or token.count(".") != 2:
        raise ValueError("not a compact JWS")
    try:
        decoded = jwt.decode(token, keys.keyset, algorithms=["RS256", "ES256", "EdDSA"])
    except (JoseError, ValueError, TypeError) as exc:
        raise ValueError(f"token does not verify: {type(exc).__name__}") from None
    if typ is not None and decoded.header.get("typ") != typ:
        raise ValueError("unexpected token type")
    return dict(decoded.claims)
