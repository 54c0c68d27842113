"""The modules of ``oidcc-basic-certification-test-plan`` (variants: response_type=code,
client_auth_type=client_secret_basic except oidcc-server-client-secret-post,
response_mode=default, server_metadata=discovery, client_registration=static_client),
plus two modules of the Dynamic OP plan that make sense with static clients.

Each function is named after the suite's Java class and its docstring gives the
module's ``testName``. Where this runner is stricter than the suite, or runs a module
the suite marks not applicable to static clients, the module says so in a note.
"""

from __future__ import annotations

import json
import time
from urllib.parse import urlsplit

from conformance import checks, flows
from conformance.browser import Browser, Outcome
from conformance.flows import Flow
from conformance.framework import ClientCreds, Module, ModuleRun

BASIC = "basic"
DYNAMIC = "dynamic(static)"


def configure(t: ModuleRun, client: ClientCreds | None = None) -> None:
    """AbstractOIDCCServerTest.configure: server configuration and JWKS sanity checks."""
    t.step = "configure"
    checks.check_server_configuration(t, t.env)
    checks.check_jwks(t, t.env.jwks)
    if client is not None and client.auth_method == "client_secret_post":
        methods = t.env.discovery.get("token_endpoint_auth_methods_supported", [])
        t.check(
            "client_secret_post" in methods,
            "EnsureServerConfigurationSupportsClientSecretPost: "
            f"token_endpoint_auth_methods_supported={methods}",
        )
    t.step = ""


def scopes_supported_or_skip(t: ModuleRun, scope: str) -> None:
    """OIDCCCheckScopesSupportedContainScopeTest: skip when discovery says unsupported."""
    supported = t.env.discovery.get("scopes_supported")
    if isinstance(supported, list):
        missing = [s for s in scope.split() if s not in supported]
        if missing:
            t.skip(f"scopes_supported does not list {missing}")


def none_alg_or_skip(t: ModuleRun) -> None:
    """AbstractOIDCCServerTest.skipTestIfNoneUnsupported."""
    algs = t.env.discovery.get("request_object_signing_alg_values_supported")
    if isinstance(algs, list) and "none" not in algs:
        t.skip("'none' is not in request_object_signing_alg_values_supported")


def happy(t: ModuleRun, client: ClientCreds | None = None, **extra: str) -> Flow:
    """AbstractOIDCCServerTest.start with a fresh browser and the given extra parameters."""
    env = t.env
    client = client or env.client
    configure(t, client)
    with flows.browser(env) as agent:
        request = flows.auth_request(env, client, **extra)
        return flows.code_flow(t, env, agent, client, request)


# --- oidcc-server and friends ------------------------------------------------------


def server_test(t: ModuleRun, client: ClientCreds | None = None) -> None:
    """oidcc-server / oidcc-server-client-secret-post (OIDCCServerTest)."""
    env = t.env
    client = client or env.client
    configure(t, client)
    with flows.browser(env) as agent:
        request = flows.auth_request(env, client)
        flow = flows.code_flow(t, env, agent, client, request, check_code_value=True)
    # EnsureIdTokenDoesNotContainName (WARNING): no claims were asked for in the id_token.
    t.warn_unless("name" not in flow.claims, "the id_token contains name although not requested")


def server_test_client_secret_post(t: ModuleRun) -> None:
    """oidcc-server-client-secret-post (OIDCCServerTestClientSecretPost)."""
    server_test(t, t.env.post_client)


def response_type_missing(t: ModuleRun) -> None:
    """oidcc-response-type-missing (OIDCCResponseTypeMissing): either an error page, or an
    error in the query with invalid_request / unsupported_response_type."""
    env = t.env
    configure(t)
    with flows.browser(env) as agent:
        request = flows.auth_request(env, env.client)
        del request["response_type"]
        outcome = flows.send(t, env, agent, request)
    if outcome.kind == "page":
        t.check(outcome.status < 500, f"the error page answered HTTP {outcome.status}")
        t.check(
            not outcome.login_shown, "a login page was shown for a request without response_type"
        )
        t.note("the OP showed an error page (the suite asks for a screenshot)")
        return
    if env.response_mode == "form_post":
        t.check(outcome.kind == "form_post", "the error was not posted (response_mode=form_post)")
    else:
        t.check(not outcome.in_fragment and outcome.kind == "redirect",
                "error not in the URL query")
    params = flows.expect_error(t, env, outcome, request)
    t.check(
        params.get("error") in ("invalid_request", "unsupported_response_type"),
        f"error is {params.get('error')!r}, not invalid_request or unsupported_response_type",
    )


