"""The OIDF ``fapi2-security-profile-final-test-plan`` for an authorization server, in
the variant ``client_auth_type=private_key_jwt``, ``sender_constrain=dpop``,
``fapi_profile=plain_fapi``, ``openid=openid_connect``,
``authorization_request_type=simple`` (response mode: plain).

Every module follows the suite's class of the same name
(``net.openid.conformance.fapi2spfinal``): the client pushes its request to the PAR
endpoint (RFC 9126) authenticated with ``private_key_jwt`` (RFC 7523), with PKCE S256
(RFC 7636), sends the browser to ``/authorize`` with only ``client_id`` and
``request_uri``, checks the RFC 9207 ``iss`` in the response, redeems the code with a
DPoP proof (RFC 9449) and calls UserInfo with the DPoP-bound token. The modules of the
plan that need signed request objects (the message-signing plan), MTLS, grant management
or an ecosystem profile (CDR, Brazil, ConnectID, KSA) are not part of this variant.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from joserfc.jwk import ECKey

from conformance import checks, flows
from conformance.browser import Outcome
from conformance.fapi2_client import (
    FapiClient,
    assertion,
    body_of,
    dpop_get,
    dpop_post,
    jkt,
    new_dpop_key,
    proof,
    rig,
    verify_access_token,
)
from conformance.framework import Module, ModuleRun

PLAN = "fapi2"
PREFIX = "fapi2-security-profile-final-"
# FAPI 2.0 SP §5.4.1: the only JWS algorithms a FAPI party may use.
FAPI_ALGS = ("PS256", "ES256", "EdDSA")


@dataclass
class Flow:
    """One FAPI round trip: the pushed request, the PKCE verifier, the DPoP key and what
    each endpoint answered."""

    request: dict[str, str]
    verifier: str
    key: ECKey
    client: FapiClient
    request_uri: str = ""
    params: dict[str, str] = field(default_factory=dict)
    token: dict[str, Any] = field(default_factory=dict)
    claims: dict[str, Any] = field(default_factory=dict)


# --- steps -------------------------------------------------------------------------------


def par_request(t: ModuleRun, client: FapiClient,
                **extra: str | None) -> tuple[dict[str, str], str]:
    """CreateAuthorizationRequest + SetupPkceAndAddToAuthorizationRequest (S256); a
    ``None`` in ``extra`` removes that parameter."""
    verifier, challenge = flows.pkce_pair()
    request = {
        "client_id": client.client_id,
        "response_type": "code",
        "redirect_uri": t.env.redirect_uri,
        "scope": "openid email",
        "state": flows.random_value(),
        "nonce": flows.random_value(),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    for name, value in extra.items():
        if value is None:
            request.pop(name, None)
        else:
            request[name] = value
    return request, verifier


def push(t: ModuleRun, client: FapiClient, request: dict[str, str], *,
         key: ECKey | None = None, **proof_args: Any) -> httpx.Response:
    """CallPAREndpoint: the request in the body, with the client's assertion (and a DPoP
    proof when ``key`` is given: RFC 9449 §10.1)."""
    url = t.env.endpoint("pushed_authorization_request_endpoint")
    return dpop_post(t, url, request, key, client=client, proof_args=proof_args)


def expect_pushed(t: ModuleRun, response: httpx.Response) -> str:
    """ValidatePAREndpointResponse: 201, JSON, a ``request_uri`` and an ``expires_in``
    under 600 s (RFC 9126 §2.2; FAPI 2.0 SP §5.3.2.2 point 5)."""
    body = body_of(response)
    t.require(response.status_code == 201 and isinstance(body.get("request_uri"), str),
              f"the PAR endpoint answered HTTP {response.status_code}: {response.text[:300]}")
    t.check(checks.content_type(response) == "application/json",
            "the PAR response is not application/json")
    expires_in = body.get("expires_in")
    if t.check(isinstance(expires_in, int) and not isinstance(expires_in, bool)
               and expires_in > 0, f"PAR expires_in {expires_in!r} is not a positive integer"):
        t.check(expires_in < 600, f"FAPI 2.0 SP §5.3.2.2: PAR expires_in {expires_in} is not "
                                  "less than 600 seconds")
    return str(body["request_uri"])


def expect_par_error(t: ModuleRun, response: httpx.Response, allowed: tuple[str, ...]) -> str:
    """EnsurePARError: RFC 9126 §2.3 — a 400 (401 for client authentication) JSON error."""
    body = body_of(response)
    t.require(400 <= response.status_code < 500,
              f"the PAR endpoint accepted the request (HTTP {response.status_code}) "
              f"instead of answering one of {allowed}")
    t.check(checks.content_type(response) == "application/json",
            "the PAR error response is not application/json")
    error = str(body.get("error", ""))
    t.check(error in allowed, f"PAR error is {error!r}, not one of {allowed}")
    checks.check_error_fields(t, body)
    return error


def authorize(t: ModuleRun, client_id: str, request_uri: str, *,
              consent: str = "approve") -> Outcome:
    """RedirectToAuthorizationEndpoint with only client_id and request_uri (RFC 9126 §4)."""
    with flows.browser(t.env) as agent:
        return agent.authorize(t.env.endpoint("authorization_endpoint"),
                               {"client_id": client_id, "request_uri": request_uri},
                               consent=consent)


def redeem(t: ModuleRun, flow: Flow, *, client: FapiClient | None = None,
           key: ECKey | None = None, use_key: bool = True, **overrides: str | None
           ) -> httpx.Response:
    """CreateTokenEndpointRequestForAuthorizationCodeGrant + AddCodeVerifierToTokenEndpoint
    Request + CreateDpopProofSteps + CallTokenEndpoint. ``overrides`` may carry
    ``proof_args`` for a deliberately broken proof (nonce retries still happen)."""
    proof_args = overrides.pop("proof_args", None)
    form = {"grant_type": "authorization_code", "code": flow.params["code"],
            "redirect_uri": flow.request.get("redirect_uri", t.env.redirect_uri),
            "code_verifier": flow.verifier}
    for name, value in overrides.items():
        if value is None:
            form.pop(name, None)
        else:
            form[name] = value
    return dpop_post(t, t.env.endpoint("token_endpoint"), form,
                     (key or flow.key) if use_key else None, client=client or flow.client,
                     proof_args=proof_args)  # type: ignore[arg-type]


def check_dpop_token(t: ModuleRun, response: httpx.Response, key: ECKey, *,
                     flow: Flow | None = None, id_token: bool = True) -> dict[str, Any]:
    """CheckIfTokenEndpointResponseError, CheckForAccessTokenValue, CheckTokenTypeIsDpop,
    ValidateExpiresIn, CheckTokenEndpointCacheHeaders, and the ``cnf.jkt`` binding of a
    JWT access token (RFC 9449 §5, §6.1); then the ID token checks (OIDC Core §3.1.3.7)."""
    body = body_of(response)
    t.require(response.status_code == 200 and "access_token" in body,
              f"token endpoint answered HTTP {response.status_code}: {response.text[:300]}")
    t.check(checks.content_type(response) == "application/json",
            "token response is not application/json")
    checks.check_cache_headers(t, response)
    token_type = body.get("token_type")
    t.check(isinstance(token_type, str) and token_type.lower() == "dpop",
            f"RFC 9449 §5: token_type is {token_type!r}, not DPoP")
    expires_in = body.get("expires_in")
    t.check(isinstance(expires_in, int) and not isinstance(expires_in, bool) and expires_in > 0,
            f"ValidateExpiresIn: expires_in {expires_in!r} is not a positive integer")
    claims = verify_access_token(t, str(body["access_token"]))
    if claims is not None:
        cnf = claims.get("cnf")
        t.check(isinstance(cnf, dict) and cnf.get("jkt") == jkt(key),
                f"RFC 9449 §6.1: the access token's cnf is {cnf!r}, not the proof key's jkt")
    if flow is not None and id_token:
        flow.token = body
        flow.claims = checks.check_id_token(
            t, t.env, flow.client.client_id, body.get("id_token"),
            nonce=flow.request.get("nonce"), access_token=str(body["access_token"]))
        header, _ = checks.decode_id_token(t, body.get("id_token"))
        t.check(header.get("alg") in FAPI_ALGS,
                f"FAPI 2.0 SP §5.4.1: the id_token is signed with {header.get('alg')}")
    return body


def check_token_error(t: ModuleRun, response: httpx.Response, allowed: tuple[str, ...],
                      *, what: str) -> None:
    """The token endpoint refused, with one of the errors the suite accepts (RFC 6749
    §5.2: 400, or 401 for ``invalid_client``)."""
    body = body_of(response)
    t.require(response.status_code in (400, 401),
              f"{what}: the token endpoint answered HTTP {response.status_code} "
              f"instead of an error ({', '.join(allowed)})")
    t.check(checks.content_type(response) == "application/json",
            f"{what}: the error response is not application/json")
    t.check(body.get("error") in allowed,
            f"{what}: error is {body.get('error')!r}, not one of {allowed}")
    if body.get("error") == "invalid_client" and response.status_code == 401:
        t.check(response.headers.get("www-authenticate"),
                f"{what}: a 401 without WWW-Authenticate (RFC 6749 §5.2)")
    checks.check_error_fields(t, body)


def userinfo(t: ModuleRun, flow: Flow, **kwargs: Any) -> httpx.Response:
    return dpop_get(t, t.env.endpoint("userinfo_endpoint"), str(flow.token["access_token"]),
                    kwargs.pop("key", flow.key), **kwargs)


def check_userinfo(t: ModuleRun, flow: Flow, response: httpx.Response) -> None:
    checks.check_userinfo(t, response, flow.claims.get("sub"))


def to_code(t: ModuleRun, *, client: FapiClient | None = None, key: ECKey | None = None,
            par_key: ECKey | None = None, consent: str = "approve", **extra: str | None) -> Flow:
    """PAR, the browser at ``/authorize`` and the callback checks (state, RFC 9207 iss)."""
    client = client or rig(t).client
    if consent != "approve":
        # The consent given in earlier modules is remembered: ask for the page again.
        extra.setdefault("prompt", "consent")
    request, verifier = par_request(t, client, **extra)
    flow = Flow(request, verifier, key or new_dpop_key(), client)
    flow.request_uri = expect_pushed(t, push(t, client, request, key=par_key))
    outcome = authorize(t, client.client_id, flow.request_uri, consent=consent)
    if consent != "approve":
        flow.params = flows.expect_error(t, t.env, outcome, request)
        return flow
    flow.params = flows.expect_callback(t, t.env, outcome, request)
    checks.check_code(t, flow.params["code"])
    return flow


def happy_path(t: ModuleRun, *, call_userinfo: bool = True, **extra: str | None) -> Flow:
    """The whole of FAPI2SPFinalHappyFlow's ``performAuthorizationFlow``."""
    flow = to_code(t, **extra)
    check_dpop_token(t, redeem(t, flow), flow.key, flow=flow)
    if call_userinfo:
        check_userinfo(t, flow, userinfo(t, flow))
    return flow


