"""The authorization code flow as AbstractOIDCCServerTest runs it: build the request,
send the browser, check the callback, redeem the code, validate the ID token and call
userinfo. Modules take the steps they need and add their own checks around them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx

from conformance import checks
from conformance.browser import Browser, Outcome
from conformance.framework import ClientCreds, ModuleRun, RunEnv

# AbstractBuildRequestObjectRedirectToAuthorizationEndpoint.REQUIRED_DUPLICATES
REQUIRED_DUPLICATES = ("response_type", "client_id", "scope", "redirect_uri")


def random_value(length: int = 10) -> str:
    """CreateRandomStateValue / CreateRandomNonceValue: URL-safe random text."""
    return secrets.token_urlsafe(length)[:length]


def browser(env: RunEnv) -> Browser:
    """A fresh user agent: no cookies, as if the tester cleared them."""
    return Browser(env.issuer, env.username, env.password, verify=env.verify)


def auth_request(
    env: RunEnv,
    client: ClientCreds,
    *,
    scope: str = "openid",
    nonce: bool = True,
    state_length: int = 10,
    nonce_length: int = 10,
    **extra: str,
) -> dict[str, str]:
    """CreateAuthorizationRequestSteps: client_id, redirect_uri, scope, state, nonce,
    the plan's response_type (and response_mode), then whatever the module adds."""
    request = {
        "client_id": client.client_id,
        "redirect_uri": env.redirect_uri,
        "scope": scope,
        "state": random_value(state_length),
    }
    if nonce:
        request["nonce"] = random_value(nonce_length)
    request["response_type"] = env.response_type
    if env.response_mode:
        request["response_mode"] = env.response_mode
    request.update(extra)
    return request