def idtoken_signature(t: ModuleRun) -> None:
    """oidcc-idtoken-signature (OIDCCIdTokenSignature): the default alg is RS256, with kid."""
    env = t.env
    configure(t)
    with flows.browser(env) as agent:
        request = flows.auth_request(env, env.client)
        flow = flows.code_flow(t, env, agent, env.client, request)
    header, _ = checks.decode_id_token(t, flow.id_token)
    t.check("kid" in header, "EnsureIdTokenContainsKid: the id_token header has no kid")
    t.check(header.get("alg") == "RS256", f"EnsureIdTokenSignatureIsRS256: alg={header.get('alg')}")


def idtoken_unsigned(t: ModuleRun) -> None:
    """oidcc-idtoken-unsigned (OIDCCIdTokenUnsigned)."""
    algs = t.env.discovery.get("id_token_signing_alg_values_supported", [])
    if "none" not in algs:
        t.skip(
            "id_token_signing_alg_values_supported does not list 'none' (acceptable for "
            "certification; also not applicable to static clients)"
        )
    t.skip("needs a client registered with id_token_signed_response_alg=none (dynamic only)")


# --- userinfo ------------------------------------------------------------------------


def _userinfo_module(t: ModuleRun, how: str) -> None:
    env = t.env
    configure(t)
    with flows.browser(env) as agent:
        request = flows.auth_request(env, env.client)
        flow = flows.code_flow(t, env, agent, env.client, request, call_userinfo=False)
    t.step = f"userinfo ({how})"
    response = flows.userinfo(env, flow.access_token, how)
    if how == "post-body" and not 200 <= response.status_code < 300:
        # UserInfoEndpointWithAccessTokenInBodyNotSupported (WARNING)
        t.warn_unless(
            False, f"access token in the body not supported (HTTP {response.status_code})"
        )
        return
    checks.check_userinfo(t, response, flow.claims.get("sub"))


def userinfo_get(t: ModuleRun) -> None:
    """oidcc-userinfo-get (OIDCCUserInfoGet)."""
    _userinfo_module(t, "get")


def userinfo_post_header(t: ModuleRun) -> None:
    """oidcc-userinfo-post-header (OIDCCUserInfoPostHeader)."""
    _userinfo_module(t, "post-header")


def userinfo_post_body(t: ModuleRun) -> None:
    """oidcc-userinfo-post-body (OIDCCUserInfoPostBody)."""
    _userinfo_module(t, "post-body")


def request_without_nonce(t: ModuleRun) -> None:
    """oidcc-ensure-request-without-nonce-succeeds-for-code-flow: a code is issued
    without a nonce. (The suite stops at the callback; the runner also redeems the code
    and applies ValidateIdTokenNonce: no nonce may appear in the id_token.)"""
    env = t.env
    configure(t)
    with flows.browser(env) as agent:
        request = flows.auth_request(env, env.client, nonce=False)
        flows.code_flow(t, env, agent, env.client, request, call_userinfo=False)


# --- scopes ---------------------------------------------------------------------------


def _scope_module(t: ModuleRun, scope: str, *, reverse: bool = False) -> None:
    """AbstractOIDCCScopesServerTest with ``scope`` added to openid."""
    env = t.env
    full = f"openid {scope}"
    scopes_supported_or_skip(t, full)
    configure(t)
    if reverse:
        # ReverseScopeOrderInAuthorizationEndpointRequest (RFC 6749 §3.3)
        full = " ".join(reversed(full.split()))
    with flows.browser(env) as agent:
        request = flows.auth_request(env, env.client, scope=full)
        flow = flows.code_flow(t, env, agent, env.client, request, call_userinfo=False)
    t.step = "userinfo"
    response = flows.userinfo(env, flow.access_token)
    checks.check_userinfo(t, response, flow.claims.get("sub"), scope=full)