# --- modules: discovery and the happy flow -------------------------------------------------


def discovery(t: ModuleRun) -> None:
    """FAPI2SPFinalDiscoveryEndpointVerification (FAPI 2.0 SP §5.3.1, §5.3.2, §5.4)."""
    env, doc = t.env, t.env.discovery
    checks.check_server_configuration(t, env)
    checks.check_jwks(t, env.jwks)
    t.check(doc.get("issuer") == env.issuer, f"issuer {doc.get('issuer')!r} != {env.issuer}")
    par = doc.get("pushed_authorization_request_endpoint")
    t.require(isinstance(par, str), "RFC 9126 §5: no pushed_authorization_request_endpoint")
    for name in ("authorization_endpoint", "token_endpoint",
                 "pushed_authorization_request_endpoint", "userinfo_endpoint", "jwks_uri"):
        value = doc.get(name)
        if env.loopback:
            t.warn_unless(checks.is_https_url(value), f"{name} is not https (loopback issuer)")
        else:
            t.check(checks.is_https_url(value), f"{name} {value!r} is not an https URL")
    if not doc.get("require_pushed_authorization_requests"):
        t.note("require_pushed_authorization_requests is false in discovery: PAR is required "
               "per client (require_pushed_authorization_requests client metadata), which "
               "the -ensure-unsigned-authorization-request-without-using-par-fails module checks")
    t.check("code" in doc.get("response_types_supported", []),
            "response_types_supported lacks code")
    methods = doc.get("code_challenge_methods_supported") or []
    t.check("S256" in methods, f"FAPI 2.0 SP §5.3.2.2: code_challenge_methods_supported "
                               f"{methods} lacks S256")
    t.warn_unless("plain" not in methods, "code_challenge_methods_supported lists plain")
    auth = doc.get("token_endpoint_auth_methods_supported") or []
    t.check("private_key_jwt" in auth,
            f"token_endpoint_auth_methods_supported {auth} lacks private_key_jwt")
    signing = doc.get("token_endpoint_auth_signing_alg_values_supported") or []
    t.check(set(signing) & set(FAPI_ALGS),
            f"token_endpoint_auth_signing_alg_values_supported {signing} has none of {FAPI_ALGS}")
    dpop_algs = doc.get("dpop_signing_alg_values_supported") or []
    t.check(set(dpop_algs) & set(FAPI_ALGS),
            f"RFC 9449 §5.1: dpop_signing_alg_values_supported {dpop_algs} has none of {FAPI_ALGS}")
    id_algs = doc.get("id_token_signing_alg_values_supported") or []
    t.check(set(id_algs) & set(FAPI_ALGS),
            f"id_token_signing_alg_values_supported {id_algs} has none of {FAPI_ALGS}")
    t.check(doc.get("authorization_response_iss_parameter_supported") is True,
            "FAPI 2.0 SP §5.3.2.2 point 7 / RFC 9207 §3: "
            "authorization_response_iss_parameter_supported is not true")
    grants = doc.get("grant_types_supported", ["authorization_code", "implicit"])
    t.check("authorization_code" in grants, f"grant_types_supported {grants} lacks the code grant")
    t.warn_unless(not set(doc.get("response_modes_supported", [])) - {"query", "fragment",
                                                                      "form_post", "jwt",
                                                                      "query.jwt",
                                                                      "fragment.jwt",
                                                                      "form_post.jwt"},
                  "response_modes_supported has unknown values")


