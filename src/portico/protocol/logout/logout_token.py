"""The Logout Token (OIDC Back-Channel Logout 1.0 §2.4).

It is signed like the client's ID tokens ("The same keys are used to sign and encrypt
Logout Tokens as are used for ID Tokens", §2.4) with the client's
``id_token_signed_response_alg``, explicitly typed ``logout+jwt`` (§2.4, RFC 8725
§3.11) so it can never be mistaken for an ID token, and never carries a ``nonce``
(§2.4: "A nonce Claim MUST NOT be present").
"""

from __future__ import annotations

import time
from typing import Any

from portico.crypto.signing_keys import LoadedKeys
from portico.crypto.tokens import new_id
from portico.protocol import tokens

EVENT = "http://schemas.openid.net/event/backchannel-logout"
TYP = "logout+jwt"
# §2.4 recommends a short lifetime; two minutes covers clock skew and a slow RP.
TTL = 120


def logout_token(
    keys: LoadedKeys,
    *,
    alg: str,
    issuer: str,
    client_id: str,
    subject: str | None,
    sid: str | None,
    ttl: int = TTL,
) -> str:
    """A signed Logout Token for ``client_id``; §2.4: at least one of ``sub``/``sid``."""
    if not subject and not sid:
        raise ValueError("a logout token names a subject, a session or both")
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": client_id,
        "iat": now,
        "exp": now + min(ttl, TTL),
        "jti": new_id(),
        "events": {EVENT: {}},
    }
    if subject:
        claims["sub"] = subject
    if sid:
        claims["sid"] = sid
    return tokens.sign(keys, alg, claims, typ=TYP)