def scope_profile(t: ModuleRun) -> None:
    """oidcc-scope-profile (OIDCCScopeProfile)."""
    _scope_module(t, "profile")


def scope_email(t: ModuleRun) -> None:
    """oidcc-scope-email (OIDCCScopeEmail)."""
    _scope_module(t, "email")


def scope_address(t: ModuleRun) -> None:
    """oidcc-scope-address (OIDCCScopeAddress)."""
    _scope_module(t, "address")


def scope_phone(t: ModuleRun) -> None:
    """oidcc-scope-phone (OIDCCScopePhone)."""
    _scope_module(t, "phone")


def scope_all(t: ModuleRun) -> None:
    """oidcc-scope-all (OIDCCScopeAll)."""
    _scope_module(t, "address email phone profile")


def other_scope_order(t: ModuleRun) -> None:
    """oidcc-ensure-other-scope-order-succeeds (OIDCEnsureOtherScopeOrderSucceeds)."""
    _scope_module(t, "email", reverse=True)


# --- request parameters that must not break anything ----------------------------------


def display_page(t: ModuleRun) -> None:
    """oidcc-display-page (OIDCCDisplayPage)."""
    happy(t, display="page")


def display_popup(t: ModuleRun) -> None:
    """oidcc-display-popup (OIDCCDisplayPopup)."""
    happy(t, display="popup")


def unknown_parameter(t: ModuleRun) -> None:
    """oidcc-ensure-request-with-unknown-parameter-succeeds: extra=foobar is ignored."""
    happy(t, extra="foobar")


def login_hint(t: ModuleRun) -> None:
    """oidcc-login-hint (OIDCCLoginHint): server.login_hint, or buffy@<issuer host>."""
    hint = t.env.login_hint or f"buffy@{urlsplit(t.env.issuer).hostname}"
    happy(t, login_hint=hint)


def ui_locales(t: ModuleRun) -> None:
    """oidcc-ui-locales (OIDCCUiLocales)."""
    happy(t, ui_locales=t.env.ui_locales)


def claims_locales(t: ModuleRun) -> None:
    """oidcc-claims-locales (OIDCCClaimsLocales): claims_locales=se."""
    happy(t, claims_locales="se")


def acr_values(t: ModuleRun) -> None:
    """oidcc-ensure-request-with-acr-values-succeeds: the advertised acr_values_supported
    (or "1 2"); the acr returned SHOULD be one of them (WARNING)."""
    advertised = t.env.discovery.get("acr_values_supported")
    values = advertised if isinstance(advertised, list) and advertised else ["1", "2"]
    flow = happy(t, acr_values=" ".join(values))
    t.warn_unless(
        flow.claims.get("acr") in values,
        f"ValidateIdTokenACRClaimAgainstAcrValuesRequest: acr {flow.claims.get('acr')!r} "
        f"is not one of {values}",
    )


def pkce(t: ModuleRun) -> None:
    """oidcc-ensure-request-with-valid-pkce-succeeds (OIDCCEnsureRequestWithValidPkceSucceeds)."""
    env = t.env
    configure(t)
    verifier, challenge = flows.pkce_pair()
    with flows.browser(env) as agent:
        request = flows.auth_request(
            env, env.client, code_challenge=challenge, code_challenge_method="S256"
        )
        flows.code_flow(t, env, agent, env.client, request, token_extra={"code_verifier": verifier})


def post_request(t: ModuleRun) -> None:
    """oidcc-ensure-post-request-succeeds: the authorization request as a form POST."""
    env = t.env
    configure(t)
    with flows.browser(env) as agent:
        request = flows.auth_request(env, env.client)
        flows.code_flow(t, env, agent, env.client, request, method="POST")


# --- two authorizations in one browser ------------------------------------------------


def _first(t: ModuleRun, agent: Browser, **extra: str) -> Flow:
    t.step = "first authorization"
    request = flows.auth_request(t.env, t.env.client, **extra)
    flow = flows.code_flow(t, t.env, agent, t.env.client, request)
    t.require(flow.outcome.login_shown, "the first authorization showed no login page")
    return flow