def happy_flow(t: ModuleRun) -> None:
    """FAPI2SPFinalHappyFlow."""
    happy_path(t)
    if rig(t).nonces_seen:
        t.note("the OP requires DPoP nonces (RFC 9449 §8, §9): every call was retried with "
               "the DPoP-Nonce it provided")


def user_rejects(t: ModuleRun) -> None:
    """FAPI2SPFinalUserRejectsAuthentication: the user says no — ``access_denied`` to the
    redirect URI with state and iss (RFC 6749 §4.1.2.1, RFC 9207)."""
    flow = to_code(t, consent="deny")
    t.check(flow.params.get("error") == "access_denied",
            f"error is {flow.params.get('error')!r}, not access_denied")


def without_state(t: ModuleRun) -> None:
    """FAPI2SPFinalEnsureAuthorizationRequestWithoutStateSuccess."""
    flow = happy_path(t, state=None)
    t.check("state" not in flow.params, "state in the response although none was sent")


def without_nonce(t: ModuleRun) -> None:
    """FAPI2SPFinalEnsureAuthorizationRequestWithoutNonceSuccess (FAPI 2.0 SP §5.3.2.2
    does not require nonce: PKCE protects the code)."""
    happy_path(t, nonce=None)


def nonce_64(t: ModuleRun) -> None:
    """FAPI2SPFinalEnsureAuthorizationRequestWith64CharNonceSuccess."""
    happy_path(t, nonce=secrets.token_hex(32))