def unsigned_request_object(claims: dict[str, Any]) -> str:
    """SerializeRequestObjectWithNullAlgorithm: ``{"alg":"none"}`` and no signature."""

    def enc(value: dict[str, Any]) -> str:
        raw = json.dumps(value, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return f"{enc({'alg': 'none'})}.{enc(claims)}."


def request_object_query(
    request: dict[str, str], name: str, value: str, overrides: dict[str, str] | None = None
) -> dict[str, str]:
    """BuildRequestObjectBy{Value,Reference}RedirectToAuthorizationEndpoint: the object,
    plus the parameters OAuth 2.0 requires outside it (and any that differ)."""
    query = {name: value}
    for key in REQUIRED_DUPLICATES:
        if key in request:
            query[key] = request[key]
    query.update(overrides or {})
    return query


def send(
    t: ModuleRun,
    env: RunEnv,
    agent: Browser,
    request: dict[str, str],
    *,
    method: str = "GET",
    consent: str = "approve",
) -> Outcome:
    """Send the browser to the authorization endpoint with ``request``."""
    return agent.authorize(
        env.endpoint("authorization_endpoint"), request, method=method, consent=consent
    )


def expect_callback(
    t: ModuleRun, env: RunEnv, outcome: Outcome, request: dict[str, str], *, redirect_uri: str = ""
) -> dict[str, str]:
    """processCallback + onAuthorizationCallbackResponse for a successful request:
    CheckMatchingCallbackParameters, ValidateIssIfPresentInAuthorizationResponse,
    CheckIfAuthorizationEndpointError, CheckStateInAuthorizationResponse,
    ExtractAuthorizationCodeFromAuthorizationResponse."""
    target = redirect_uri or request.get("redirect_uri") or env.redirect_uri
    t.require(
        outcome.kind in ("redirect", "form_post"),
        f"expected a redirect to the client, but {outcome.describe()}",
    )
    t.check(
        checks.same_url(outcome.location, target),
        f"the OP called {outcome.location}, not the requested redirect_uri {target}",
    )
    returns = request.get("response_type", "code").split()
    mode = request.get("response_mode")
    if mode == "form_post":
        t.check(outcome.kind == "form_post", "response_mode=form_post, but no form was posted")
    elif returns != ["code"] and mode in (None, "fragment"):
        # OAuth 2.0 Multiple Response Types §5: the default for these is the fragment.
        t.check(
            outcome.kind == "redirect" and outcome.in_fragment,
            "the response was not delivered in the fragment (the default with tokens)",
        )
    elif mode in (None, "query"):
        t.check(
            outcome.kind == "redirect" and not outcome.in_fragment,
            "the code response was not delivered in the query (the default for code)",
        )
    t.check(not outcome.repeated, f"parameters repeated in the response: {outcome.repeated}")
    params = outcome.params
    checks.check_iss(t, env, params)
    t.require(
        "error" not in params,
        f"the authorization endpoint returned an error: {params.get('error')} "
        f"({params.get('error_description', '')})",
    )
    t.check(
        params.get("state") == request.get("state"),
        f"state in the response is {params.get('state')!r}, not the one sent",
    )
    for name, wanted in (("code", "code"), ("id_token", "id_token"), ("access_token", "token")):
        if wanted in returns:
            t.require(
                isinstance(params.get(name), str) and params[name],
                f"no {name} in the response although response_type={' '.join(returns)}",
            )
        else:
            t.check(name not in params, f"{name} in the response for response_type "
                                        f"{' '.join(returns)}")
    if "token" in returns:
        # CheckForAccessTokenValue + CheckTokenTypeIsBearer on the authorization response
        token_type = params.get("token_type", "")
        t.check(token_type.lower() == "bearer", f"token_type is {token_type!r}, not Bearer")
    return params


def check_front_channel_hashes(
    t: ModuleRun, params: dict[str, str], header: dict[str, Any], claims: dict[str, Any]
) -> None:
    """ValidateCHash / ValidateAtHash: REQUIRED in an ID token from the authorization
    endpoint beside a code / access token (OIDC Core §3.3.2.11, §3.2.2.10)."""
    alg = str(header.get("alg"))
    for claim, value in (("c_hash", params.get("code")), ("at_hash", params.get("access_token"))):
        if value is None:
            continue
        if t.check(claim in claims, f"the front-channel id_token has no {claim}"):
            t.check(
                claims[claim] == checks.half_hash(value, alg),
                f"{claim} does not match the value in the authorization response",
            )


def expect_error(
    t: ModuleRun, env: RunEnv, outcome: Outcome, request: dict[str, str], *, redirect_uri: str = ""
) -> dict[str, str]:
    """An error delivered to the client (query), validated generically."""
    target = redirect_uri or request.get("redirect_uri") or env.redirect_uri
    t.require(
        outcome.kind in ("redirect", "form_post"),
        f"expected an error redirect to the client, but {outcome.describe()}",
    )
    t.check(
        checks.same_url(outcome.location, target),
        f"the OP called {outcome.location}, not the requested redirect_uri {target}",
    )
    checks.check_error_response(t, env, outcome.params, request.get("state"))
    return outcome.params


def expect_error_page(t: ModuleRun, outcome: Outcome) -> None:
    """ExpectRedirectUriErrorPage and friends: the OP must not call any redirect URI;
    it shows its own error page (and never a 5xx)."""
    t.require(
        outcome.kind == "page",
        f"the OP redirected to {outcome.location} instead of showing an error page",
    )
    t.check(outcome.status < 500, f"the error page answered HTTP {outcome.status}")
    t.check(not outcome.login_shown, "a login page was shown instead of an error page")


def client_auth(client: ClientCreds, data: dict[str, str], headers: dict[str, str]) -> None:
    """AddBasicAuthClientSecretAuthenticationParameters / AddFormBased…Parameters.

    RFC 6749 §2.3.1: id and secret are form-urlencoded before going into Basic.
    """
    if client.auth_method == "client_secret_post":
        data["client_id"] = client.client_id
        data["client_secret"] = client.client_secret
    else:
        pair = f"{quote(client.client_id, safe='')}:{quote(client.client_secret, safe='')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()


def token_request(env: RunEnv, client: ClientCreds, data: dict[str, str]) -> httpx.Response:
    """POST to the token endpoint with the client's authentication."""
    form = dict(data)
    headers = {"Accept": "application/json"}
    client_auth(client, form, headers)
    return env.http.post(env.endpoint("token_endpoint"), data=form, headers=headers)


def code_grant(
    env: RunEnv, client: ClientCreds, code: str, *, redirect_uri: str = "", **extra: str
) -> httpx.Response:
    """CreateTokenEndpointRequestForAuthorizationCodeGrant + CallTokenEndpoint."""
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": redirect_uri or env.redirect_uri,
        **extra,
    }
    return token_request(env, client, data)


