"""``oidcc-config-certification-test-plan``: its single module,
``oidcc-discovery-endpoint-verification`` (OIDCCDiscoveryEndpointVerification), with
variants server_metadata=discovery and client_registration=static_client."""

from __future__ import annotations

from conformance import checks
from conformance.framework import Module, ModuleRun

CONFIG = "config"

WELL_KNOWN = "/.well-known/openid-configuration"

# OIDCCCheckDiscEndpointResponseTypesSupported: at least one OIDC response type.
OIDC_RESPONSE_TYPES = (
    "code",
    "code id_token",
    "id_token",
    "token id_token",
    "code id_token token",
    "code token",
)


def _string_array(t: ModuleRun, doc: dict[str, object], name: str, *, required: bool) -> list[str]:
    """AbstractValidateJsonArray: an array of strings (when present / required)."""
    value = doc.get(name)
    if value is None:
        t.check(not required, f"{name} is missing")
        return []
    ok = isinstance(value, list) and all(isinstance(v, str) for v in value)
    t.check(ok, f"{name} is not an array of strings: {value!r}")
    return list(value) if ok else []  # type: ignore[arg-type]


def discovery_endpoint_verification(t: ModuleRun) -> None:
    """oidcc-discovery-endpoint-verification."""
    env = t.env
    # configure(): GetDynamicServerConfiguration, status 200, JSON content type
    t.step = "fetch"
    response = env.http.get(env.discovery_url, headers={"Accept": "application/json"})
    t.check(response.status_code == 200, f"discovery answered HTTP {response.status_code}")
    t.check(
        checks.content_type(response) == "application/json",
        f"discovery content type is {checks.content_type(response)!r}",
    )
    doc = checks.json_body(response)
    t.require(isinstance(doc, dict), "the discovery document is not a JSON object")
    assert isinstance(doc, dict)
    t.step = ""

    types = _string_array(t, doc, "response_types_supported", required=True)
    t.check(
        any(
            " ".join(sorted(v.split()))
            in {" ".join(sorted(r.split())) for r in OIDC_RESPONSE_TYPES}
            for v in types
        ),
        f"response_types_supported {types} has none of the OIDC response types",
    )
    # CheckDiscEndpointDiscoveryUrl
    t.check(
        env.discovery_url.endswith(WELL_KNOWN),
        f"the discovery URL does not end in {WELL_KNOWN}: {env.discovery_url}",
    )
    # CheckDiscEndpointIssuer
    issuer = doc.get("issuer")
    expected = env.discovery_url.removesuffix(WELL_KNOWN)
    t.check(isinstance(issuer, str), "issuer is missing from the discovery document")
    if isinstance(issuer, str):
        t.check(
            issuer.rstrip("/") == expected.rstrip("/"),
            f"issuer {issuer} is not consistent with the discovery URL {env.discovery_url}",
        )
    # CheckDiscEndpointSubjectTypesSupported
    subjects = _string_array(t, doc, "subject_types_supported", required=True)
    t.check(
        {"public", "pairwise"} & set(subjects),
        f"subject_types_supported {subjects} has neither public nor pairwise",
    )
    # OIDCCCheckDiscEndpointIdTokenSigningAlgValuesSupported
    algs = _string_array(t, doc, "id_token_signing_alg_values_supported", required=True)
    t.check("RS256" in algs, f"RS256 is not in id_token_signing_alg_values_supported {algs}")
    # OIDCCCheckDiscEndpointUserinfoSigningAlgValuesSupported (if present)
    _string_array(t, doc, "userinfo_signing_alg_values_supported", required=False)
    # CheckDiscEndpointAuthorizationEndpoint / TokenEndpoint / UserinfoEndpoint
    checks.check_url(t, env, "authorization_endpoint", doc.get("authorization_endpoint"))
    checks.check_url(t, env, "token_endpoint", doc.get("token_endpoint"))
    if doc.get("userinfo_endpoint") is None:
        t.warn_unless(False, "userinfo_endpoint is missing (recommended)")
    else:
        checks.check_url(t, env, "userinfo_endpoint", doc.get("userinfo_endpoint"))
    # CheckDiscEndpointRegistrationEndpoint (if present)
    if doc.get("registration_endpoint") is not None:
        checks.check_url(t, env, "registration_endpoint", doc.get("registration_endpoint"))
    # CheckJwksUri, FetchServerKeys, ValidateServerJWKs, no private/symmetric keys
    checks.check_url(t, env, "jwks_uri", doc.get("jwks_uri"))
    t.require(isinstance(doc.get("jwks_uri"), str), "no jwks_uri to fetch")
    t.step = "jwks"
    keys = env.http.get(str(doc["jwks_uri"]), headers={"Accept": "application/json"})
    t.require(keys.status_code == 200, f"jwks_uri answered HTTP {keys.status_code}")
    checks.check_jwks(t, checks.json_body(keys), require_kid=False)
    t.step = ""
    # INFO-level in the suite: request / request_uri / claims parameter support
    for flag in (
        "request_parameter_supported",
        "request_uri_parameter_supported",
        "claims_parameter_supported",
    ):
        if flag in doc:
            t.check(isinstance(doc[flag], bool), f"{flag} is not a boolean")
            if doc[flag] is not True:
                t.note(f"{flag} is {doc[flag]!r}")
    # CheckDiscEndpointRequestObjectSigningAlgValuesSupportedIncludesRS256 (WARNING)
    if "request_object_signing_alg_values_supported" in doc:
        ro = _string_array(t, doc, "request_object_signing_alg_values_supported", required=False)
        t.warn_unless("RS256" in ro, "request_object_signing_alg_values_supported lacks RS256")
    # OIDCCCheckDiscEndpointClaimsSupported (WARNING)
    t.warn_unless(
        isinstance(doc.get("claims_supported"), list), "claims_supported is missing (recommended)"
    )
    # OIDCCCheckDiscEndpointGrantTypesSupported: if present, a non-empty array
    if "grant_types_supported" in doc:
        grants = _string_array(t, doc, "grant_types_supported", required=False)
        t.check(grants, "grant_types_supported must not be empty")
    # CheckDiscEndpointScopesSupportedContainsOpenId (FAILURE if present, WARNING if absent)
    if "scopes_supported" in doc:
        scopes = _string_array(t, doc, "scopes_supported", required=False)
        t.check("openid" in scopes, f"scopes_supported {scopes} lacks openid")
    else:
        t.warn_unless(False, "scopes_supported is missing")
    # CheckDiscEndpointAllEndpointsAreHttps
    done = {
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "registration_endpoint",
    }
    for name in sorted(doc):
        if name.endswith("_endpoint") and name not in done:
            checks.check_url(t, env, name, doc[name])


MODULES = [
    Module("oidcc-discovery-endpoint-verification", CONFIG, discovery_endpoint_verification),
]
