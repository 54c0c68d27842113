"""DPoP (RFC 9449): proofs of possession of a client key, checked at the token endpoint
and at UserInfo, and the server-provided nonces that limit how far ahead a proof can be
made.

A proof is a JWT the client signs for one HTTP request. ``check_proof`` runs the checks
of §4.3 in order and returns the key's RFC 7638 thumbprint (``jkt``), which the token
endpoint writes into the access token as ``cnf.jkt`` (§6.1). What it does not do itself
is remember ``jti``s: the caller records ``Proof.replay_key`` in the ``dpop_proofs``
table inside its own transaction (§11.1), where a duplicate primary key is a replay, so
every instance sees every proof.

Nonces (§8, §9) are stateless: an HMAC of the current time window under a key derived
from the master key that every instance shares. A nonce is accepted during its own
window and the next one, so any instance can issue it and any other can check it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import posixpath
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, unquote, urlsplit

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry
from joserfc.jws import JWSRegistry

from portico.crypto.tokens import lookup_hash
from portico.protocol.errors import OAuthError

if TYPE_CHECKING:
    from portico.settings import Settings

# Asymmetric JWS algorithms only (§4.2: "MUST NOT be none or an identifier for a
# symmetric algorithm"); advertised as ``dpop_signing_alg_values_supported`` (§5.1).
DPOP_ALGS = ("ES256", "ES384", "ES512", "PS256", "PS384", "PS512", "RS256", "EdDSA", "Ed25519")
PROOF_TYP = "dpop+jwt"
DPOP_HEADER = "DPoP"
NONCE_HEADER = "DPoP-Nonce"
MAX_PROOF_BYTES = 8192
# A proof signed a little in the future is a clock difference, not an attack.
FUTURE_LEEWAY = 10


class _ProofRegistry(JWSRegistry):
    """joserfc's JWS rules with room for the ``jwk`` header: a 4096-bit RSA key in it
    is ~750 bytes, past joserfc's default 512-byte header limit."""

    max_header_length = 2048


_PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})
_JKT = re.compile(r"^[A-Za-z0-9_-]{43}$")


class InvalidDpopProof(OAuthError):
    """RFC 9449 §5 and §7.1: "The DPoP proof JWT is invalid." """

    error = "invalid_dpop_proof"
    default_description = "The DPoP proof is invalid."


class UseDpopNonce(OAuthError):
    """RFC 9449 §8 and §9: the server requires a nonce it provides (in ``DPoP-Nonce``).

    The nonce is not a secret: it is the value the client must put in its next proof.
    """

    error = "use_dpop_nonce"
    default_description = "The DPoP proof must carry the nonce this server provides."

    def __init__(self, nonce: str, description: str | None = None) -> None:
        super().__init__(description)
        self.nonce = nonce


@dataclass(frozen=True)
class Proof:
    """A DPoP proof that passed §4.3: whose key (``jkt``) and how to detect its replay."""

    jkt: str
    replay_key: str
    expires_at: datetime


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def access_token_hash(access_token: str) -> str:
    """``ath`` (§4.2): base64url of the SHA-256 of the access token's ASCII bytes."""
    return b64url(hashlib.sha256(access_token.encode("ascii", "replace")).digest())


def is_thumbprint(value: str) -> bool:
    """Looks like a base64url SHA-256 JWK thumbprint (RFC 7638), e.g. ``dpop_jkt``."""
    return bool(_JKT.match(value))


_UNRESERVED = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_uri(uri: str) -> str:
    """The URI without query and fragment, after the syntax-based and scheme-based
    normalisation of RFC 3986 §6.2.2 and §6.2.3 (as §4.3 of RFC 9449 asks for ``htu``):
    lower-case scheme and host, default port dropped, empty path as ``/``, dot segments
    removed, percent-encoding of unreserved characters decoded and the rest upper-cased.
    Raises ``ValueError`` for something that is not an absolute http(s) URI."""
    parts = urlsplit(uri)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError("not an absolute http(s) URI")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port  # raises ValueError for a malformed port
    authority = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = parts.path or "/"
    segments = [quote(unquote(s), safe=_UNRESERVED + "!$&'()*+,;=:@") for s in path.split("/")]
    path = "/".join(segments)
    normalized = posixpath.normpath(path) if path not in ("", "/") else "/"
    if path.endswith("/") and not normalized.endswith("/"):
        normalized += "/"
    if normalized.startswith("//"):
        normalized = "/" + normalized.lstrip("/")
    return f"{scheme}://{authority}{normalized}"