def _second(t: ModuleRun, agent: Browser, **extra: str) -> Flow:
    t.step = "second authorization"
    request = flows.auth_request(t.env, t.env.client, **extra)
    return flows.code_flow(t, t.env, agent, t.env.client, request)


def _same_auth(t: ModuleRun, first: Flow, second: Flow) -> None:
    """CheckIdTokenAuthTimeClaimsSameIfPresent + CheckIdTokenSubConsistentForSecondAuthorization."""
    a1, a2 = first.claims.get("auth_time"), second.claims.get("auth_time")
    if a1 is not None and a2 is not None:
        t.check(a1 == a2, f"auth_time changed between authorizations ({a1} -> {a2})")
    t.check(
        first.claims.get("sub") == second.claims.get("sub"),
        "sub differs between the first and second authorization",
    )


def prompt_login(t: ModuleRun) -> None:
    """oidcc-prompt-login (OIDCCPromptLogin): the second request, with prompt=login, must
    make the person log in again (ExpectSecondLoginPage: asserted here, where the suite
    asks for a screenshot), and auth_time must then differ."""
    configure(t)
    with flows.browser(t.env) as agent:
        first = _first(t, agent)
        time.sleep(1.1)  # a person takes more than a second; auth_time has 1 s resolution
        second = _second(t, agent, prompt="login")
    t.check(second.outcome.login_shown, "prompt=login did not show the login page again")
    a1, a2 = first.claims.get("auth_time"), second.claims.get("auth_time")
    if a1 is not None and a2 is not None:
        t.check(a1 != a2, f"CheckIdTokenAuthTimeClaimsDifferIfPresent: auth_time stayed {a1}")


def prompt_none_not_logged_in(t: ModuleRun) -> None:
    """oidcc-prompt-none-not-logged-in: no session, prompt=none → an error that needs a
    user interface, delivered to the client (with a 128-character state kept intact)."""
    env = t.env
    configure(t)
    with flows.browser(env) as agent:
        request = flows.auth_request(env, env.client, state_length=128, prompt="none")
        outcome = flows.send(t, env, agent, request)
    t.check(not outcome.login_shown, "prompt=none showed a login page")
    params = flows.expect_error(t, env, outcome, request)
    t.check(
        params.get("error") in checks.USER_INTERFACE_ERRORS,
        f"error is {params.get('error')!r}, not one of {list(checks.USER_INTERFACE_ERRORS)}",
    )


def prompt_none_logged_in(t: ModuleRun) -> None:
    """oidcc-prompt-none-logged-in (OIDCCPromptNoneLoggedIn)."""
    configure(t)
    with flows.browser(t.env) as agent:
        first = _first(t, agent)
        second = _second(t, agent, prompt="none")
    t.check(not second.outcome.login_shown, "prompt=none showed a login page")
    _same_auth(t, first, second)


def max_age_1(t: ModuleRun) -> None:
    """oidcc-max-age-1 (OIDCCMaxAge1): after 2 s, max_age=1 forces a new login; the second
    id_token must carry a recent auth_time later than the first."""
    configure(t)
    with flows.browser(t.env) as agent:
        first = _first(t, agent)
        time.sleep(2)  # WaitFor2Seconds
        second = _second(t, agent, max_age="1")
    t.check(second.outcome.login_shown, "max_age=1 did not show the login page again")
    a1, a2 = first.claims.get("auth_time"), second.claims.get("auth_time")
    t.check(a2 is not None, "CheckIdTokenAuthTimeClaimPresentDueToMaxAge: no auth_time")
    if isinstance(a1, int | float) and isinstance(a2, int | float):
        t.check(a2 > a1, f"CheckSecondIdTokenAuthTimeIsLaterIfPresent: {a1} -> {a2}")
    if isinstance(a2, int | float):
        t.check(
            a2 >= time.time() - checks.SKEW - 1,
            "CheckIdTokenAuthTimeIsRecentIfPresent: auth_time is not recent",
        )