def other_scope_order(t: ModuleRun) -> None:
    """FAPI2SPFinalEnsureOtherScopeOrderSucceeds: scope is a set (RFC 6749 §3.3)."""
    happy_path(t, scope="email openid")


def type_header_case(t: ModuleRun) -> None:
    """FAPI2SPFinalAccessTokenTypeHeaderCaseSensitivity: the authentication scheme is
    case-insensitive (RFC 9110 §11.1; RFC 9449 §7.1 uses it as any other scheme)."""
    flow = happy_path(t, call_userinfo=False)
    for scheme in ("dpop", "DPOP"):
        t.step = f"Authorization: {scheme}"
        check_userinfo(t, flow, userinfo(t, flow, scheme=scheme))


# --- modules: the authorization request -----------------------------------------------------


def without_par(t: ModuleRun) -> None:
    """FAPI2SPFinalEnsureUnsignedAuthorizationRequestWithoutUsingParFails (FAPI 2.0 SP
    §5.3.2.2 point 2: "shall require the use of PAR"): the plain request must end in an
    error — a redirect with ``invalid_request`` or the OP's own error page."""
    client = rig(t).client
    request, _ = par_request(t, client)
    with flows.browser(t.env) as agent:
        outcome = agent.authorize(t.env.endpoint("authorization_endpoint"), request,
                                  login=False)
    if outcome.kind == "page":
        t.check(not outcome.login_shown, "a login page was shown for a request without PAR")
        t.check(400 <= outcome.status < 500, f"the error page answered HTTP {outcome.status}")
        return
    params = flows.expect_error(t, t.env, outcome, request)
    t.check(params.get("error") == "invalid_request",
            f"error is {params.get('error')!r}, not invalid_request")


def redirect_uri_required(t: ModuleRun) -> None:
    """FAPI2SPFinalEnsureRedirectUriInAuthorizationRequest: PAR without redirect_uri
    (FAPI 2.0 SP §5.3.2.2 point 6: the AS shall require it)."""
    request, _ = par_request(t, rig(t).client, redirect_uri=None)
    expect_par_error(t, push(t, rig(t).client, request), ("invalid_request",))


def registered_redirect_uri(t: ModuleRun) -> None:
    """FAPI2SPFinalEnsureRegisteredRedirectUri: an unregistered redirect_uri is refused
    at the PAR endpoint (RFC 9126 §2.1, OIDC Core §3.1.2.1)."""
    request, _ = par_request(t, rig(t).client,
                             redirect_uri=t.env.redirect_uri + "/" + flows.random_value())
    expect_par_error(t, push(t, rig(t).client, request), ("invalid_request",))


def _response_type_fails(t: ModuleRun, response_type: str) -> None:
    request, _ = par_request(t, rig(t).client, response_type=response_type)
    response = push(t, rig(t).client, request)
    if response.status_code == 201:
        # The suite also accepts an error from the authorization endpoint.
        outcome = authorize(t, rig(t).client.client_id, str(body_of(response)["request_uri"]))
        if outcome.kind == "page":
            t.check(400 <= outcome.status < 500, f"error page answered HTTP {outcome.status}")
            return
        params = flows.expect_error(t, t.env, outcome, request)
        t.check(params.get("error") in ("unsupported_response_type", "invalid_request",
                                        "unauthorized_client"),
                f"error is {params.get('error')!r}")
        return
    expect_par_error(t, response, ("invalid_request", "unsupported_response_type",
                                   "unauthorized_client"))


def code_idtoken_fails(t: ModuleRun) -> None:
    """FAPI2SPFinalEnsureResponseTypeCodeIdTokenFails (FAPI 2.0 SP §5.3.2.2 point 1:
    only ``code``)."""
    _response_type_fails(t, "code id_token")


def token_fails(t: ModuleRun) -> None:
    """FAPI2SPFinalEnsureResponseTypeTokenFails."""
    _response_type_fails(t, "token")


# --- modules: PAR (RFC 9126) ------------------------------------------------------------------


def par_reuse_request_uri(t: ModuleRun) -> None:
    """FAPI2SPFinalPARAttemptReuseRequestUri: a request_uri is single use (RFC 9126 §4,
    FAPI 2.0 SP §5.3.2.2); the second use must not produce a code."""
    flow = to_code(t)
    outcome = authorize(t, flow.client.client_id, flow.request_uri)
    _expect_request_uri_refused(t, outcome, flow.request)


def par_other_client(t: ModuleRun) -> None:
    """FAPI2SPFinalPARAttemptToUseRequestUriForDifferentClient (RFC 9126 §4: the
    request_uri is bound to the client that pushed it)."""
    r = rig(t)
    request, _ = par_request(t, r.client)
    request_uri = expect_pushed(t, push(t, r.client, request))
    outcome = authorize(t, r.client2.client_id, request_uri)
    _expect_request_uri_refused(t, outcome, dict(request, client_id=r.client2.client_id))


