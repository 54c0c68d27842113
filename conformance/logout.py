"""The OIDF logout plans (static clients, ``server_metadata=discovery``,
``client_auth_type=client_secret_basic``, ``response_mode=default``):

* ``oidcc-rp-initiated-logout-certification-test-plan`` (OIDCCRpInitiatedLogoutTestPlan)
* ``oidcc-backchannel-rp-initiated-logout-certification-test-plan``
* ``oidcc-frontchannel-rp-initiated-logout-certification-test-plan``

Every module after the discovery checks follows AbstractOIDCCRpInitiatedLogout: a
normal code flow (state of 128 characters), then the browser goes to the
``end_session_endpoint`` with ``id_token_hint``, ``post_logout_redirect_uri`` and a
random ``state`` (CreateEndSessionEndpointRequest), as the module changes them. When
the OP comes back to the post-logout URI, a second authorization with
``prompt=none`` must fail with an error that needs a user interface
(CheckErrorFromAuthorizationEndpointIsOneThatRequiredAUserInterface): the person is
signed out. The relying party's endpoints are ``conformance.logout_rig``'s.

Where the suite asks for a screenshot, the runner checks what the screenshot would
show and says so in a note; where a module ends on a page, it also confirms the
sign-out as a person would and checks the session really ended (stricter).
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from urllib.parse import urljoin

import httpx

from conformance import checks, flows
from conformance.basic import configure
from conformance.browser import Browser, Outcome, _redirect_outcome, page_text, parse_forms
from conformance.flows import Flow
from conformance.framework import ClientCreds, Module, ModuleRun
from conformance.logout_rig import LogoutRig

RP_LOGOUT = "rp-logout"
BACKCHANNEL = "backchannel-logout"
FRONTCHANNEL = "frontchannel-logout"
PLAN_NAMES = {
    RP_LOGOUT: "oidcc-rp-initiated-logout-certification-test-plan",
    BACKCHANNEL: "oidcc-backchannel-rp-initiated-logout-certification-test-plan",
    FRONTCHANNEL: "oidcc-frontchannel-rp-initiated-logout-certification-test-plan",
}
EVENT = "http://schemas.openid.net/event/backchannel-logout"
UI_ERRORS = ("login_required", "interaction_required", "consent_required",
             "account_selection_required")
STATE_LENGTH = 128
SKEW = 300  # ValidateLogoutTokenClaims: five minutes


def rig_of(t: ModuleRun) -> LogoutRig:
    rig = t.env.extras.get("logout")
    if not isinstance(rig, LogoutRig):
        t.skip("no relying-party endpoints for the logout plans (run with --provision, or "
               "give the logout clients in --config)")
    assert isinstance(rig, LogoutRig)
    return rig


def client_of(t: ModuleRun, kind: str) -> ClientCreds:
    client = rig_of(t).clients.get(kind)
    if client is None:
        t.skip(f"no {kind} client configured (client_{kind} in --config, or --provision)")
    assert client is not None
    return client


# --- discovery -----------------------------------------------------------------------------


def _discovery(t: ModuleRun, flags: tuple[str, ...]) -> None:
    """GetDynamicServerConfiguration, CheckDiscEndpointAllEndpointsAreHttps, the
    plan's ``*_supported`` flags (FAILURE unless true) and CheckDiscEndSessionEndpoint."""
    env = t.env
    response = env.http.get(env.discovery_url, headers={"Accept": "application/json"})
    t.check(response.status_code == 200, f"discovery answered HTTP {response.status_code}")
    t.check(checks.content_type(response) == "application/json",
            f"discovery content type is {checks.content_type(response)!r}")
    doc = checks.json_body(response)
    t.require(isinstance(doc, dict), "the discovery document is not a JSON object")
    assert isinstance(doc, dict)
    for name in sorted(doc):
        if name.endswith("_endpoint") and name != "end_session_endpoint":
            checks.check_url(t, env, name, doc[name])
    for flag in flags:
        t.check(doc.get(flag) is True, f"{flag} is {doc.get(flag)!r}, not true")
    checks.check_url(t, env, "end_session_endpoint", doc.get("end_session_endpoint"))