def max_age_10000(t: ModuleRun) -> None:
    """oidcc-max-age-10000 (OIDCCMaxAge10000): max_age=15000 then max_age=10000; no second
    login, auth_time present both times and unchanged."""
    configure(t)
    with flows.browser(t.env) as agent:
        first = _first(t, agent, max_age="15000")
        t.check("auth_time" in first.claims, "max_age=15000: the id_token has no auth_time")
        second = _second(t, agent, max_age="10000")
    t.check(not second.outcome.login_shown, "max_age=10000 asked the user to log in again")
    t.check("auth_time" in second.claims, "max_age=10000: the id_token has no auth_time")
    _same_auth(t, first, second)


def id_token_hint(t: ModuleRun) -> None:
    """oidcc-id-token-hint (OIDCCIdTokenHint): prompt=none with the first id_token as hint."""
    configure(t)
    with flows.browser(t.env) as agent:
        first = _first(t, agent)
        second = _second(t, agent, prompt="none", id_token_hint=first.id_token)
    _same_auth(t, first, second)


# --- authorization code reuse --------------------------------------------------------


def _code_reuse(t: ModuleRun, wait: float) -> None:
    """AbstractOIDCCAuthCodeReuse: redeem the code again → 400 invalid_grant.

    The runner also asserts (as failures) what the suite only warns about: that the
    access token issued from the code is revoked afterwards (RFC 6749 §4.1.2), which
    Portico implements.
    """
    env = t.env
    configure(t)
    with flows.browser(env) as agent:
        request = flows.auth_request(env, env.client)
        flow = flows.code_flow(t, env, agent, env.client, request)
    if wait:
        time.sleep(wait)  # WaitFor30Seconds
    t.step = "code reuse"
    response = flows.code_grant(env, env.client, flow.params["code"])
    t.require(
        response.status_code != 200,
        "ServerAllowedReusingAuthorizationCode: the code was accepted twice",
    )
    checks.check_token_error(t, response, "invalid_grant")
    t.step = "access token after reuse"
    after = flows.userinfo(env, flow.access_token)
    t.check(
        400 <= after.status_code < 500,
        f"the access token from the reused code still works (userinfo HTTP {after.status_code})",
    )


def code_reuse(t: ModuleRun) -> None:
    """oidcc-codereuse (OIDCCAuthCodeReuse)."""
    _code_reuse(t, 0)


def code_reuse_30s(t: ModuleRun) -> None:
    """oidcc-codereuse-30seconds (OIDCCAuthCodeReuseAfter30Seconds)."""
    _code_reuse(t, 30)


# --- redirect URIs -------------------------------------------------------------------


def registered_redirect_uri(t: ModuleRun) -> None:
    """oidcc-ensure-registered-redirect-uri: an unregistered (appended) redirect_uri must
    get an error page, never a redirect."""
    env = t.env
    configure(t)
    bad = f"{env.redirect_uri}/{flows.random_value(10)}"
    with flows.browser(env) as agent:
        request = flows.auth_request(env, env.client)
        request["redirect_uri"] = bad
        outcome = flows.send(t, env, agent, request)
    if outcome.kind != "page" and checks.same_url(outcome.location, bad):
        t.fail("the OP redirected to the unregistered redirect_uri")
    flows.expect_error_page(t, outcome)


def redirect_uri_in_request(t: ModuleRun) -> None:
    """oidcc-ensure-redirect-uri-in-authorization-request: no redirect_uri in the request
    (the client has two registered) → an error page, not a redirect."""
    env = t.env
    configure(t)
    with flows.browser(env) as agent:
        request = flows.auth_request(env, env.client)
        del request["redirect_uri"]
        outcome = flows.send(t, env, agent, request)
    if outcome.kind != "page":
        t.fail(f"AuthorizationEndpointRedirectedBackUnexpectedly: to {outcome.location}")
    flows.expect_error_page(t, outcome)


# --- request objects ------------------------------------------------------------------


