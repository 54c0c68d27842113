"""Encrypting what Portico sends a client to that client's key (RFC 7516 compact JWE).

OIDC Core §10.2: a signed ID token or userinfo response is a nested JWT, signed then
encrypted, with ``cty: JWT`` (RFC 7519 §5.2); unsigned userinfo is encrypted JSON.
The recipient key comes from the client's ``jwks`` or ``jwks_uri``: a key whose
``use`` is ``enc`` (or unset), whose ``alg`` (when set) is the registered one, and
whose type fits the algorithm. joserfc does the cryptography.

The same function serves JARM (encrypted authorization responses) through
``encrypt_for_client(client, "authorization", payload, fetch_jwks)``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Literal

from joserfc import jwe
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet, OKPKey, RSAKey

if TYPE_CHECKING:
    from portico.storage.models import Client

# Key management algorithms (RFC 7518 §4) and the key types each needs.
KEY_ALGS: dict[str, tuple[type[Any], ...]] = {
    "RSA-OAEP": (RSAKey,),
    "RSA-OAEP-256": (RSAKey,),
    "ECDH-ES": (ECKey, OKPKey),
    "ECDH-ES+A128KW": (ECKey, OKPKey),
    "ECDH-ES+A256KW": (ECKey, OKPKey),
}
# Content encryption algorithms (RFC 7518 §5).
CONTENT_ENCS = ("A128CBC-HS256", "A256CBC-HS512", "A128GCM", "A256GCM")
# OIDC Registration §2: "If [*_encrypted_response_alg] is specified, the default for
# [*_encrypted_response_enc] is A128CBC-HS256."
DEFAULT_ENC = "A128CBC-HS256"
_ALLOWED = [*KEY_ALGS, *CONTENT_ENCS]
_ECDH_CURVES = ("P-256", "P-384", "P-521", "X25519", "X448")

Purpose = Literal["id_token", "userinfo", "authorization"]
FetchJwks = Callable[[str], Awaitable[dict[str, Any]]]


class EncryptionError(Exception):
    """No usable key, or the key set could not be read; the message is public."""


def _usable(key: Any, alg: str) -> bool:
    if not isinstance(key, KEY_ALGS[alg]):
        return False
    if key.get("use") not in (None, "enc") or key.get("alg") not in (None, alg):
        return False
    ops = key.get("key_ops")
    if ops is not None and not ({"encrypt", "wrapKey", "deriveKey"} & set(ops)):
        return False
    if isinstance(key, RSAKey | ECKey | OKPKey) and key.is_private:
        return False  # only ever a client's public key
    return not (alg.startswith("ECDH") and key.get("crv") not in _ECDH_CURVES)


def pick_key(keys: KeySet, alg: str) -> Any:
    """The recipient key for ``alg``: the first usable one, preferring ``use: enc``."""
    if alg not in KEY_ALGS:
        raise EncryptionError(f"unsupported key management algorithm {alg!r}")
    usable = [k for k in keys.keys if _usable(k, alg)]
    usable.sort(key=lambda k: k.get("use") != "enc")
    if not usable:
        raise EncryptionError(f"the client has no public key for {alg}")
    return usable[0]


def encrypt(payload: str | bytes, keys: KeySet, alg: str, enc: str | None,
            *, nested_jwt: bool) -> str:
    """A compact JWE of ``payload`` for the client key in ``keys`` that fits ``alg``.

    ``nested_jwt`` sets ``cty: JWT`` (the payload is a signed JWT, OIDC Core §10.2).
    """
    enc = enc or DEFAULT_ENC
    if enc not in CONTENT_ENCS:
        raise EncryptionError(f"unsupported content encryption algorithm {enc!r}")
    key = pick_key(keys, alg)
    header: dict[str, Any] = {"alg": alg, "enc": enc}
    if key.kid:
        header["kid"] = key.kid
    if nested_jwt:
        header["cty"] = "JWT"
    data = payload.encode() if isinstance(payload, str) else payload
    try:
        return jwe.encrypt_compact(header, data, key, algorithms=_ALLOWED)
    except (JoseError, ValueError, TypeError) as exc:
        raise EncryptionError(f"encryption failed ({type(exc).__name__})") from None


def encryption_of(client: Client, purpose: Purpose) -> tuple[str, str] | None:
    """The (alg, enc) ``client`` registered for ``purpose``; None: send it unencrypted."""
    alg = getattr(client, f"{purpose}_encrypted_response_alg", None)
    if not alg:
        return None
    return alg, getattr(client, f"{purpose}_encrypted_response_enc", None) or DEFAULT_ENC


async def client_keys(client: Client, fetch_jwks: FetchJwks) -> KeySet:
    """The client's registered public keys (``jwks``, else fetched ``jwks_uri``)."""
    try:
        if client.jwks:
            return KeySet.import_key_set(client.jwks)  # type: ignore[arg-type]
        if client.jwks_uri:
            return KeySet.import_key_set(await fetch_jwks(client.jwks_uri))  # type: ignore[arg-type]
    except EncryptionError:
        raise
    except Exception as exc:  # noqa: BLE001 - FetchError, JoseError, bad JSON: all the same to us
        raise EncryptionError(f"the client's keys could not be read ({type(exc).__name__})") \
            from None
    raise EncryptionError("the client registered no keys")


async def encrypt_for_client(client: Client, purpose: Purpose, payload: str | bytes,
                             fetch_jwks: FetchJwks, *, nested_jwt: bool = True) -> str | None:
    """``payload`` encrypted as ``client`` registered for ``purpose``; None when it
    registered no encryption for it (send ``payload`` as it is)."""
    chosen = encryption_of(client, purpose)
    if chosen is None:
        return None
    keys = await client_keys(client, fetch_jwks)
    return encrypt(payload, keys, chosen[0], chosen[1], nested_jwt=nested_jwt)