def userinfo(env: RunEnv, access_token: str, how: str = "get") -> httpx.Response:
    """CallUserInfoEndpoint (GET), SetResourceMethodToPost (POST, header), or
    CallUserInfoEndpointWithBearerTokenInBody (POST, form body)."""
    url = env.endpoint("userinfo_endpoint")
    accept = {"Accept": "application/json"}
    if how == "post-body":
        return env.http.post(url, data={"access_token": access_token}, headers=accept)
    headers = {**accept, "Authorization": f"Bearer {access_token}"}
    if how == "post-header":
        return env.http.post(url, headers=headers)
    return env.http.get(url, headers=headers)


def pkce_pair() -> tuple[str, str]:
    """SetupPkceAndAddToAuthorizationRequest: an S256 verifier/challenge pair."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@dataclass
class Flow:
    """What one authorization round trip produced."""

    request: dict[str, str]
    outcome: Outcome
    params: dict[str, str] = field(default_factory=dict)
    token: dict[str, Any] = field(default_factory=dict)
    id_token: str = ""
    claims: dict[str, Any] = field(default_factory=dict)
    access_token: str = ""
    refresh_token: str | None = None
    userinfo: dict[str, Any] = field(default_factory=dict)


def code_flow(
    t: ModuleRun,
    env: RunEnv,
    agent: Browser,
    client: ClientCreds,
    request: dict[str, str],
    *,
    method: str = "GET",
    query: dict[str, str] | None = None,
    token_extra: dict[str, str] | None = None,
    check_code_value: bool = False,
    call_userinfo: bool = True,
    claims_request: dict[str, Any] | None = None,
    outcome: Outcome | None = None,
) -> Flow:
    """The whole happy path of AbstractOIDCCServerTest.

    ``request`` is the logical authorization request (what the OP should act on);
    ``query`` is what is actually sent when it differs (request objects). Pass
    ``outcome`` when the module already sent the request and looked at the answer.
    """
    if outcome is None:
        outcome = send(t, env, agent, query or request, method=method)
    params = expect_callback(t, env, outcome, request)
    flow = Flow(request, outcome, params)
    returns = request.get("response_type", "code").split()
    front: dict[str, Any] = {}
    if "id_token" in returns:
        # The implicit / hybrid ID token: the standard checks, plus c_hash / at_hash.
        flow.id_token = params["id_token"]
        front = checks.check_id_token(
            t, env, client.client_id, flow.id_token, nonce=request.get("nonce"),
            access_token=params.get("access_token"), claims_request=claims_request,
        )
        header, _ = checks.decode_id_token(t, flow.id_token)
        check_front_channel_hashes(t, params, header, front)
        flow.claims = front
    if "token" in returns:
        flow.access_token = params["access_token"]
    if "code" not in returns:
        return _finish(t, env, flow, call_userinfo)
    if check_code_value:
        checks.check_code(t, params["code"])
    response = code_grant(
        env,
        client,
        params["code"],
        redirect_uri=request.get("redirect_uri", ""),
        **(token_extra or {}),
    )
    flow.token = checks.check_token_success(t, response)
    flow.access_token = flow.token["access_token"]
    flow.refresh_token = flow.token.get("refresh_token")
    flow.id_token = flow.token.get("id_token", "")
    flow.claims = checks.check_id_token(
        t,
        env,
        client.client_id,
        flow.token.get("id_token"),
        nonce=request.get("nonce"),
        access_token=flow.access_token,
        claims_request=claims_request,
    )
    if front:
        # OIDC Core §3.3.3.6: the token endpoint's ID token names the same iss and sub.
        for claim in ("iss", "sub"):
            t.check(front.get(claim) == flow.claims.get(claim),
                    f"{claim} differs between the authorization and token endpoint id_tokens")
    return _finish(t, env, flow, call_userinfo)


def _finish(t: ModuleRun, env: RunEnv, flow: Flow, call_userinfo: bool) -> Flow:
    if call_userinfo and flow.access_token:
        # requestProtectedResource: CallProtectedResource + EnsureHttpStatusCodeIs200
        response = userinfo(env, flow.access_token)
        t.check(
            response.status_code == 200,
            f"userinfo with the new access token answered HTTP {response.status_code}",
        )
        body = checks.json_body(response)
        flow.userinfo = body if isinstance(body, dict) else {}
    return flow