def _by_reference(t: ModuleRun, *, allow_unsupported: bool) -> None:
    env = t.env
    none_alg_or_skip(t)
    configure(t)
    t.check(
        env.discovery.get("request_uri_parameter_supported", True) is not False,
        "CheckDiscEndpointRequestUriParameterSupported: request_uri_parameter_supported is false",
    )
    if env.publish is None:
        t.skip("no request_uri host is available to this run (see --request-uri-*)")
    with flows.browser(env) as agent:
        request = flows.auth_request(env, env.client)
        uri = env.publish(flows.unsigned_request_object(request))
        query = flows.request_object_query(request, "request_uri", uri)
        outcome = flows.send(t, env, agent, query)
        if allow_unsupported and outcome.params.get("error") == "request_uri_not_supported":
            t.skip("the OP answered request_uri_not_supported (permitted)")
        flows.code_flow(t, env, agent, env.client, request, outcome=outcome)


def request_uri_unsigned_or_unsupported(t: ModuleRun) -> None:
    """oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported."""
    _by_reference(t, allow_unsupported=True)


def request_uri_unsigned(t: ModuleRun) -> None:
    """oidcc-request-uri-unsigned (OIDCCRequestUriUnsigned, Dynamic OP plan)."""
    _by_reference(t, allow_unsupported=False)


def _request_object_send(
    t: ModuleRun, agent: Browser, request: dict[str, str], query_redirect: str
) -> tuple[dict[str, str], Outcome]:
    env = t.env
    obj = flows.unsigned_request_object(request)
    overrides = {"redirect_uri": query_redirect} if query_redirect else None
    query = flows.request_object_query(request, "request", obj, overrides)
    return query, flows.send(t, env, agent, query)


def unsigned_request_object(t: ModuleRun) -> None:
    """oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported: the
    object (state and nonce only inside it) must be processed, or request_not_supported."""
    env = t.env
    none_alg_or_skip(t)
    configure(t)
    t.warn_unless(
        env.discovery.get("request_parameter_supported") is True,
        "CheckDiscEndpointRequestParameterSupported: request_parameter_supported is not true",
    )
    with flows.browser(env) as agent:
        request = flows.auth_request(env, env.client)
        _, outcome = _request_object_send(t, agent, request, "")
        if outcome.params.get("error") == "request_not_supported":
            t.skip("the OP answered request_not_supported (permitted)")
        flows.code_flow(t, env, agent, env.client, request, outcome=outcome)


def request_object_with_redirect_uri(t: ModuleRun) -> None:
    """oidcc-ensure-request-object-with-redirect-uri: the query carries an invalid
    redirect_uri, the object the registered one; the OP must use the object's
    (OIDC Core §6.1) or show an error page."""
    env = t.env
    none_alg_or_skip(t)
    configure(t)
    invalid = f"{env.redirect_uri}_invalid"  # AddInvalidRedirectUriToAuthorizationRequest
    with flows.browser(env) as agent:
        request = flows.auth_request(env, env.client)
        _, outcome = _request_object_send(t, agent, request, invalid)
        if outcome.kind == "page":
            t.check(outcome.status < 500, f"the error page answered HTTP {outcome.status}")
            t.note("the OP showed an error page (the suite asks for a screenshot)")
            return
        t.require(
            not checks.same_url(outcome.location, invalid),
            "the OP redirected to the invalid redirect_uri from the query",
        )
        t.require(
            outcome.params.get("error") != "request_not_supported",
            "EnsureOPDoesNotUseDefaultRedirectUriInCaseOfInvalidRedirectUri",
        )
        flows.code_flow(t, env, agent, env.client, request, outcome=outcome,
                        call_userinfo=False)


def claims_essential(t: ModuleRun) -> None:
    """oidcc-claims-essential (OIDCCClaimsEssential): name essential in userinfo; WARNING
    if userinfo lacks it or the id_token carries it."""
    env = t.env
    configure(t)
    claims_request = {"userinfo": {"name": {"essential": True}}}
    with flows.browser(env) as agent:
        request = flows.auth_request(env, env.client, claims=json.dumps(claims_request))
        flow = flows.code_flow(
            t,
            env,
            agent,
            env.client,
            request,
            call_userinfo=False,
            claims_request=claims_request,
        )
    t.step = "userinfo"
    body = checks.check_userinfo(
        t, flows.userinfo(env, flow.access_token), flow.claims.get("sub"), scope=request["scope"]
    )
    t.warn_unless("name" in body, "EnsureUserInfoContainsName: userinfo has no name claim")
    t.warn_unless("name" not in flow.claims, "EnsureIdTokenDoesNotContainName: it does")


