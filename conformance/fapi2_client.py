"""The FAPI 2.0 plan's client side: two ``private_key_jwt`` clients (ES256 keys the
runner generates), DPoP keys and proofs (RFC 9449), pushed authorization requests
(RFC 9126) and the token and UserInfo calls, with DPoP nonces (§8, §9) handled the way
the suite's ``CallTokenEndpointAllowingDpopNonceErrorAndReturnFullResponse`` does: on
``use_dpop_nonce`` the call is repeated once with the nonce from ``DPoP-Nonce``.

``--provision`` registers the clients through the ``portico`` CLI with
``--require-par --dpop-bound`` and their public JWKS; the private keys never leave the
runner. Against a deployment you registered yourself, give the clients (id and private
JWK) in the plan configuration (``client`` / ``client2``: ``client_id`` and ``jwks``).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey

from conformance.framework import ModuleRun, RunEnv
from conformance.provision import _run as run_cli

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
ALG = "ES256"  # FAPI 2.0 SP §5.4.1: PS256, ES256 or EdDSA


@dataclass
class FapiClient:
    """A registered private_key_jwt client and its signing keys (ES256, plus one RSA key
    for ``ensure-signed-client-assertion-with-RS256-fails``)."""

    client_id: str
    key: ECKey
    rsa_key: RSAKey | None = None

    def public_jwks(self) -> dict[str, Any]:
        keys = [self.key.as_dict(private=False)]
        if self.rsa_key is not None:
            keys.append(self.rsa_key.as_dict(private=False))
        return {"keys": keys}

    def __repr__(self) -> str:  # keys never appear in reports or tracebacks
        return f"FapiClient({self.client_id!r})"


@dataclass
class Fapi2Rig:
    """What the FAPI 2.0 modules share: the two clients and the latest DPoP nonce."""

    client: FapiClient
    client2: FapiClient
    nonce: str | None = None
    nonces_seen: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


def new_client_keys(tag: str) -> tuple[ECKey, RSAKey]:
    return (
        ECKey.generate_key("P-256", parameters={"kid": f"es-{tag}", "use": "sig", "alg": ALG}),
        RSAKey.generate_key(2048, parameters={"kid": f"rs-{tag}", "use": "sig", "alg": "RS256"}),
    )


def provision(redirect_uri: str, command: Sequence[str] | None) -> Fapi2Rig:
    """Register ``client`` and ``client2`` with the CLI: private_key_jwt, PAR required,
    DPoP-bound access tokens (FAPI 2.0 SP §5.3.2.2, §5.3.2.1, §5.3.3)."""
    tag = secrets.token_hex(4)
    made: list[FapiClient] = []
    for name in ("client", "client2"):
        key, rsa = new_client_keys(f"{name}-{tag}")
        client = FapiClient("", key, rsa)
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=True) as jwks:
            jwks.write(json.dumps(client.public_jwks()))
            jwks.flush()
            args = ["client", "add", "--name", f"OIDF FAPI2 {name} {tag}",
                    "--auth-method", "private_key_jwt", "--jwks-file", jwks.name,
                    "--redirect-uri", redirect_uri, "--redirect-uri", redirect_uri + "2",
                    "--grant", "authorization_code", "--grant", "refresh_token",
                    "--require-par", "--dpop-bound", "--assertion-alg", ALG,
                    # FAPI 2.0 SP §5.4.1: PS256, ES256 or EdDSA for everything signed.
                    "--id-token-alg", ALG, "--access-token-alg", ALG, "--json"]
            out = json.loads(run_cli(command, args, stdin=None, env=None, cwd=None))
        client.client_id = out["client_id"]
        made.append(client)
    return Fapi2Rig(made[0], made[1])


def from_config(config: dict[str, Any]) -> Fapi2Rig | None:
    """``client`` and ``client2`` of the suite's configuration: ``client_id`` and a
    ``jwks`` holding the private ES256 key (as in plans/fapi2.json)."""
    made: list[FapiClient] = []
    for name in ("client", "client2"):
        entry = config.get(name)
        if not isinstance(entry, dict) or not entry.get("client_id"):
            return None
        keys = (entry.get("jwks") or {}).get("keys") or []
        ec = next((k for k in keys if k.get("kty") == "EC" and "d" in k), None)
        if ec is None:
            return None
        try:
            key = ECKey.import_key(ec)
        except (ValueError, TypeError):
            return None
        made.append(FapiClient(str(entry["client_id"]), key))
    return Fapi2Rig(made[0], made[1])


def rig(t: ModuleRun) -> Fapi2Rig:
    found = t.env.extras.get("fapi2")
    if not isinstance(found, Fapi2Rig):
        t.fail("no FAPI 2.0 clients: use --provision or give client/client2 with a jwks")
    return found


# --- client authentication (RFC 7523 §3, OIDC Core §9) ---------------------------------


def assertion(env: RunEnv, client: FapiClient, *, use_rsa: bool = False,
              drop: Sequence[str] = (), **overrides: Any) -> str:
    """CreateClientAuthenticationAssertionClaims + SignClientAuthenticationAssertion:
    iss = sub = client_id, aud = the issuer (FAPI 2.0 SP §5.3.2.1 point 8: the AS must
    accept its issuer identifier), a fresh jti, a 60 s lifetime."""
    now = int(time.time())
    claims: dict[str, Any] = {"iss": client.client_id, "sub": client.client_id,
                              "aud": env.issuer, "jti": secrets.token_urlsafe(16),
                              "iat": now, "nbf": now, "exp": now + 60}
    claims.update(overrides)
    for name in drop:
        claims.pop(name, None)
    if use_rsa:
        assert client.rsa_key is not None
        return jwt.encode({"alg": "RS256", "kid": client.rsa_key.kid}, claims, client.rsa_key)
    return jwt.encode({"alg": ALG, "kid": client.key.kid}, claims, client.key)


def authenticate(env: RunEnv, client: FapiClient, form: dict[str, str], *,
                 client_assertion: str | None = None) -> dict[str, str]:
    """AddClientAssertionToTokenEndpointRequest."""
    return dict(form, client_id=client.client_id, client_assertion_type=ASSERTION_TYPE,
                client_assertion=client_assertion or assertion(env, client))


# --- DPoP (RFC 9449) -------------------------------------------------------------------


def new_dpop_key() -> ECKey:
    return ECKey.generate_key("P-256")


def jkt(key: ECKey) -> str:
    """RFC 7638 thumbprint of the public key (RFC 9449 §6.1)."""
    return str(key.thumbprint())


def ath(access_token: str) -> str:
    digest = hashlib.sha256(access_token.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def proof(key: ECKey, method: str, url: str, *, nonce: str | None = None,
          access_token: str | None = None, header: dict[str, Any] | None = None,
          drop: Sequence[str] = (), **overrides: Any) -> str:
    """CreateDpopHeader + CreateDpopClaims + SignDpopProof (RFC 9449 §4.2)."""
    head: dict[str, Any] = {"typ": "dpop+jwt", "alg": ALG, "jwk": key.as_dict(private=False)}
    head.update(header or {})
    claims: dict[str, Any] = {"jti": secrets.token_urlsafe(16), "htm": method, "htu": url,
                              "iat": int(time.time())}
    if nonce:
        claims["nonce"] = nonce
    if access_token is not None:
        claims["ath"] = ath(access_token)
    claims.update(overrides)
    for name in drop:
        claims.pop(name, None)
    return jwt.encode(head, claims, key)


def _remember_nonce(r: Fapi2Rig, response: httpx.Response) -> None:
    value = response.headers.get("dpop-nonce")
    if value:
        r.nonce = value
        r.nonces_seen += 1


def _wants_nonce(response: httpx.Response) -> bool:
    """RFC 9449 §8 (400 ``use_dpop_nonce`` from the AS) and §9 (401 with the error in
    ``WWW-Authenticate`` from a resource server)."""
    if response.status_code == 401:
        return "use_dpop_nonce" in response.headers.get("www-authenticate", "")
    if response.status_code == 400:
        try:
            return response.json().get("error") == "use_dpop_nonce"
        except ValueError:
            return False
    return False


def dpop_post(t: ModuleRun, url: str, form: dict[str, str], key: ECKey | None, *,
              client: FapiClient | None = None, proof_args: dict[str, Any] | None = None,
              raw_proof: str | None = None, retry_nonce: bool = True) -> httpx.Response:
    """POST ``form`` (re-authenticated on each try: an assertion's jti is single use)
    with a fresh DPoP proof, repeating once with the server's nonce when asked."""
    r = rig(t)
    response: httpx.Response | None = None
    for _ in range(2 if retry_nonce else 1):
        headers = {"Accept": "application/json"}
        body = authenticate(t.env, client, form) if client is not None else dict(form)
        if raw_proof is not None:
            headers["DPoP"] = raw_proof
        elif key is not None:
            headers["DPoP"] = proof(key, "POST", url, nonce=r.nonce, **(proof_args or {}))
        response = t.env.http.post(url, data=body, headers=headers)
        _remember_nonce(r, response)
        if not (_wants_nonce(response) and key is not None and raw_proof is None):
            break
    assert response is not None
    return response


def dpop_get(t: ModuleRun, url: str, access_token: str, key: ECKey | None, *,
             scheme: str = "DPoP", proof_args: dict[str, Any] | None = None,
             raw_proof: str | None = None) -> httpx.Response:
    """A protected-resource call (RFC 9449 §7.1): ``Authorization: DPoP`` plus a proof
    carrying ``ath``; repeated once with the nonce on ``use_dpop_nonce``."""
    r = rig(t)
    response: httpx.Response | None = None
    for _ in range(2):
        headers = {"Accept": "application/json", "Authorization": f"{scheme} {access_token}"}
        if raw_proof is not None:
            headers["DPoP"] = raw_proof
        elif key is not None:
            args = {"access_token": access_token, **(proof_args or {})}
            headers["DPoP"] = proof(key, "GET", url, nonce=r.nonce, **args)
        response = t.env.http.get(url, headers=headers)
        _remember_nonce(r, response)
        if not (_wants_nonce(response) and key is not None and raw_proof is None):
            break
    assert response is not None
    return response


def body_of(response: httpx.Response) -> dict[str, Any]:
    try:
        value = response.json()
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def access_token_claims(token: str) -> dict[str, Any] | None:
    """The payload of a JWT access token (RFC 9068), or None for an opaque token."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        value = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def verify_access_token(t: ModuleRun, token: str) -> dict[str, Any] | None:
    """A JWT access token must verify against the OP's JWKS (RFC 9068 §4)."""
    claims = access_token_claims(token)
    if claims is None:
        return None
    try:
        jwt.decode(token, KeySet.import_key_set(t.env.jwks))  # type: ignore[arg-type]
    except Exception as exc:  # noqa: BLE001 - reported as a check failure
        t.check(False, f"the JWT access token does not verify against the JWKS: {exc}")
    return claims