def rp_initiated_logout_discovery(t: ModuleRun) -> None:
    """oidcc-rp-initiated-logout-discovery-endpoint-verification."""
    _discovery(t, ())


def backchannel_logout_discovery(t: ModuleRun) -> None:
    """oidcc-backchannel-logout-discovery-endpoint-verification: certification requires
    ``backchannel_logout_session_supported``."""
    _discovery(t, ("backchannel_logout_supported", "backchannel_logout_session_supported"))


def frontchannel_logout_discovery(t: ModuleRun) -> None:
    """oidcc-frontchannel-logout-discovery-endpoint-verification."""
    _discovery(t, ("frontchannel_logout_supported", "frontchannel_logout_session_supported"))


# --- the shared flow -----------------------------------------------------------------------


def sign_in(t: ModuleRun, agent: Browser, client: ClientCreds, redirect_uri: str = "") -> Flow:
    """The first authorization of AbstractOIDCCRpInitiatedLogout (128-character state)."""
    env = t.env
    t.step = "authorization"
    extra = {"redirect_uri": redirect_uri} if redirect_uri else {}
    request = flows.auth_request(env, client, state_length=STATE_LENGTH, **extra)
    flow = flows.code_flow(t, env, agent, client, request, call_userinfo=False)
    t.step = ""
    return flow


def end_session_request(t: ModuleRun, flow: Flow, **changes: str | None) -> dict[str, str]:
    """CreateRandomEndSessionState + CreateEndSessionEndpointRequest, then the module's
    changes (a value of None removes the parameter)."""
    request = {
        "id_token_hint": flow.id_token,
        "post_logout_redirect_uri": rig_of(t).url("post_logout_redirect"),
        "state": flows.random_value(STATE_LENGTH),
    }
    for name, value in changes.items():
        if value is None:
            request.pop(name, None)
        else:
            request[name] = value
    return request


def go_to_end_session(t: ModuleRun, agent: Browser, request: dict[str, str],
                      on_page: Callable[[str, str], Outcome | None] | None = None) -> Outcome:
    """BuildRedirectToEndSessionEndpoint: the browser follows the OP until it leaves it
    or shows a page; ``on_page(url, html)`` may act on a page (load iframes, follow a
    refresh) and return where that led."""
    t.step = "end_session"
    response = agent.http.get(t.env.endpoint("end_session_endpoint"), params=request)
    return follow(agent, response, on_page)


def follow(agent: Browser, response: httpx.Response,
           on_page: Callable[[str, str], Outcome | None] | None = None) -> Outcome:
    """Follow the OP's own redirects; stop at one leaving it, or at a page."""
    for _ in range(10):
        if response.status_code in (301, 302, 303, 307, 308):
            location = urljoin(str(response.url), response.headers.get("location", ""))
            if not agent._on_op(location):
                return _redirect_outcome(response.status_code, location, [])
            response = agent.http.get(location)
            continue
        html = response.text if "html" in response.headers.get("content-type", "") else ""
        if on_page is not None and response.status_code == 200:
            led = on_page(str(response.url), html)
            if led is not None:
                return led
        page = Outcome("page", response.status_code, html=html)
        refresh = response.headers.get("refresh", "")
        if refresh:
            page.pages.append("refresh:" + refresh)
        return page
    raise RuntimeError("too many redirects on the OP")


