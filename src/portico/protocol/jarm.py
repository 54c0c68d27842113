"""JWT Secured Authorization Response Mode (OpenID JARM).

With ``response_mode`` ``query.jwt``, ``fragment.jwt``, ``form_post.jwt`` or ``jwt``
the authorization response — success or error, once the redirect URI is trusted — is
one signed JWT in a single ``response`` parameter (JARM §2.3). Its claims are the
response parameters plus ``iss``, ``aud`` (the client) and a short ``exp`` (§2.1), so
the client can tell who answered, for whom, and that nobody swapped the parameters on
the way. ``jwt`` stands for the response type's default mode (§2.3.4): ``query.jwt``
for ``code``, ``fragment.jwt`` when tokens come back.

The JWT is signed with the client's ``authorization_signed_response_alg`` (RS256 when it
registered none), then encrypted to the client's key when it registered
``authorization_encrypted_response_alg`` (JARM §2.2: a nested JWT). Only an encrypted
response may carry tokens in the query (§2.3.1).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from portico.crypto.jwe import CONTENT_ENCS, KEY_ALGS, EncryptionError, encrypt_for_client
from portico.crypto.signing_keys import SUPPORTED_ALGS
from portico.protocol import tokens
from portico.protocol.errors import InvalidRequestPage

if TYPE_CHECKING:
    from portico.crypto.jwe import FetchJwks
    from portico.crypto.signing_keys import LoadedKeys
    from portico.storage.models import Client

JARM_MODES = ("query.jwt", "fragment.jwt", "form_post.jwt", "jwt")
SIGNING_ALGS = SUPPORTED_ALGS
ENCRYPTION_ALGS = tuple(KEY_ALGS)
ENCRYPTION_ENCS = CONTENT_ENCS
DEFAULT_ALG = "RS256"
# JARM §2.1: "exp ... a short lifetime is RECOMMENDED" (it only has to reach the client).
RESPONSE_TTL = 120


def is_jarm(mode: str) -> bool:
    """Whether ``mode`` asks for a JWT-secured response."""
    return mode in JARM_MODES


def resolve(mode: str, carries_tokens: bool) -> str:
    """``jwt`` becomes the response type's default JWT mode (JARM §2.3.4)."""
    if mode == "jwt":
        return "fragment.jwt" if carries_tokens else "query.jwt"
    return mode


def base_mode(mode: str) -> str:
    """The plain mode a JWT mode travels by: ``query.jwt`` → ``query``."""
    return mode.removesuffix(".jwt")


def encrypts(client: Client) -> bool:
    """Whether ``client`` receives encrypted response JWTs."""
    return bool(client.authorization_encrypted_response_alg)


async def seal(
    keys: LoadedKeys,
    issuer: str,
    client: Client,
    params: list[tuple[str, str]],
    fetch_jwks: FetchJwks,
) -> str:
    """The response JWT for ``client`` carrying ``params`` (JARM §2.1, §2.2).

    RFC 9207's ``iss`` parameter becomes the ``iss`` claim (same value, same meaning).
    When the client's key cannot be used nothing can reach it safely: an error page.
    """
    now = int(time.time())
    claims: dict[str, object] = {name: value for name, value in params if name != "iss"}
    claims.update(iss=issuer, aud=client.id, iat=now, exp=now + RESPONSE_TTL)
    alg = client.authorization_signed_response_alg or DEFAULT_ALG
    if alg not in keys.signers:
        # Registration only accepts algorithms Portico signs with; a key set missing one
        # (being rotated in) must not turn a response into a 500.
        alg = DEFAULT_ALG
    signed = tokens.sign(keys, alg, claims)
    try:
        encrypted = await encrypt_for_client(client, "authorization", signed, fetch_jwks)
    except EncryptionError as exc:
        raise InvalidRequestPage(
            f"The authorization response cannot be encrypted for this client: {exc}."
        ) from None
    return encrypted or signed
