"""Encrypting ID tokens and userinfo for the clients that registered for it (OIDC Core
§10.2, OIDC Registration §2 ``id_token_encrypted_response_*``,
``userinfo_encrypted_response_*``).

Signing happens where the token is made; encryption happens here, at the edge, once
the transaction is over: a client's keys may have to be fetched from its
``jwks_uri``, and no database lock may wait on the network (ECOSYSTEM, spike A). An
ID token is always signed, then encrypted (a nested JWT, ``cty: JWT``).
"""

from __future__ import annotations

import base64
import json
from typing import Any

from portico.crypto.jwe import EncryptionError, FetchJwks, encrypt_for_client
from portico.protocol.errors import InvalidRequest
from portico.storage.models import Client


def id_token_audience(id_token: Any) -> str | None:
    """The ``aud`` of an ID token Portico just signed (read, not verified: it is ours)."""
    if not isinstance(id_token, str):
        return None
    try:
        part = id_token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (IndexError, ValueError):
        return None
    aud = claims.get("aud") if isinstance(claims, dict) else None
    if isinstance(aud, list):
        aud = aud[0] if aud else None
    return aud if isinstance(aud, str) else None


async def seal_id_token(client: Client, id_token: str, fetch_jwks: FetchJwks) -> str:
    """``id_token`` as ``client`` must receive it: encrypted when it registered
    ``id_token_encrypted_response_alg``, else unchanged. For every flow that hands
    out ID tokens (token endpoint, implicit and hybrid responses)."""
    try:
        sealed = await encrypt_for_client(client, "id_token", id_token, fetch_jwks)
    except EncryptionError as exc:
        raise InvalidRequest(f"The ID token cannot be encrypted for this client: {exc}.") \
            from None
    return sealed or id_token


async def seal_token_response(body: dict[str, Any], client: Client | None,
                              fetch_jwks: FetchJwks) -> bool:
    """Encrypt ``body["id_token"]`` in place when ``client`` (the one it was issued to,
    read by the grant's transaction) asks for it; True when it changed."""
    id_token = body.get("id_token")
    if not isinstance(id_token, str) or client is None:
        return False
    if not client.id_token_encrypted_response_alg:
        return False
    body["id_token"] = await seal_id_token(client, id_token, fetch_jwks)
    return True


async def seal_userinfo(client: Client, claims: dict[str, Any], signed: str | None,
                        issuer: str, fetch_jwks: FetchJwks) -> str | None:
    """The userinfo response as ``client`` registered it (OIDC Core §5.3.2): the signed
    JWT encrypted (nested, ``cty: JWT``) or, unsigned, the claims encrypted as JSON
    (with ``iss`` and ``aud``). None when the client registered no encryption."""
    if not client.userinfo_encrypted_response_alg:
        return None
    if signed is not None:
        payload, nested = signed, True
    else:
        payload, nested = json.dumps(dict(claims, iss=issuer, aud=client.id)), False
    try:
        return await encrypt_for_client(client, "userinfo", payload, fetch_jwks,
                                        nested_jwt=nested)
    except EncryptionError as exc:
        raise InvalidRequest(f"The userinfo response cannot be encrypted for this client: "
                             f"{exc}.") from None