def expect_post_logout_redirect(t: ModuleRun, outcome: Outcome, request: dict[str, str]) -> None:
    """The OP sent the browser to the post_logout_redirect_uri: CheckPostLogoutState (or
    CheckNoPostLogoutState) and CheckForUnexpectedParametersInPostLogoutRedirect."""
    t.require(outcome.kind == "redirect",
              f"expected a redirect to the post_logout_redirect_uri, but {outcome.describe()}")
    target = request["post_logout_redirect_uri"]
    t.require(checks.same_url(outcome.location, target),
              f"the OP went to {outcome.location}, not the post_logout_redirect_uri {target}")
    if "state" in request:
        t.check(outcome.params.get("state") == request["state"],
                f"state after logout is {outcome.params.get('state')!r}, not the one sent")
    else:
        t.check("state" not in outcome.params, "the OP added a state that was not sent")
    unexpected = sorted(set(outcome.params) - {"state"})
    t.warn_unless(not unexpected, f"unexpected parameters in the post-logout redirect: "
                                  f"{unexpected}")


def expect_signed_out(t: ModuleRun, agent: Browser, client: ClientCreds,
                      redirect_uri: str = "") -> None:
    """The second authorization (prompt=none) must fail with an error that needs a user
    interface (OIDCC-3.1.2.6)."""
    env = t.env
    t.step = "Second authorization"
    extra = {"redirect_uri": redirect_uri} if redirect_uri else {}
    request = flows.auth_request(env, client, state_length=STATE_LENGTH, prompt="none", **extra)
    outcome = flows.send(t, env, agent, request)
    t.require(not outcome.login_shown, "a login page was shown for prompt=none")
    params = flows.expect_error(t, env, outcome, request)
    t.check(params.get("error") in UI_ERRORS,
            f"error is {params.get('error')!r}: the user still seems to be signed in")
    t.step = ""


def expect_no_redirect(t: ModuleRun, outcome: Outcome, rig: LogoutRig, what: str) -> None:
    """The OP must not redirect back; it shows an error page or asks the user (the
    suite's screenshot)."""
    t.require(outcome.kind == "page",
              f"the OP redirected to {outcome.location} although {what}")
    t.check(outcome.status < 500, f"the OP's page answered HTTP {outcome.status}")
    asks = any(f.method == "post" for f in parse_forms(outcome.html))
    t.note(("the OP asked the user to confirm" if asks else "the OP showed an error page")
           + f" (HTTP {outcome.status}): {page_text(outcome.html)[:120]!r}")


def confirm_if_asked(t: ModuleRun, agent: Browser, outcome: Outcome) -> Outcome:
    """A person on a confirmation page presses the button that signs out."""
    forms = [f for f in parse_forms(outcome.html) if f.method == "post"]
    if outcome.kind != "page" or not forms:
        return outcome
    form = forms[0]
    t.note("the OP asked for confirmation; the runner confirmed like a person")
    response = agent.http.post(urljoin(t.env.issuer + "/", form.action), data=form.fields)
    return follow(agent, response)


def expect_logged_out_page(t: ModuleRun, agent: Browser, outcome: Outcome, client: ClientCreds
                           ) -> None:
    """ExpectSuccessfulLogoutPage: no redirect to the client; the user is signed out
    (the runner checks with prompt=none what the screenshot would show)."""
    t.require(outcome.kind == "page",
              f"the OP redirected to {outcome.location} although no post_logout_redirect_uri "
              "was usable")
    outcome = confirm_if_asked(t, agent, outcome)
    t.require(outcome.kind == "page", f"after confirming, {outcome.describe()}")
    t.check(outcome.status == 200, f"the logged-out page answered HTTP {outcome.status}")
    expect_signed_out(t, agent, client)


# --- oidcc-rp-initiated-logout-certification-test-plan ------------------------------------


def rp_initiated_logout(t: ModuleRun, **changes: str | None) -> None:
    """oidcc-rp-initiated-logout (OIDCCRpInitiatedLogout)."""
    client = client_of(t, "rp_logout")
    configure(t, client)
    with flows.browser(t.env) as agent:
        flow = sign_in(t, agent, client)
        request = end_session_request(t, flow, **changes)
        outcome = go_to_end_session(t, agent, request)
        expect_post_logout_redirect(t, outcome, request)
        expect_signed_out(t, agent, client)


def rp_initiated_logout_no_state(t: ModuleRun) -> None:
    """oidcc-rp-initiated-logout-no-state (OIDCCRpInitiatedLogoutNoState)."""
    rp_initiated_logout(t, state=None)