def _expect_request_uri_refused(t: ModuleRun, outcome: Outcome, request: dict[str, str]) -> None:
    if outcome.kind == "page":
        t.check(400 <= outcome.status < 500, f"the error page answered HTTP {outcome.status}")
        t.check(not outcome.login_shown, "a login page was shown for an unusable request_uri")
        return
    t.check("code" not in outcome.params, "the OP issued a code for an unusable request_uri")
    t.check(outcome.params.get("error") in ("invalid_request_uri", "invalid_request"),
            f"error is {outcome.params.get('error')!r}, not invalid_request_uri")


def par_expired_request_uri(t: ModuleRun) -> None:
    """FAPI2SPFinalPARAttemptToUseExpiredRequestUri: waits out ``expires_in``."""
    request, _ = par_request(t, rig(t).client)
    response = push(t, rig(t).client, request)
    expect_pushed(t, response)
    expires_in = body_of(response).get("expires_in")
    t.skip(f"the request_uri lives {expires_in} s (PORTICO_PUSHED_REQUEST_TTL, at least 60): "
           "the module would only wait; covered by tests/protocol")


def par_request_uri_param(t: ModuleRun) -> None:
    """FAPI2SPFinalPARAuthorizationRequestContainingRequestUriFormParam: a request_uri
    cannot be pushed (RFC 9126 §2.1)."""
    pushed_uri = "urn:ietf:params:oauth:request_uri:" + flows.random_value(20)
    request, _ = par_request(t, rig(t).client, request_uri=pushed_uri)
    expect_par_error(t, push(t, rig(t).client, request), ("invalid_request",))


def par_invalid_method(t: ModuleRun) -> None:
    """FAPI2SPFinalPARAttemptInvalidHttpMethod: RFC 9126 §2.1 — POST only."""
    response = t.env.http.get(t.env.endpoint("pushed_authorization_request_endpoint"))
    t.check(400 <= response.status_code < 500,
            f"GET on the PAR endpoint answered HTTP {response.status_code}")
    t.warn_unless(response.status_code == 405,
                  f"GET on the PAR endpoint answered {response.status_code}, not 405")


# --- modules: PKCE (RFC 7636; FAPI 2.0 SP §5.3.2.2 point 3) -----------------------------


def par_pkce_required(t: ModuleRun) -> None:
    """FAPI2SPFinalPAREnsurePKCERequired."""
    request, _ = par_request(t, rig(t).client, code_challenge=None, code_challenge_method=None)
    expect_par_error(t, push(t, rig(t).client, request), ("invalid_request",))


def par_plain_pkce(t: ModuleRun) -> None:
    """FAPI2SPFinalPARPlainPkceRejected: only S256."""
    verifier, _ = flows.pkce_pair()
    request, _ = par_request(t, rig(t).client, code_challenge=verifier,
                             code_challenge_method="plain")
    expect_par_error(t, push(t, rig(t).client, request), ("invalid_request",))


def code_verifier_required(t: ModuleRun) -> None:
    """FAPI2SPFinalEnsurePKCECodeVerifierRequired (RFC 7636 §4.6)."""
    flow = to_code(t)
    check_token_error(t, redeem(t, flow, code_verifier=None), ("invalid_grant", "invalid_request"),
                      what="no code_verifier")


def incorrect_verifier(t: ModuleRun) -> None:
    """FAPI2SPFinalIncorrectPKCECodeVerifierRejected (RFC 7636 §4.6)."""
    flow = to_code(t)
    check_token_error(t, redeem(t, flow, code_verifier=flows.pkce_pair()[0]),
                      ("invalid_grant", "invalid_request"), what="wrong code_verifier")


# --- modules: the token endpoint ----------------------------------------------------------


def holder_of_key_required(t: ModuleRun) -> None:
    """FAPI2SPFinalEnsureHolderOfKeyRequired (FAPI 2.0 SP §5.3.2.1 point 6 / §5.3.3):
    no proof, no token; and a DPoP-bound token sent as a Bearer token is refused."""
    flow = to_code(t)
    t.step = "token request without a DPoP proof"
    check_token_error(t, redeem(t, flow, use_key=False), ("invalid_dpop_proof", "invalid_request"),
                      what="no DPoP proof")
    t.step = "token request with a proof"
    check_dpop_token(t, redeem(t, flow), flow.key, flow=flow)
    t.step = "UserInfo with the token as a Bearer token"
    response = t.env.http.get(t.env.endpoint("userinfo_endpoint"), headers={
        "Authorization": f"Bearer {flow.token['access_token']}"})
    t.check(response.status_code == 401,
            f"RFC 9449 §7.1: a DPoP-bound token used as Bearer answered {response.status_code}")


def code_bound_to_client(t: ModuleRun) -> None:
    """FAPI2SPFinalEnsureAuthorizationCodeIsBoundToClient (RFC 6749 §4.1.3)."""
    flow = to_code(t)
    check_token_error(t, redeem(t, flow, client=rig(t).client2), ("invalid_grant",),
                      what="client2 redeeming client's code")