# --- refresh tokens ------------------------------------------------------------------


def refresh_token(t: ModuleRun) -> None:
    """oidcc-refresh-token (OIDCCRefreshToken): for each client, refresh after a second,
    compare the ID tokens (OIDC Core §12.2), call userinfo with the new access token;
    finally client 1 must not be able to use client 2's refresh token."""
    env = t.env
    configure(t)
    supported = env.discovery.get("scopes_supported", [])
    scope = "openid offline_access" if "offline_access" in supported else "openid"
    last_refresh: dict[str, str] = {}
    with flows.browser(env) as agent:
        for label, client in (("client 1", env.client), ("client 2", env.client2)):
            t.step = f"{label}: authorization"
            extra = {"prompt": "consent"} if "offline_access" in scope else {}
            request = flows.auth_request(
                env,
                client,
                scope=scope,
                nonce_length=43 if label == "client 2" else 10,
                **extra,
            )
            flow = flows.code_flow(t, env, agent, client, request, call_userinfo=False)
            if not flow.refresh_token:
                grants = env.discovery.get("grant_types_supported", [])
                t.warn_unless(
                    "refresh_token" not in grants,
                    "EnsureServerConfigurationDoesNotSupportRefreshToken: "
                    "advertised but none issued",
                )
                t.skip("no refresh token was issued, so refresh tokens cannot be tested")
            t.warn_unless(
                "refresh_token" in env.discovery.get("grant_types_supported", []),
                "EnsureServerConfigurationSupportsRefreshToken: not in grant_types_supported",
            )
            checks.check_refresh_token_value(t, flow.refresh_token)
            t.step = f"{label}: refresh"
            time.sleep(1)  # WaitForOneSecond: iat must differ
            data = {"grant_type": "refresh_token", "refresh_token": flow.refresh_token}
            if label == "client 1":
                data["scope"] = scope  # AddScopeToTokenEndpointRequest
            response = flows.token_request(env, client, data)
            t.check(response.status_code == 200, f"refresh answered HTTP {response.status_code}")
            body = checks.check_token_success(t, response)
            t.check(
                checks.shannon_bits(body["access_token"]) > 96,
                "EnsureMinimumAccessTokenEntropy: the new access token is not random enough",
            )
            last_refresh[label] = body.get("refresh_token") or flow.refresh_token
            if "refresh_token" in body:
                checks.check_refresh_token_value(t, body["refresh_token"])
            if "id_token" in body:
                second = checks.check_id_token(
                    t,
                    env,
                    client.client_id,
                    body["id_token"],
                    nonce=None,
                    access_token=body["access_token"],
                    check_nonce=False,
                )
                _compare_refreshed(t, flow.claims, second)
            t.step = f"{label}: userinfo with the refreshed access token"
            check = flows.userinfo(env, body["access_token"])
            t.check(check.status_code == 200, f"userinfo answered HTTP {check.status_code}")
    t.step = "client 1 with client 2's refresh token"
    response = flows.token_request(
        env,
        env.client,
        {
            "grant_type": "refresh_token",
            "refresh_token": last_refresh["client 2"],
            "scope": scope,
        },
    )
    body = checks.json_body(response)
    t.require(
        isinstance(body, dict) and isinstance(body.get("error"), str),
        f"ValidateErrorFromTokenEndpointResponseError: HTTP {response.status_code} {response.text}",
    )
    checks.check_token_error(t, response, "invalid_grant")


def _compare_refreshed(t: ModuleRun, first: dict[str, object], second: dict[str, object]) -> None:
    """CompareIdTokenClaims (OIDC Core §12.2)."""
    for claim in ("iss", "sub"):
        t.check(first.get(claim) == second.get(claim), f"refreshed id_token {claim} changed")
    t.check(first.get("iat") != second.get("iat"), "refreshed id_token has the same iat")
    aud1, aud2 = first.get("aud"), second.get("aud")
    if isinstance(aud1, list) and isinstance(aud2, list):
        t.check(set(aud1) == set(aud2), "refreshed id_token aud changed")
    else:
        t.check(aud1 == aud2, "refreshed id_token aud changed")
    if "auth_time" in second:
        t.check(
            first.get("auth_time") == second.get("auth_time"),
            "refreshed id_token auth_time is not the original authentication time",
        )
    if "azp" not in first:
        t.check("azp" not in second, "refreshed id_token has azp but the original had none")
    else:
        t.check(first.get("azp") == second.get("azp"), "refreshed id_token azp changed")