class Nonces:
    """Server-provided DPoP nonces, stateless and shared by every instance."""

    def __init__(self, key: bytes, window: int) -> None:
        self._key = key
        self.window = window

    def __repr__(self) -> str:
        return f"Nonces(window={self.window}, key=<hidden>)"

    def _mac(self, index: int) -> str:
        digest = hmac.new(self._key, b"dpop-nonce:" + index.to_bytes(8, "big"), hashlib.sha256)
        return b64url(digest.digest()[:18])

    def current(self, now: float | None = None) -> str:
        """The nonce to hand out now."""
        return self._mac(int((now if now is not None else time.time()) // self.window))

    def valid(self, nonce: object, now: float | None = None) -> bool:
        """Issued in this window or the previous one, by any instance."""
        if not isinstance(nonce, str) or len(nonce) != 24:
            return False
        index = int((now if now is not None else time.time()) // self.window)
        return any(hmac.compare_digest(nonce, self._mac(i)) for i in (index, index - 1))


_NONCE_KEYS: dict[str, bytes] = {}


def nonces_for(settings: Settings) -> Nonces:
    """The nonce source for these settings: its key is derived from the master key, so
    all instances of one deployment agree (the derived key is cached per process)."""
    from portico.services import master_key

    source = (
        settings.secret_key.get_secret_value()
        if settings.secret_key is not None
        else f"file:{settings.keys_dir}"
    )
    cache_key = hashlib.sha256(source.encode()).hexdigest()
    key = _NONCE_KEYS.get(cache_key)
    if key is None:
        key = hmac.new(master_key(settings), b"portico-dpop-nonce-v1", hashlib.sha256).digest()
        _NONCE_KEYS[cache_key] = key
    return Nonces(key, settings.dpop_proof_max_age)


def _header(token: str) -> dict[str, Any]:
    part = token.split(".")[0]
    try:
        header = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except (ValueError, UnicodeDecodeError):
        raise InvalidDpopProof("The DPoP proof is not a JWT.") from None
    if not isinstance(header, dict):
        raise InvalidDpopProof("The DPoP proof is not a JWT.")
    return header


def split_header_values(values: list[str]) -> list[str]:
    """Every proof in the ``DPoP`` header fields (a JWT never contains a comma, so a
    comma means the header was sent more than once and folded)."""
    return [v.strip() for value in values for v in value.split(",") if v.strip()]


def check_proof(
    values: list[str],
    *,
    method: str,
    url: str,
    settings: Settings,
    access_token: str | None = None,
    now: float | None = None,
) -> Proof | None:
    """Check the request's DPoP proof per RFC 9449 §4.3 (and §7 when ``access_token`` is
    presented with it); None when the request carries none."""
    if not values:
        return None
    proofs = split_header_values(values)
    if not proofs:
        raise InvalidDpopProof("The DPoP header is empty.")
    # 1. Exactly one DPoP HTTP request header field.
    if len(proofs) > 1:
        raise InvalidDpopProof("Send exactly one DPoP header.")
    token = proofs[0]
    # 2. A single well-formed JWT.
    if len(token) > MAX_PROOF_BYTES or token.count(".") != 2:
        raise InvalidDpopProof("The DPoP proof is not a JWT.")
    header = _header(token)
    # 4. typ, 5. an asymmetric, supported alg.
    if header.get("typ") != PROOF_TYP:
        raise InvalidDpopProof("The DPoP proof typ must be dpop+jwt.")
    alg = header.get("alg")
    if alg not in DPOP_ALGS:
        raise InvalidDpopProof("The DPoP proof alg is not supported.")
    # 7. The public key in the jwk header, with no private members.
    jwk = header.get("jwk")
    if not isinstance(jwk, dict) or _PRIVATE_MEMBERS & set(jwk):
        raise InvalidDpopProof("The DPoP proof jwk must be a public key.")
    try:
        key = JWKRegistry.import_key(jwk)  # type: ignore[arg-type]
        if key.is_private or jwk.get("kty") == "oct":
            raise InvalidDpopProof("The DPoP proof jwk must be a public key.")
        # 6. The signature verifies with that key.
        registry = _ProofRegistry(algorithms=[alg])
        verified = jwt.decode(token, key, algorithms=[alg], registry=registry)
        claims = dict(verified.claims)
        jkt = key.thumbprint()
    except InvalidDpopProof:
        raise
    except (JoseError, ValueError, TypeError, KeyError):
        raise InvalidDpopProof("The DPoP proof signature does not verify.") from None
    # 3. Required claims.
    jti, htm, htu, iat = (claims.get(n) for n in ("jti", "htm", "htu", "iat"))
    if not isinstance(jti, str) or not 1 <= len(jti) <= 512:
        raise InvalidDpopProof("The DPoP proof needs a jti.")
    if not isinstance(htm, str) or not isinstance(htu, str):
        raise InvalidDpopProof("The DPoP proof needs htm and htu.")
    if not isinstance(iat, int | float) or isinstance(iat, bool):
        raise InvalidDpopProof("The DPoP proof needs a numeric iat.")
    # 8. htm, 9. htu (normalised, without query and fragment).
    if htm != method:
        raise InvalidDpopProof("The DPoP proof htm does not match the request method.")
    try:
        same_target = normalize_uri(htu) == normalize_uri(url)
    except ValueError:
        same_target = False
    if not same_target:
        raise InvalidDpopProof("The DPoP proof htu does not match the request URI.")
    # 10. The server-provided nonce, when required.
    current = time.time() if now is None else now
    if settings.dpop_require_nonce:
        nonces = nonces_for(settings)
        if "nonce" not in claims:
            raise UseDpopNonce(nonces.current(current), "A DPoP nonce is required.")
        if not nonces.valid(claims.get("nonce"), current):
            raise UseDpopNonce(nonces.current(current), "The DPoP nonce is stale or unknown.")
    # 11. Created within an acceptable window.
    max_age = settings.dpop_proof_max_age
    if not current - max_age <= iat <= current + FUTURE_LEEWAY:
        raise InvalidDpopProof("The DPoP proof iat is outside the acceptable window.")
    # 12. At a resource: ath binds the proof to the access token presented with it.
    if access_token is not None:
        ath = claims.get("ath")
        if not isinstance(ath, str) or not hmac.compare_digest(
            ath, access_token_hash(access_token)
        ):
            raise InvalidDpopProof("The DPoP proof ath does not match the access token.")
    expires = datetime.fromtimestamp(max(iat, current) + max_age + FUTURE_LEEWAY, UTC)
    return Proof(jkt=jkt, replay_key=lookup_hash(f"{jkt}:{jti}"), expires_at=expires)