def _refused(t: ModuleRun, what: str, **changes: str | None) -> None:
    rig = rig_of(t)
    client = client_of(t, "rp_logout")
    configure(t, client)
    with flows.browser(t.env) as agent:
        flow = sign_in(t, agent, client)
        before = len(rig.hits)
        outcome = go_to_end_session(t, agent, end_session_request(t, flow, **changes))
        expect_no_redirect(t, outcome, rig, what)
        t.check(not rig.received("post_logout_redirect", before, timeout=0),
                "the post_logout_redirect_uri was called")


def rp_initiated_logout_bad_post_logout_redirect_uri(t: ModuleRun) -> None:
    """oidcc-rp-initiated-logout-bad-post-logout-redirect-uri: an unregistered URI
    (AddBadPostLogoutRedirectUriToEndSessionEndpointRequest) must not be used."""
    bad = rig_of(t).url("post_logout_redirect") + "/bad"
    _refused(t, "the post_logout_redirect_uri is not registered", post_logout_redirect_uri=bad)


def rp_initiated_logout_modified_id_token_hint(t: ModuleRun) -> None:
    """oidcc-rp-initiated-logout-modified-id-token-hint: the hint changed to alg:none
    (ChangeIdTokenToAlgNone) is no valid hint."""
    client = client_of(t, "rp_logout")
    configure(t, client)
    rig = rig_of(t)
    with flows.browser(t.env) as agent:
        flow = sign_in(t, agent, client)
        header = checks.b64url_json(flow.id_token.split(".")[0]) or {}
        header["alg"] = "none"
        head = base64.urlsafe_b64encode(json.dumps(header).encode()).rstrip(b"=").decode()
        modified = f"{head}.{flow.id_token.split('.')[1]}."
        before = len(rig.hits)
        outcome = go_to_end_session(t, agent, end_session_request(t, flow, id_token_hint=modified))
        expect_no_redirect(t, outcome, rig, "the id_token_hint was modified to alg:none")
        t.check(not rig.received("post_logout_redirect", before, timeout=0),
                "the post_logout_redirect_uri was called")


def rp_initiated_logout_no_id_token_hint(t: ModuleRun) -> None:
    """oidcc-rp-initiated-logout-no-id-token-hint: without a hint the OP must not
    redirect (it shows an error or asks: ExpectIdTokenHintRequiredErrorPage)."""
    _refused(t, "no id_token_hint was sent", id_token_hint=None)


def _logged_out_page(t: ModuleRun, **changes: str | None) -> None:
    client = client_of(t, "rp_logout")
    configure(t, client)
    with flows.browser(t.env) as agent:
        flow = sign_in(t, agent, client)
        request = end_session_request(t, flow, **changes)
        outcome = go_to_end_session(t, agent, request)
        expect_logged_out_page(t, agent, outcome, client)


def rp_initiated_logout_no_params(t: ModuleRun) -> None:
    """oidcc-rp-initiated-logout-no-params (RemoveAllParametersFromEndSessionEndpoint
    Request): the OP logs the user out and shows its logged-out page."""
    _logged_out_page(t, id_token_hint=None, post_logout_redirect_uri=None, state=None)


def rp_initiated_logout_no_post_logout_redirect_uri(t: ModuleRun) -> None:
    """oidcc-rp-initiated-logout-no-post-logout-redirect-uri."""
    _logged_out_page(t, post_logout_redirect_uri=None)


def rp_initiated_logout_only_state(t: ModuleRun) -> None:
    """oidcc-rp-initiated-logout-only-state."""
    _logged_out_page(t, id_token_hint=None, post_logout_redirect_uri=None)


# --- oidcc-backchannel-rp-initiated-logout -------------------------------------------------