NOT_FOR_STATIC = (
    "VariantNotApplicable(client_registration=static_client) in the OIDF plan; "
    "run here anyway because it applies to Portico's statically registered clients"
)

MODULES: list[Module] = [
    Module("oidcc-server", BASIC, server_test),
    Module("oidcc-response-type-missing", BASIC, response_type_missing),
    Module("oidcc-idtoken-signature", BASIC, idtoken_signature, NOT_FOR_STATIC),
    Module("oidcc-idtoken-unsigned", BASIC, idtoken_unsigned),
    Module("oidcc-userinfo-get", BASIC, userinfo_get),
    Module("oidcc-userinfo-post-header", BASIC, userinfo_post_header),
    Module("oidcc-userinfo-post-body", BASIC, userinfo_post_body),
    Module(
        "oidcc-ensure-request-without-nonce-succeeds-for-code-flow", BASIC, request_without_nonce
    ),
    Module("oidcc-scope-profile", BASIC, scope_profile),
    Module("oidcc-scope-email", BASIC, scope_email),
    Module("oidcc-scope-address", BASIC, scope_address),
    Module("oidcc-scope-phone", BASIC, scope_phone),
    Module("oidcc-scope-all", BASIC, scope_all),
    Module("oidcc-ensure-other-scope-order-succeeds", BASIC, other_scope_order),
    Module("oidcc-display-page", BASIC, display_page),
    Module("oidcc-display-popup", BASIC, display_popup),
    Module("oidcc-prompt-login", BASIC, prompt_login),
    Module("oidcc-prompt-none-not-logged-in", BASIC, prompt_none_not_logged_in),
    Module("oidcc-prompt-none-logged-in", BASIC, prompt_none_logged_in),
    Module("oidcc-max-age-1", BASIC, max_age_1),
    Module("oidcc-max-age-10000", BASIC, max_age_10000),
    Module("oidcc-ensure-request-with-unknown-parameter-succeeds", BASIC, unknown_parameter),
    Module("oidcc-id-token-hint", BASIC, id_token_hint),
    Module("oidcc-login-hint", BASIC, login_hint),
    Module("oidcc-ui-locales", BASIC, ui_locales),
    Module("oidcc-claims-locales", BASIC, claims_locales),
    Module("oidcc-ensure-request-with-acr-values-succeeds", BASIC, acr_values),
    Module("oidcc-codereuse", BASIC, code_reuse),
    Module("oidcc-codereuse-30seconds", BASIC, code_reuse_30s),
    Module("oidcc-ensure-registered-redirect-uri", BASIC, registered_redirect_uri),
    Module("oidcc-ensure-post-request-succeeds", BASIC, post_request),
    Module("oidcc-server-client-secret-post", BASIC, server_test_client_secret_post),
    Module(
        "oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported",
        BASIC,
        request_uri_unsigned_or_unsupported,
        NOT_FOR_STATIC,
    ),
    Module(
        "oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported",
        BASIC,
        unsigned_request_object,
    ),
    Module("oidcc-claims-essential", BASIC, claims_essential),
    Module(
        "oidcc-ensure-request-object-with-redirect-uri", BASIC, request_object_with_redirect_uri
    ),
    Module("oidcc-refresh-token", BASIC, refresh_token),
    Module("oidcc-ensure-request-with-valid-pkce-succeeds", BASIC, pkce),
    # Dynamic OP plan modules that need no dynamic registration to be meaningful.
    Module("oidcc-request-uri-unsigned", DYNAMIC, request_uri_unsigned, NOT_FOR_STATIC),
    Module(
        "oidcc-ensure-redirect-uri-in-authorization-request",
        DYNAMIC,
        redirect_uri_in_request,
        NOT_FOR_STATIC,
    ),
]