def reuse_code(t: ModuleRun) -> None:
    """FAPI2SPFinalAttemptReuseAuthorizationCodeAfterOneSecond (RFC 6749 §4.1.2)."""
    flow = to_code(t)
    check_dpop_token(t, redeem(t, flow), flow.key, flow=flow)
    time.sleep(1)
    t.step = "second redemption"
    check_token_error(t, redeem(t, flow), ("invalid_grant",), what="reused code")
    t.step = "the first access token after the reuse"
    response = userinfo(t, flow)
    t.warn_unless(response.status_code == 401, "RFC 6749 §4.1.2: the access token issued from "
                  f"the reused code still works (HTTP {response.status_code})")


def expired_code(t: ModuleRun) -> None:
    """FAPI2SPFinalEnsureTokenEndpointFailsWithExpiredAuthCode: waits out the code."""
    t.skip("the code's lifetime is not advertised (PORTICO_AUTH_CODE_TTL, default 60 s): "
           "the module would only wait; covered by tests/protocol")


# --- modules: private_key_jwt (RFC 7523 §3; FAPI 2.0 SP §5.3.2.1) -------------------------


def _assertion_fails(t: ModuleRun, what: str, **kwargs: Any) -> None:
    flow = to_code(t)
    client = flow.client
    form = {"grant_type": "authorization_code", "code": flow.params["code"],
            "redirect_uri": flow.request["redirect_uri"], "code_verifier": flow.verifier,
            "client_id": client.client_id}
    if kwargs.pop("omit", False) is False:
        form["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
        form["client_assertion"] = assertion(t.env, client, **kwargs)
    url = t.env.endpoint("token_endpoint")
    response = dpop_post(t, url, form, flow.key)
    check_token_error(t, response, ("invalid_client",), what=what)


def assertion_rs256(t: ModuleRun) -> None:
    """FAPI2SPFinalEnsureSignedClientAssertionWithRS256Fails (FAPI 2.0 SP §5.4.1)."""
    if rig(t).client.rsa_key is None:
        t.skip("the configured client has no RSA key to sign an RS256 assertion with")
    _assertion_fails(t, "an RS256 client assertion", use_rsa=True)


def assertion_required(t: ModuleRun) -> None:
    """FAPI2SPFinalEnsureClientAssertionInTokenEndpoint: no assertion at all."""
    _assertion_fails(t, "no client assertion", omit=True)


def assertion_expired(t: ModuleRun) -> None:
    """FAPI2SPFinalEnsureClientAssertionWithExpIs5MinutesInPastFails (RFC 7523 §3 point 4)."""
    now = int(time.time())
    _assertion_fails(t, "an assertion that expired 5 minutes ago",
                     exp=now - 300, iat=now - 360, nbf=now - 360)


def assertion_wrong_aud(t: ModuleRun) -> None:
    """FAPI2SPFinalEnsureClientAssertionWithWrongAudFails (RFC 7523 §3 point 3)."""
    _assertion_fails(t, "an assertion for another audience",
                     aud="https://wrong-aud.conformance.invalid/")


def assertion_no_sub(t: ModuleRun) -> None:
    """FAPI2SPFinalEnsureClientAssertionWithNoSubFails (RFC 7523 §3 point 2)."""
    _assertion_fails(t, "an assertion without sub", drop=("sub",))


# --- modules: DPoP (RFC 9449) -------------------------------------------------------------


def dpop_negative(t: ModuleRun) -> None:
    """FAPI2SPFinalDpopNegativeTests: broken proofs at the token endpoint (§4.3) and at
    UserInfo (§7.1); a refused proof must not consume the code, so the last, correct
    request succeeds."""
    flow = to_code(t)
    token_url = t.env.endpoint("token_endpoint")
    other = new_dpop_key()
    bad_token_proofs: list[tuple[str, dict[str, Any]]] = [
        ("htm GET", {"htm": "GET"}),
        ("htu of another endpoint", {"htu": t.env.endpoint("userinfo_endpoint")}),
        ("no jti", {"drop": ("jti",)}),
        ("iat 5 minutes old", {"iat": int(time.time()) - 300}),
        ("iat 5 minutes ahead", {"iat": int(time.time()) + 300}),
        ("typ JWT", {"header": {"typ": "JWT"}}),
        ("another key's jwk header", {"header": {"jwk": other.as_dict(private=False)}}),
    ]
    for label, args in bad_token_proofs:
        t.step = f"token endpoint, proof with {label}"
        check_token_error(t, redeem(t, flow, proof_args=args),  # type: ignore[arg-type]
                          ("invalid_dpop_proof",), what=label)
    t.step = "token endpoint, a proof replayed"
    r = rig(t)
    replay = proof(flow.key, "POST", token_url, nonce=r.nonce)
    first = dpop_post(t, token_url, {"grant_type": "refresh_token", "refresh_token": "x"},
                      None, client=flow.client, raw_proof=replay, retry_nonce=False)
    if body_of(first).get("error") != "use_dpop_nonce":
        second = dpop_post(t, token_url, {"grant_type": "refresh_token", "refresh_token": "x"},
                           None, client=flow.client, raw_proof=replay, retry_nonce=False)
        t.check(body_of(second).get("error") == "invalid_dpop_proof",
                "RFC 9449 §11.1: a replayed proof (same jti) was not refused with "
                f"invalid_dpop_proof: {second.text[:200]}")
    t.step = "token endpoint, correct proof"
    check_dpop_token(t, redeem(t, flow), flow.key, flow=flow)
    at = str(flow.token["access_token"])
    bad_userinfo: list[tuple[str, dict[str, Any]]] = [
        ("htm POST", {"proof_args": {"htm": "POST"}}),
        ("htu of the token endpoint", {"proof_args": {"htu": token_url}}),
        ("no ath", {"proof_args": {"drop": ("ath",)}}),
        ("ath of another token", {"proof_args": {"ath": "x" * 43}}),
        ("a proof of another key", {"key": other}),
        ("no proof", {"key": None}),
    ]
    for label, kwargs in bad_userinfo:
        t.step = f"UserInfo, {label}"
        response = userinfo(t, flow, **kwargs)
        t.check(response.status_code == 401,
                f"UserInfo accepted {label} (HTTP {response.status_code})")
        challenge = response.headers.get("www-authenticate", "")
        t.check("DPoP" in challenge and ("invalid_dpop_proof" in challenge
                                         or "invalid_token" in challenge),
                f"RFC 9449 §7.1: challenge {challenge!r} names no DPoP error")
    t.step = "UserInfo, a proof replayed"
    url = t.env.endpoint("userinfo_endpoint")
    replay = proof(flow.key, "GET", url, nonce=r.nonce, access_token=at)
    first = dpop_get(t, url, at, None, raw_proof=replay)
    if first.status_code == 200:
        second = dpop_get(t, url, at, None, raw_proof=replay)
        t.check(second.status_code == 401,
                f"RFC 9449 §11.1: a replayed UserInfo proof answered {second.status_code}")
    else:
        t.note(f"the replay check at UserInfo was not reached: first use answered "
               f"{first.status_code} ({first.headers.get('www-authenticate', '')[:120]})")
    t.step = "UserInfo, correct proof"
    check_userinfo(t, flow, userinfo(t, flow))


def _iat_offset(t: ModuleRun, seconds: int) -> None:
    flow = to_code(t)
    response = redeem(t, flow, proof_args={"iat": int(time.time()) + seconds})  # type: ignore[arg-type]
    check_dpop_token(t, response, flow.key, flow=flow)


def iat_10s_before(t: ModuleRun) -> None:
    """FAPI2SPFinalEnsureDpopProofWithIat10SecondsBeforeSucceeds (RFC 9449 §11.1: an
    acceptable window around the current time)."""
    _iat_offset(t, -10)


def iat_10s_after(t: ModuleRun) -> None:
    """FAPI2SPFinalEnsureDpopProofWithIat10SecondsAfterSucceeds."""
    _iat_offset(t, 10)


def mismatched_dpop_jkt(t: ModuleRun) -> None:
    """FAPI2SPFinalEnsureMismatchedDpopJktFails: dpop_jkt and the PAR proof name different
    keys (RFC 9449 §10.1: the AS MUST reject the request)."""
    r = rig(t)
    request, _ = par_request(t, r.client, dpop_jkt=jkt(new_dpop_key()))
    expect_par_error(t, push(t, r.client, request, key=new_dpop_key()),
                     ("invalid_dpop_proof", "invalid_request"))


def token_mismatched_proof_jkt(t: ModuleRun) -> None:
    """FAPI2SPFinalEnsureTokenEndpointFailsWithMismatchedDpopProofJkt: the code is bound
    to the PAR proof's key (RFC 9449 §10.1); a proof of another key cannot redeem it."""
    par_key = new_dpop_key()
    flow = to_code(t, par_key=par_key)
    check_token_error(t, redeem(t, flow), ("invalid_grant", "invalid_dpop_proof"),
                      what="a proof of another key than the PAR proof's")


def token_mismatched_jkt(t: ModuleRun) -> None:
    """FAPI2SPFinalEnsureTokenEndpointFailsWithMismatchedDpopJkt (RFC 9449 §10)."""
    flow = to_code(t, dpop_jkt=jkt(new_dpop_key()))
    check_token_error(t, redeem(t, flow), ("invalid_grant", "invalid_dpop_proof"),
                      what="a proof of another key than dpop_jkt")


def par_proof_binding(t: ModuleRun) -> None:
    """FAPI2SPFinalEnsureDpopProofAtParEndpointBindingSuccess (RFC 9449 §10.1)."""
    key = new_dpop_key()
    flow = to_code(t, key=key, par_key=key)
    check_dpop_token(t, redeem(t, flow), key, flow=flow)


def dpop_jkt_binding(t: ModuleRun) -> None:
    """FAPI2SPFinalEnsureDpopAuthCodeBindingSuccess (RFC 9449 §10)."""
    key = new_dpop_key()
    flow = to_code(t, key=key, dpop_jkt=jkt(key))
    check_dpop_token(t, redeem(t, flow), key, flow=flow)


def refresh_token(t: ModuleRun) -> None:
    """FAPI2SPFinalRefreshToken: the refresh grant with a DPoP proof gives a new
    DPoP-bound access token; a refresh without a proof is refused (the client is
    dpop_bound_access_tokens, RFC 9449 §5.2)."""
    # OIDC Core §11: offline_access (with prompt=consent) asks for the refresh token.
    scope = "openid offline_access" if "offline_access" in t.env.discovery.get(
        "scopes_supported", []) else "openid"
    flow = happy_path(t, call_userinfo=False, scope=scope, prompt="consent")
    old = flow.token.get("refresh_token")
    t.require(isinstance(old, str), "no refresh_token from the code grant")
    url = t.env.endpoint("token_endpoint")
    t.step = "refresh without a DPoP proof"
    check_token_error(t, dpop_post(t, url, {"grant_type": "refresh_token", "refresh_token": old},
                                   None, client=flow.client),
                      ("invalid_dpop_proof", "invalid_request", "invalid_grant"),
                      what="refresh without proof")
    t.step = "refresh with a DPoP proof"
    body = check_dpop_token(t, dpop_post(t, url, {"grant_type": "refresh_token",
                                                  "refresh_token": old},
                                         flow.key, client=flow.client), flow.key)
    new = body.get("refresh_token")
    if isinstance(new, str):
        checks.check_refresh_token_value(t, new)
        if new != old:
            t.note("FAPI 2.0 SP §5.3.2.1 point 4: the refresh token was rotated; the profile says "
                   "the AS \"shall not use refresh token rotation except in extraordinary "
                   "circumstances\". Portico always rotates (reuse detection) — a documented "
                   "deviation, not failed by the suite's module.")
    if body.get("id_token"):
        checks.check_id_token(t, t.env, flow.client.client_id, body["id_token"], nonce=None,
                              access_token=str(body["access_token"]), check_nonce=False)
    t.step = "UserInfo with the refreshed token"
    flow.token = body
    check_userinfo(t, flow, userinfo(t, flow))


def _m(suffix: str, run: Any) -> Module:
    return Module(PREFIX + suffix, PLAN, run)


MODULES = [
    _m("discovery-end-point-verification", discovery),
    _m("happy-flow", happy_flow),
    _m("user-rejects-authentication", user_rejects),
    _m("ensure-authorization-request-without-state-success", without_state),
    _m("ensure-authorization-request-without-nonce-success", without_nonce),
    _m("ensure-authorization-request-with-64-char-nonce-success", nonce_64),
    _m("ensure-other-scope-order-succeeds", other_scope_order),
    _m("access-token-type-header-case-sensitivity", type_header_case),
    _m("ensure-dpopproof-with-iat-10seconds-before-succeeds", iat_10s_before),
    _m("ensure-dpopproof-with-iat-10seconds-after-succeeds", iat_10s_after),
    _m("ensure-mismatched-dpop-jkt-fails", mismatched_dpop_jkt),
    _m("ensure-token-endpoint-fails-with-mismatched-dpop-proof-jkt", token_mismatched_proof_jkt),
    _m("ensure-token-endpoint-fails-with-mismatched-dpop-jkt", token_mismatched_jkt),
    _m("ensure-dpopproof-at-par-endpoint-binding-success", par_proof_binding),
    _m("ensure-dpop-auth-code-binding-success", dpop_jkt_binding),
    _m("ensure-registered-redirect-uri", registered_redirect_uri),
    _m("ensure-unsigned-authorization-request-without-using-par-fails", without_par),
    _m("ensure-redirect-uri-in-authorization-request", redirect_uri_required),
    _m("ensure-response-type-code-idtoken-fails", code_idtoken_fails),
    _m("ensure-response-type-token-fails", token_fails),
    _m("ensure-holder-of-key-required", holder_of_key_required),
    _m("ensure-authorization-code-is-bound-to-client", code_bound_to_client),
    _m("attempt-reuse-authorization-code-after-one-second", reuse_code),
    _m("ensure-token-endpoint-fails-with-expired-auth-code", expired_code),
    _m("ensure-signed-client-assertion-with-RS256-fails", assertion_rs256),
    _m("ensure-client-assertion-in-token-endpoint", assertion_required),
    _m("ensure-client-assertion-with-exp-is-5-minutes-in-past-fails", assertion_expired),
    _m("ensure-client-assertion-with-wrong-aud-fails", assertion_wrong_aud),
    _m("ensure-client-assertion-with-no-sub-fails", assertion_no_sub),
    _m("dpop-negative-tests", dpop_negative),
    _m("refresh-token", refresh_token),
    _m("par-attempt-reuse-request_uri", par_reuse_request_uri),
    _m("par-attempt-to-use-expired-request_uri", par_expired_request_uri),
    _m("par-attempt-to-use-request_uri-for-different-client", par_other_client),
    _m("par-authorization-request-containing-request_uri-form-param", par_request_uri_param),
    _m("par-attempt-invalid-http-method", par_invalid_method),
    _m("par-ensure-pkce-required", par_pkce_required),
    _m("ensure-pkce-code-verifier-required", code_verifier_required),
    _m("incorrect-pkce-code-verifier-rejected", incorrect_verifier),
    _m("par-plain-pkce-rejected", par_plain_pkce),
]