def backchannel_rp_initiated_logout(t: ModuleRun) -> None:
    """oidcc-backchannel-rp-initiated-logout (OIDCCBackChannelRpInitiatedLogout)."""
    env, rig = t.env, rig_of(t)
    client = client_of(t, "backchannel")
    configure(t, client)
    with flows.browser(env) as agent:
        flow = sign_in(t, agent, client)
        before = len(rig.hits)
        request = end_session_request(t, flow)
        outcome = go_to_end_session(t, agent, request)
        t.step = "backchannel logout request"
        hits = rig.received("backchannel_logout", before)
        t.require(hits, "the OP never called the backchannel_logout_uri")
        t.check(len(hits) == 1, f"the backchannel_logout_uri was called {len(hits)} times")
        check_backchannel_request(t, hits[0].method, hits[0].content_type, hits[0].form, flow,
                                  client)
        t.step = "post logout redirect"
        expect_post_logout_redirect(t, outcome, request)
        expect_signed_out(t, agent, client)


def check_backchannel_request(t: ModuleRun, method: str, content_type: str,
                              form: dict[str, list[str]], flow: Flow, client: ClientCreds
                              ) -> None:
    """ExtractLogoutTokenFromBackchannelLogoutRequest, CheckForUnexpectedParameters…,
    ValidateLogoutTokenSignature, ValidateLogoutTokenClaims, CheckIdTokenSub/Sid
    MatchesLogoutToken, CheckLogoutTokenNoNonce, CheckLogoutTokenHasSubOrSid."""
    env = t.env
    t.check(method == "POST", f"the back-channel request is a {method}, not a POST")
    t.check(content_type.split(";")[0].strip() == "application/x-www-form-urlencoded",
            f"the back-channel request's content type is {content_type!r}")
    tokens = form.get("logout_token") or []
    t.require(len(tokens) == 1, "the request has no single logout_token form parameter")
    extra = sorted(set(form) - {"logout_token"})
    t.check(not extra, f"unexpected parameters in the back-channel request: {extra}")
    header, claims = checks.decode_id_token(t, tokens[0])
    checks.verify_signature(t, env, tokens[0], header)
    t.check(claims.get("iss") == env.issuer, f"iss is {claims.get('iss')!r}")
    aud = claims.get("aud")
    t.check(aud == client.client_id or (isinstance(aud, list) and client.client_id in aud),
            f"aud {aud!r} does not name the client")
    iat = claims.get("iat")
    t.check(isinstance(iat, int) and iat <= time.time() + SKEW, f"iat {iat!r} is missing or "
                                                                "in the future")
    t.check(isinstance(claims.get("jti"), str) and claims["jti"], "jti is missing")
    events = claims.get("events")
    t.check(events == {EVENT: {}}, f"events must be exactly {{{EVENT!r}: {{}}}}: {events!r}")
    t.check("nonce" not in claims, "the logout token carries a nonce")
    t.check("sub" in claims or "sid" in claims, "the logout token has neither sub nor sid")
    if "sub" in claims:
        t.check(claims["sub"] == flow.claims.get("sub"), "sub differs from the id_token's")
    if "sid" in claims:
        t.check(claims["sid"] == flow.claims.get("sid"), "sid differs from the id_token's")
    else:
        t.note("the logout token has no sid")
    t.warn_unless(header.get("typ") == "logout+jwt",
                  f"the logout token is not explicitly typed logout+jwt: {header.get('typ')!r}")


# --- oidcc-frontchannel-rp-initiated-logout ------------------------------------------------


