"""The conditions of the OIDF suite, one function each (names in the docstrings).

Every function takes the running :class:`~conformance.framework.ModuleRun` and records
failures/warnings on it at the level the suite uses for that condition.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import time
from collections import Counter
from typing import Any
from urllib.parse import urlsplit

import httpx
from joserfc import jws
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from conformance.framework import ModuleRun, RunEnv

SKEW = 5 * 60  # the suite allows five minutes of clock skew everywhere

# RFC 6749 §4.1.2.1 / §5.2: error, error_description: %x20-21 / %x23-5B / %x5D-7E
_ERROR_CHARS = re.compile(r"^[\x20\x21\x23-\x5B\x5D-\x7E]*$")
_VSCHAR = re.compile(r"^[\x20-\x7E]+$")  # RFC 6749 Appendix A (access/refresh tokens)
_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")

# AbstractValidateOpenIdStandardClaims: the types of the OIDC Core §5.1 claims.
_STRING_CLAIMS = {
    "sub",
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "email",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "phone_number",
}
_BOOLEAN_CLAIMS = {"email_verified", "phone_number_verified"}
_ADDRESS_MEMBERS = {"formatted", "street_address", "locality", "region", "postal_code", "country"}

# ValidateIdTokenStandardClaims: these are ID-token mechanics, not identity claims.
_ID_TOKEN_NON_IDENTITY = {
    "iss",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "acr",
    "amr",
    "azp",
    "c_hash",
    "at_hash",
    "s_hash",
    "jti",
    "nbf",
}

# AbstractVerifyScopesReturnedInClaims (after pyoidc): the claims each scope stands for.
SCOPE_CLAIMS: dict[str, list[str]] = {
    "openid": ["sub"],
    "profile": [
        "name",
        "given_name",
        "family_name",
        "middle_name",
        "nickname",
        "profile",
        "picture",
        "website",
        "gender",
        "birthdate",
        "zoneinfo",
        "locale",
        "updated_at",
        "preferred_username",
    ],
    "email": ["email", "email_verified"],
    "address": ["address"],
    "phone": ["phone_number", "phone_number_verified"],
    "offline_access": [],
}

USER_INTERFACE_ERRORS = (
    "interaction_required",
    "login_required",
    "account_selection_required",
    "consent_required",
)


# --- small helpers -------------------------------------------------------------------


def b64url_json(part: str) -> Any:
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def shannon_bits(value: str) -> float:
    """AbstractEnsureMinimumEntropy: per-character Shannon entropy times the length."""
    if not value:
        return 0.0
    counts = Counter(value)
    n = len(value)
    per_char = -sum((c / n) * math.log2(c / n) for c in counts.values())
    return per_char * n


def is_https_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme == "https" and bool(parts.hostname)


def is_absolute_url(value: object) -> bool:
    if not isinstance(value, str):
        return False
    parts = urlsplit(value)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def content_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip().lower()


def json_body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def same_url(a: str, b: str) -> bool:
    """The callback went where the client asked (scheme, host, port, path)."""
    pa, pb = urlsplit(a), urlsplit(b)
    return (pa.scheme, pa.netloc.lower(), pa.path or "/") == (
        pb.scheme,
        pb.netloc.lower(),
        pb.path or "/",
    )


# --- server metadata and keys ------------------------------------------------------


def check_url(
    t: ModuleRun, env: RunEnv, name: str, value: object, *, required: bool = True
) -> None:
    """AbstractJsonUriIsValidAndHttps: present, absolute, https.

    HTTPS is asserted unless the deployment under test is a plain-HTTP loopback issuer
    (Portico refuses http issuers anywhere else), where it becomes a warning.
    """
    if value is None:
        if required:
            t.check(False, f"{name} is missing from the discovery document")
        return
    if not t.check(is_absolute_url(value), f"{name} is not an absolute http(s) URL: {value!r}"):
        return
    if env.loopback:
        t.warn_unless(
            is_https_url(value), f"{name} is not https ({value}); allowed for a loopback test run"
        )
    else:
        t.check(is_https_url(value), f"{name} must use https: {value}")


def check_server_configuration(t: ModuleRun, env: RunEnv) -> None:
    """CheckServerConfiguration + the client-auth support checks of AbstractOIDCCServerTest."""
    doc = env.discovery
    for name in ("issuer", "authorization_endpoint", "token_endpoint"):
        t.require(isinstance(doc.get(name), str), f"server configuration lacks {name}")
    methods = doc.get("token_endpoint_auth_methods_supported", ["client_secret_basic"])
    t.check(
        "client_secret_basic" in methods,
        "EnsureServerConfigurationSupportsClientSecretBasic: "
        f"token_endpoint_auth_methods_supported={methods}",
    )


def check_jwks(t: ModuleRun, jwks: object, *, require_kid: bool = True) -> None:
    """ValidateServerJWKs, CheckForKeyIdInServerJWKs, CheckDistinctKeyIdValueInServerJWKs,
    EnsureServerJwksDoesNotContainPrivateOrSymmetricKeys."""
    if not t.check(
        isinstance(jwks, dict) and isinstance(jwks.get("keys"), list),
        "the JWKS is not a JSON object with a keys array",
    ):
        return
    assert isinstance(jwks, dict)
    keys = jwks["keys"]
    t.check(len(keys) > 0, "the JWKS has no keys")
    kids: list[str] = []
    for key in keys:
        if not t.check(isinstance(key, dict) and "kty" in key, f"a JWK lacks kty: {key}"):
            continue
        kty = key["kty"]
        needed = {"RSA": ("n", "e"), "EC": ("crv", "x", "y"), "OKP": ("crv", "x")}.get(kty, ())
        for member in needed:
            t.check(member in key, f"JWK {key.get('kid')} ({kty}) lacks {member}")
        for member in ("n", "e", "x", "y"):
            if member in key:
                t.check(
                    isinstance(key[member], str) and _B64URL.match(key[member]),
                    f"JWK {key.get('kid')} member {member} is not unpadded base64url",
                )
        t.check(kty != "oct", f"the JWKS publishes a symmetric key ({key.get('kid')})")
        private = sorted(set(key) & {"d", "p", "q", "dp", "dq", "qi", "k", "oth"})
        t.check(not private, f"JWK {key.get('kid')} exposes private members {private}")
        if require_kid:
            t.check(isinstance(key.get("kid"), str), f"a JWK has no kid: {key}")
        if isinstance(key.get("kid"), str):
            kids.append(key["kid"])
    dupes = sorted(k for k, n in Counter(kids).items() if n > 1)
    t.check(not dupes, f"kid values are not distinct in the JWKS: {dupes}")
    try:
        KeySet.import_key_set(jwks)  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError) as exc:
        t.check(False, f"the JWKS does not parse: {exc}")


# --- authorization responses -------------------------------------------------------


def check_iss(t: ModuleRun, env: RunEnv, params: dict[str, str]) -> None:
    """ValidateIssIfPresentInAuthorizationResponse; and RFC 9207 §2: an OP that
    advertises ``authorization_response_iss_parameter_supported`` MUST send ``iss``."""
    iss = params.get("iss")
    if iss is None:
        t.check(
            not env.discovery.get("authorization_response_iss_parameter_supported"),
            "RFC 9207: iss missing from the authorization response although "
            "authorization_response_iss_parameter_supported is true",
        )
        return
    t.check(iss == env.issuer, f"iss in the authorization response is {iss!r}, not the issuer")


def check_error_response(
    t: ModuleRun, env: RunEnv, params: dict[str, str], state: str | None
) -> None:
    """performGenericAuthorizationEndpointErrorResponseValidation."""
    if state is not None:
        t.check(
            params.get("state") == state,
            f"CheckStateInAuthorizationResponse: state {params.get('state')!r} != sent state",
        )
    check_iss(t, env, params)
    t.check("error" in params, f"no error in the authorization response: {sorted(params)}")
    t.check("code" not in params, "an error response carries a code")
    unexpected = sorted(
        set(params) - {"error", "error_description", "error_uri", "state", "session_state", "iss"}
    )
    t.warn_unless(not unexpected, f"error response has unexpected parameters {unexpected}")
    check_error_fields(t, params)


def check_error_fields(t: ModuleRun, body: dict[str, Any]) -> None:
    """ValidateErrorFrom…, ValidateErrorDescriptionFrom…, ValidateErrorUriFrom…Error."""
    error = body.get("error")
    if error is not None:
        t.check(
            isinstance(error, str) and error and _ERROR_CHARS.match(error),
            f"error {error!r} has characters RFC 6749 does not allow",
        )
    description = body.get("error_description")
    if description is not None:
        t.check(
            isinstance(description, str) and _ERROR_CHARS.match(description),
            f"error_description {description!r} has characters RFC 6749 does not allow",
        )
    uri = body.get("error_uri")
    if uri is not None:
        t.check(is_absolute_url(uri), f"error_uri {uri!r} is not an absolute URI")


def check_code(t: ModuleRun, code: str) -> None:
    """EnsureMinimumAuthorizationCodeLength (128 bits) and …Entropy (> 96 bits)."""
    t.check(len(code.encode()) * 8 >= 128, f"the authorization code is short: {len(code)} bytes")
    bits = shannon_bits(code)
    t.check(bits > 96, f"the authorization code's Shannon entropy is only {bits:.0f} bits")


# --- token endpoint ----------------------------------------------------------------


def check_token_success(t: ModuleRun, response: httpx.Response) -> dict[str, Any]:
    """CheckIfTokenEndpointResponseError, CheckForAccessTokenValue, ValidateExpiresIn,
    CheckTokenTypeIsBearer, CheckTokenEndpointCacheHeaders, JSON content type."""
    body = json_body(response)
    t.require(
        response.status_code == 200 and isinstance(body, dict) and "error" not in body,
        f"token endpoint answered HTTP {response.status_code}: {response.text[:300]}",
    )
    assert isinstance(body, dict)
    t.check(content_type(response) == "application/json", "token response is not application/json")
    check_cache_headers(t, response)
    t.require(isinstance(body.get("access_token"), str), "no access_token in the token response")
    t.check(
        _VSCHAR.match(body["access_token"]),
        "EnsureAccessTokenContainsAllowedCharactersOnly: access token has non-VSCHAR characters",
    )
    token_type = body.get("token_type")
    t.check(
        isinstance(token_type, str) and token_type.lower() == "bearer",
        f"token_type is {token_type!r}, not Bearer",
    )
    if "expires_in" in body:
        expires_in = body["expires_in"]
        t.check(
            isinstance(expires_in, int) and not isinstance(expires_in, bool) and expires_in > 0,
            f"ValidateExpiresIn: expires_in {expires_in!r} is not a positive integer",
        )
    return body


def check_cache_headers(t: ModuleRun, response: httpx.Response) -> None:
    """CheckTokenEndpointCacheHeaders (RFC 6749 §5.1)."""
    cache = response.headers.get("cache-control")
    if cache is not None:
        t.check(
            "no-store" in [v.strip() for v in cache.split(",")],
            f"Cache-Control is {cache!r}, not no-store",
        )
    pragma = response.headers.get("pragma")
    if pragma is not None:
        t.check("no-cache" in [v.strip() for v in pragma.split(",")], f"Pragma is {pragma!r}")


def check_token_error(
    t: ModuleRun, response: httpx.Response, expected: str = "invalid_grant"
) -> None:
    """CheckTokenEndpointHttpStatus400, CheckTokenEndpointReturnedJsonContentType,
    CheckErrorFromTokenEndpointResponseError<expected>, error field validation."""
    body = json_body(response)
    t.check(response.status_code == 400, f"expected HTTP 400, got {response.status_code}")
    t.check(
        content_type(response) == "application/json",
        f"error response content type is {content_type(response)!r}",
    )
    if not t.check(isinstance(body, dict), f"error response is not a JSON object: {response.text}"):
        return
    assert isinstance(body, dict)
    t.check(body.get("error") == expected, f"error is {body.get('error')!r}, not {expected}")
    check_error_fields(t, body)


def check_refresh_token_value(t: ModuleRun, value: str) -> None:
    """EnsureRefreshTokenContainsAllowedCharactersOnly, EnsureMinimumRefreshTokenLength/Entropy."""
    t.check(_VSCHAR.match(value), "the refresh token has characters outside VSCHAR")
    t.check(len(value.encode()) * 8 >= 128, "the refresh token is shorter than 128 bits")
    bits = shannon_bits(value)
    t.check(bits > 96, f"the refresh token's Shannon entropy is only {bits:.0f} bits")


# --- ID tokens ---------------------------------------------------------------------


def half_hash(value: str, alg: str) -> str:
    """``at_hash`` / ``c_hash`` (OIDC Core §3.1.3.6/§3.3.2.11)."""
    if alg == "EdDSA":
        digest = hashlib.sha512(value.encode()).digest()
    else:
        bits = alg[-3:]
        digest = hashlib.new(f"sha{bits}", value.encode()).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


def decode_id_token(t: ModuleRun, token: object) -> tuple[dict[str, Any], dict[str, Any]]:
    """ExtractIdTokenFromTokenResponse: a compact JWS with a JSON header and payload."""
    t.require(isinstance(token, str), "no id_token in the token response")
    assert isinstance(token, str)
    parts = token.split(".")
    t.require(len(parts) == 3, "the id_token is not a compact JWS")
    try:
        header, claims = b64url_json(parts[0]), b64url_json(parts[1])
    except ValueError:
        t.fail("the id_token header or payload is not base64url JSON")
    t.require(isinstance(header, dict) and isinstance(claims, dict), "id_token parts not objects")
    return header, claims


def verify_signature(t: ModuleRun, env: RunEnv, token: str, header: dict[str, Any]) -> None:
    """ValidateIdTokenSignature + ValidateIdTokenSignatureUsingKid."""
    alg = header.get("alg")
    supported = env.discovery.get("id_token_signing_alg_values_supported", [])
    t.require(alg not in (None, "none"), f"the id_token is not signed (alg={alg!r})")
    t.check(alg in supported, f"id_token alg {alg} is not in id_token_signing_alg_values_supported")
    keys = [k for k in env.jwks.get("keys", []) if k.get("use", "sig") == "sig"]
    kid = header.get("kid")
    if kid is not None:
        matching = [k for k in keys if k.get("kid") == kid]
        t.require(matching, f"no key with kid {kid!r} in the OP's JWKS")
    else:
        matching = [k for k in keys if k.get("alg") in (None, alg)]
        t.require(len(matching) == 1, "the id_token has no kid and the JWKS has several keys")
    try:
        jws.deserialize_compact(
            token,
            KeySet.import_key_set({"keys": matching}),  # type: ignore[arg-type]
            algorithms=[str(alg)],
        )
    except (JoseError, ValueError, TypeError) as exc:
        t.fail(f"the id_token signature does not verify against the JWKS: {exc}")


def check_standard_claims(t: ModuleRun, claims: dict[str, Any], where: str) -> None:
    """ValidateIdTokenStandardClaims / ValidateUserInfoStandardClaims (+ updated_at,
    birthdate and _claim_names checks)."""
    for name, value in claims.items():
        if name in _STRING_CLAIMS:
            t.check(isinstance(value, str), f"{where} claim {name} is not a string: {value!r}")
        elif name in _BOOLEAN_CLAIMS:
            t.check(isinstance(value, bool), f"{where} claim {name} is not a boolean: {value!r}")
        elif name == "updated_at":
            t.check(
                isinstance(value, int | float) and not isinstance(value, bool),
                f"EnsureUpdatedAtValid: {where} updated_at is not a number: {value!r}",
            )
            if isinstance(value, int | float):
                t.check(value <= time.time() + SKEW, f"{where} updated_at is in the future")
        elif name == "address":
            ok = (
                isinstance(value, dict)
                and value
                and all(isinstance(v, str) for k, v in value.items() if k in _ADDRESS_MEMBERS)
            )
            t.check(ok, f"{where} claim address is not a valid object: {value!r}")
        elif name in ("_claim_names", "_claim_sources"):
            t.check(isinstance(value, dict), f"{where} {name} is not an object")
    birthdate = claims.get("birthdate")
    if isinstance(birthdate, str):
        t.check(
            re.match(r"^\d{4}(-\d{2}-\d{2})?$", birthdate),
            f"EnsureBirthDateValid: {where} birthdate {birthdate!r} is not YYYY or YYYY-MM-DD",
        )
    names, sources = claims.get("_claim_names"), claims.get("_claim_sources")
    if isinstance(names, dict):
        src = sources if isinstance(sources, dict) else {}
        missing = sorted(v for v in names.values() if v not in src)
        t.check(not missing, f"{where} _claim_names refers to unknown sources {missing}")


def check_id_token(
    t: ModuleRun,
    env: RunEnv,
    client_id: str,
    token: object,
    *,
    nonce: str | None,
    access_token: str | None = None,
    claims_request: dict[str, Any] | None = None,
    check_nonce: bool = True,
) -> dict[str, Any]:
    """PerformStandardIdTokenChecks (OIDC Core §3.1.3.7), returning the claims.

    ``check_nonce=False`` for ID tokens from the refresh grant, which the suite does not
    compare with the original request's nonce.
    """
    header, claims = decode_id_token(t, token)
    assert isinstance(token, str)
    verify_signature(t, env, token, header)
    now = time.time()
    # ValidateIdToken
    t.check(claims.get("iss") == env.issuer, f"iss {claims.get('iss')!r} is not the issuer")
    aud = claims.get("aud")
    if isinstance(aud, list):
        t.check(client_id in aud, f"aud {aud} does not contain the client_id")
        if len(aud) > 1:
            t.check("azp" in claims, "aud has several values but there is no azp")
    else:
        t.check(aud == client_id, f"aud {aud!r} is not the client_id {client_id!r}")
    if "azp" in claims:
        t.check(claims["azp"] == client_id, f"azp {claims['azp']!r} is not the client_id")
    exp, iat = claims.get("exp"), claims.get("iat")
    if t.check(isinstance(exp, int | float), "'exp' claim missing or not a number"):
        t.check(exp >= now - SKEW, "the id_token has expired")  # type: ignore[operator]
    if t.check(isinstance(iat, int | float), "'iat' claim missing or not a number"):
        t.check(iat <= now + SKEW, "the id_token 'iat' is in the future")  # type: ignore[operator]
        t.check(iat >= now - SKEW, "the id_token 'iat' is more than 5 minutes in the past")  # type: ignore[operator]
    auth_time = claims.get("auth_time")
    if auth_time is not None and t.check(
        isinstance(auth_time, int | float), "auth_time is not a number"
    ):
        t.check(auth_time >= now - 365 * 86400, "auth_time is over a year in the past")
        t.check(auth_time <= now + SKEW, "auth_time is in the future")
    if "acr" in claims:
        t.check(isinstance(claims["acr"], str) and claims["acr"], "acr is an empty string")
    # CheckForSubjectInIdToken
    sub = claims.get("sub")
    t.check(
        isinstance(sub, str) and 0 < len(sub) <= 255 and sub.isascii(),
        f"sub {sub!r} is not a non-empty ASCII string of at most 255 characters",
    )
    # ValidateIdTokenNonce
    if check_nonce and nonce is not None:
        t.check(claims.get("nonce") == nonce, f"nonce {claims.get('nonce')!r} != the request's")
    elif check_nonce:
        t.check("nonce" not in claims, "the id_token has a nonce claim but no nonce was sent")
    # ValidateIdTokenACRClaimAgainstRequest
    acr_request = ((claims_request or {}).get("id_token") or {}).get("acr")
    if isinstance(acr_request, dict) and acr_request.get("essential"):
        wanted = acr_request.get("values") or (
            [acr_request["value"]] if "value" in acr_request else []
        )
        if wanted:
            t.check(claims.get("acr") in wanted, f"acr {claims.get('acr')!r} not in {wanted}")
    # ValidateAtHash when present (optional in the code flow, but must be right)
    if "at_hash" in claims and access_token is not None and isinstance(header.get("alg"), str):
        t.check(
            claims["at_hash"] == half_hash(access_token, header["alg"]),
            "at_hash does not match the access token",
        )
    identity = {k: v for k, v in claims.items() if k not in _ID_TOKEN_NON_IDENTITY}
    check_standard_claims(t, identity, "id_token")
    return claims


# --- userinfo ----------------------------------------------------------------------


def check_userinfo(
    t: ModuleRun, response: httpx.Response, id_token_sub: str | None, *, scope: str | None = None
) -> dict[str, Any]:
    """EnsureHttpStatusCodeIs200, EnsureContentTypeJson, ValidateUserInfoStandardClaims,
    EnsureUserInfoContainsSub, sub equal to the ID token's (OIDC Core §5.3.2), and —
    WARNING level — VerifyScopesReturnedInUserInfoClaims."""
    t.require(
        response.status_code == 200,
        f"userinfo answered HTTP {response.status_code}: {response.text[:300]}",
    )
    t.check(
        content_type(response) == "application/json",
        f"userinfo content type is {content_type(response)!r}",
    )
    body = json_body(response)
    t.require(isinstance(body, dict), "the userinfo response is not a JSON object")
    assert isinstance(body, dict)
    t.check(isinstance(body.get("sub"), str) and body["sub"], "userinfo has no sub")
    if id_token_sub is not None:
        t.check(
            body.get("sub") == id_token_sub,
            f"userinfo sub {body.get('sub')!r} differs from the id_token sub {id_token_sub!r}",
        )
    check_standard_claims(t, body, "userinfo")
    if scope is not None:
        expected = [c for s in scope.split() for c in SCOPE_CLAIMS.get(s, [])]
        missing = [c for c in expected if c not in body]
        t.warn_unless(
            not missing,
            f"userinfo lacks claims of the requested scopes ({scope}): {missing}",
        )
    return body