def frontchannel_rp_initiated_logout(t: ModuleRun) -> None:
    """oidcc-frontchannel-rp-initiated-logout (OIDCCFrontChannelRpInitiatedLogout): the OP
    renders the frontchannel_logout_uri in an iframe (the runner loads it as a browser
    would), then goes to the post_logout_redirect_uri."""
    env, rig = t.env, rig_of(t)
    client = client_of(t, "frontchannel")
    callback = rig.url("callback")
    configure(t, client)
    with flows.browser(env) as agent:
        flow = sign_in(t, agent, client, callback)
        before = len(rig.hits)
        request = end_session_request(t, flow)
        outcome = go_to_end_session(t, agent, request,
                                    on_page=lambda url, html: load_frames(t, agent, url, html))
        t.step = "frontchannel logout request"
        hits = rig.received("frontchannel_logout", before, timeout=2)
        t.require(hits, "the OP's page did not load the frontchannel_logout_uri")
        query = {k: v[0] for k, v in hits[0].query.items()}
        t.check(set(query) <= {"iss", "sid"},
                f"unexpected parameters: {sorted(set(query) - {'iss', 'sid'})}")
        t.check(query.get("iss") == env.issuer, f"iss is {query.get('iss')!r}")
        t.check(query.get("sid") and query.get("sid") == flow.claims.get("sid"),
                f"sid {query.get('sid')!r} is missing or differs from the id_token's")
        t.step = "post logout redirect"
        expect_post_logout_redirect(t, outcome, request)
        expect_signed_out(t, agent, client, callback)


def load_frames(t: ModuleRun, agent: Browser, url: str, html: str) -> Outcome | None:
    """What a browser does with the OP's logout page: load each iframe (cookies of the
    RP's origin are the RP's business), then follow the page's refresh or its continue
    link off the OP."""
    frames = _attribute_values(html, "iframe", "src")
    t.require(frames, "the OP's logout page has no iframe")
    for src in frames:
        agent.http.get(urljoin(url, src))
    links = [urljoin(url, h) for h in _attribute_values(html, "a", "href")]
    leaving = [h for h in links if not agent._on_op(h)]
    if not leaving:
        return None
    return _redirect_outcome(200, leaving[0], [])


def _attribute_values(html: str, tag: str, attr: str) -> list[str]:
    from html.parser import HTMLParser

    found: list[str] = []

    class Finder(HTMLParser):
        def handle_starttag(self, name: str, attrs: list[tuple[str, str | None]]) -> None:
            if name == tag:
                value = dict(attrs).get(attr)
                if value:
                    found.append(value)

    Finder(convert_charrefs=True).feed(html)
    return found


MODULES = [
    Module("oidcc-rp-initiated-logout-discovery-endpoint-verification", RP_LOGOUT,
           rp_initiated_logout_discovery),
    Module("oidcc-rp-initiated-logout", RP_LOGOUT, rp_initiated_logout),
    Module("oidcc-rp-initiated-logout-bad-post-logout-redirect-uri", RP_LOGOUT,
           rp_initiated_logout_bad_post_logout_redirect_uri),
    Module("oidcc-rp-initiated-logout-modified-id-token-hint", RP_LOGOUT,
           rp_initiated_logout_modified_id_token_hint),
    Module("oidcc-rp-initiated-logout-no-id-token-hint", RP_LOGOUT,
           rp_initiated_logout_no_id_token_hint),
    Module("oidcc-rp-initiated-logout-no-params", RP_LOGOUT, rp_initiated_logout_no_params,
           note="the runner confirms the sign-out when asked and checks it with prompt=none"),
    Module("oidcc-rp-initiated-logout-no-post-logout-redirect-uri", RP_LOGOUT,
           rp_initiated_logout_no_post_logout_redirect_uri),
    Module("oidcc-rp-initiated-logout-no-state", RP_LOGOUT, rp_initiated_logout_no_state),
    Module("oidcc-rp-initiated-logout-only-state", RP_LOGOUT, rp_initiated_logout_only_state,
           note="the runner confirms the sign-out when asked and checks it with prompt=none"),
    Module("oidcc-backchannel-logout-discovery-endpoint-verification", BACKCHANNEL,
           backchannel_logout_discovery),
    Module("oidcc-backchannel-rp-initiated-logout", BACKCHANNEL,
           backchannel_rp_initiated_logout),
    Module("oidcc-frontchannel-logout-discovery-endpoint-verification", FRONTCHANNEL,
           frontchannel_logout_discovery),
    Module("oidcc-frontchannel-rp-initiated-logout", FRONTCHANNEL,
           frontchannel_rp_initiated_logout),
]
