"""The modules of ``oidcc-dynamic-certification-test-plan`` (OIDCCDynamicTestPlan:
server_metadata=discovery, client_registration=dynamic_client, response_type=code,
response_mode=default, client_auth_type=private_key_jwt).

Every module registers its own client at the OP's ``registration_endpoint``
(AbstractOIDCCDynamicRegistrationTest: OIDCCCreateDynamicClientRegistrationRequest,
CallDynamicRegistrationEndpoint, EnsureHttpStatusCodeIs201, EnsureContentTypeJson) with
a fresh RSA key of its own (``jwks``, or ``jwks_uri`` served by the runner's request
object server), authenticates at the token endpoint with ``private_key_jwt`` (RFC 7523,
OIDC Core §9), and deregisters the client at the end (UnregisterDynamicallyRegistered
Client, RFC 7592 §2.3). The browser signs in as the plan's test user.

Where this runner cannot do what the suite does, the module says so in a note or a
skip reason the suite also accepts.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from conformance import checks, config_op, flows
from conformance.framework import ClientCreds, Module, ModuleRun, RunEnv

DYNAMIC = "dynamic"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass
class DynClient:
    """A client this module registered, with its private key."""

    client_id: str
    key: RSAKey
    registration: dict[str, Any]
    jwks_name: str | None = None
    extra_keys: list[RSAKey] = field(default_factory=list)

    @property
    def creds(self) -> ClientCreds:
        return ClientCreds(self.client_id, "", "private_key_jwt")


def new_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"use": "sig", "alg": "RS256"}, auto_kid=True)


def _objects(env: RunEnv) -> dict[str, str]:
    """The request object server's table (to serve JSON documents at a stable name)."""
    server = getattr(env.publish, "__self__", None)
    objects = getattr(server, "_objects", None)
    if not isinstance(objects, dict):
        raise RuntimeError("no request object server to publish documents")
    return objects


def publish_json(env: RunEnv, doc: Any, name: str | None = None) -> tuple[str, str]:
    """Serve ``doc`` from the runner's HTTP server; returns (name, URL)."""
    if env.request_uri_base is None or env.publish is None:
        raise RuntimeError("no request object server to publish documents")
    name = name or secrets.token_urlsafe(16)
    _objects(env)[name] = json.dumps(doc)
    return name, f"{env.request_uri_base}{name}"


def need_registration(t: ModuleRun) -> str:
    """CheckServerConfiguration for a dynamic client: discovery names a registration
    endpoint (dcr requires discovery)."""
    t.step = "configure"
    checks.check_server_configuration(t, t.env)
    checks.check_jwks(t, t.env.jwks)
    endpoint = t.env.discovery.get("registration_endpoint")
    t.require(isinstance(endpoint, str), "the discovery document has no registration_endpoint")
    methods = t.env.discovery.get("token_endpoint_auth_methods_supported", [])
    t.require("private_key_jwt" in methods,
              f"private_key_jwt is not in token_endpoint_auth_methods_supported {methods}")
    t.step = ""
    return str(endpoint)


def registration_request(env: RunEnv, key: RSAKey, **extra: Any) -> dict[str, Any]:
    """OIDCCCreateDynamicClientRegistrationRequest for response_type=code and
    private_key_jwt: client_name, redirect_uris, response_types, grant_types, the
    public jwks (AddPublicJwksToDynamicRegistrationRequest) and the auth method."""
    request: dict[str, Any] = {
        "client_name": f"oidcc conformance {secrets.token_hex(3)}",
        "redirect_uris": [env.redirect_uri],
        "response_types": ["code"],
        "grant_types": ["authorization_code", "refresh_token"],
        "token_endpoint_auth_method": "private_key_jwt",
        "jwks": {"keys": [key.as_dict(private=False)]},
        "contacts": ["certification@oidf.example.com"],
    }
    request.update(extra)
    return {k: v for k, v in request.items() if v is not None}


def call_registration(t: ModuleRun, body: dict[str, Any]) -> httpx.Response:
    """CallDynamicRegistrationEndpoint."""
    endpoint = str(t.env.discovery.get("registration_endpoint"))
    return t.env.http.post(endpoint, json=body, headers={"Accept": "application/json"})


def register(t: ModuleRun, key: RSAKey | None = None, **extra: Any) -> DynClient:
    """configureDynamicClient: register, expect 201 JSON with a client_id."""
    need_registration(t)
    key = key or new_key()
    t.step = "registration"
    body = registration_request(t.env, key, **extra)
    response = call_registration(t, body)
    t.check(checks.content_type(response) == "application/json",
            f"EnsureContentTypeJson: {checks.content_type(response)!r}")
    t.require(response.status_code == 201,
              f"EnsureHttpStatusCodeIs201: HTTP {response.status_code} {response.text[:300]}")
    answer = checks.json_body(response)
    t.require(isinstance(answer, dict) and isinstance(answer.get("client_id"), str),
              "ExtractDynamicRegistrationResponse: no client_id")
    t.check("client_secret" not in answer,
            "a private_key_jwt client was given a client_secret")
    for name, value in body.items():
        if name not in ("jwks", "client_name"):
            t.warn_unless(answer.get(name) == value,
                          f"the registration response changed {name}: {answer.get(name)!r}")
    t.step = ""
    return DynClient(answer["client_id"], key, answer)


def unregister(t: ModuleRun, client: DynClient) -> None:
    """cleanup(): UnregisterDynamicallyRegisteredClient (RFC 7592 §2.3, 204)."""
    uri = client.registration.get("registration_client_uri")
    token = client.registration.get("registration_access_token")
    if not isinstance(uri, str) or not isinstance(token, str):
        t.note("the OP returned no registration_client_uri: the client stays registered")
        return
    t.step = "unregister"
    response = t.env.http.delete(uri, headers={"Authorization": f"Bearer {token}"})
    t.check(response.status_code == 204,
            f"deleting the client answered HTTP {response.status_code}")
    t.step = ""


@contextmanager
def registered(t: ModuleRun, key: RSAKey | None = None, **extra: Any) -> Iterator[DynClient]:
    client = register(t, key, **extra)
    try:
        yield client
    finally:
        unregister(t, client)


def client_assertion(env: RunEnv, client: DynClient, *, audience: str | None = None,
                     key: RSAKey | None = None) -> str:
    """CreateClientAuthenticationAssertionClaims + SignClientAuthenticationAssertion:
    iss = sub = client_id, aud = the token endpoint, a fresh jti, 60 s of life."""
    now = int(time.time())
    claims = {"iss": client.client_id, "sub": client.client_id,
              "aud": audience or env.endpoint("token_endpoint"),
              "jti": secrets.token_urlsafe(16), "iat": now, "exp": now + 60}
    signer = key or client.key
    return jwt.encode({"alg": "RS256", "kid": signer.kid}, claims, signer)


def token_request(env: RunEnv, client: DynClient, data: dict[str, str], *,
                  audience: str | None = None, key: RSAKey | None = None) -> httpx.Response:
    """CallTokenEndpoint with AddClientAssertionToTokenEndpointRequest."""
    form = dict(data, client_assertion_type=ASSERTION_TYPE,
                client_assertion=client_assertion(env, client, audience=audience, key=key))
    return env.http.post(env.endpoint("token_endpoint"), data=form,
                         headers={"Accept": "application/json"})


def code_flow(t: ModuleRun, client: DynClient, *, query: dict[str, str] | None = None,
              request: dict[str, str] | None = None, redirect_uri: str | None = None,
              audience: str | None = None, userinfo: bool = True,
              **extra: str) -> flows.Flow:
    """AbstractOIDCCServerTest's happy path for a dynamic private_key_jwt client;
    ``request`` is the logical request when ``query`` (a request object) differs."""
    env = t.env
    request = dict(request) if request else flows.auth_request(env, client.creds, **extra)
    if redirect_uri is not None:
        request["redirect_uri"] = redirect_uri
    with flows.browser(env) as agent:
        outcome = flows.send(t, env, agent, query or request)
    params = flows.expect_callback(t, env, outcome, request)
    flow = flows.Flow(request, outcome, params)
    response = token_request(env, client, {
        "grant_type": "authorization_code", "code": params["code"],
        "redirect_uri": request["redirect_uri"]}, audience=audience)
    flow.token = checks.check_token_success(t, response)
    flow.access_token = flow.token["access_token"]
    flow.refresh_token = flow.token.get("refresh_token")
    flow.id_token = flow.token.get("id_token", "")
    flow.claims = checks.check_id_token(t, env, client.client_id, flow.token.get("id_token"),
                                        nonce=request.get("nonce"),
                                        access_token=flow.access_token)
    if userinfo:
        body = checks.check_userinfo(t, flows.userinfo(env, flow.access_token),
                                     flow.claims.get("sub"))
        flow.userinfo = body
    return flow


# --- modules -------------------------------------------------------------------------


def server_test(t: ModuleRun) -> None:
    """oidcc-server (OIDCCServerTest, OP-Registration-Endpoint / -Dynamic / -jwks)."""
    with registered(t) as client:
        flow = code_flow(t, client)
    t.warn_unless("name" not in flow.claims, "the id_token contains name although not requested")


def idtoken_rs256(t: ModuleRun) -> None:
    """oidcc-idtoken-rs256 (OIDCCIdTokenRS256): registered id_token_signed_response_alg."""
    algs = t.env.discovery.get("id_token_signing_alg_values_supported", [])
    if "RS256" not in algs:
        t.skip("RS256 is not in id_token_signing_alg_values_supported")
    with registered(t, id_token_signed_response_alg="RS256") as client:
        flow = code_flow(t, client, userinfo=False)
    header, _ = checks.decode_id_token(t, flow.id_token)
    t.check(header.get("alg") == "RS256", f"EnsureIdTokenSignatureIsRS256: {header.get('alg')}")


def idtoken_unsigned(t: ModuleRun) -> None:
    """oidcc-idtoken-unsigned (OIDCCIdTokenUnsigned)."""
    algs = t.env.discovery.get("id_token_signing_alg_values_supported", [])
    if "none" not in algs:
        t.skip("id_token_signing_alg_values_supported does not list 'none' "
               "(acceptable for certification)")
    with registered(t, id_token_signed_response_alg="none") as client:
        flow = code_flow(t, client, userinfo=False)
    header, _ = checks.decode_id_token(t, flow.id_token)
    t.check(header.get("alg") == "none", f"the id_token alg is {header.get('alg')}")


def userinfo_rs256(t: ModuleRun) -> None:
    """oidcc-userinfo-rs256 (OIDCCUserInfoRS256): a signed userinfo response."""
    algs = t.env.discovery.get("userinfo_signing_alg_values_supported", [])
    if "RS256" not in algs:
        t.skip("RS256 is not in userinfo_signing_alg_values_supported")
    env = t.env
    with registered(t, userinfo_signed_response_alg="RS256") as client:
        flow = code_flow(t, client, userinfo=False)
        response = flows.userinfo(env, flow.access_token)
    t.require(response.status_code == 200, f"userinfo answered HTTP {response.status_code}")
    t.check(checks.content_type(response) == "application/jwt",
            f"EnsureContentTypeApplicationJwt: {checks.content_type(response)!r}")
    try:
        decoded = jwt.decode(response.text, KeySet.import_key_set(env.jwks),  # type: ignore[arg-type]
                             algorithms=["RS256"])
    except Exception as exc:  # noqa: BLE001 - any failure is the module's failure
        t.fail(f"ValidateUserInfoResponseSignature: {type(exc).__name__}")
    claims = dict(decoded.claims)
    t.check(decoded.header.get("alg") == "RS256", "the userinfo JWT is not RS256")
    t.check(claims.get("iss") == env.issuer, f"userinfo iss is {claims.get('iss')!r}")
    t.check(claims.get("aud") in (client.client_id, [client.client_id]),
            f"userinfo aud is {claims.get('aud')!r}")
    t.check(claims.get("sub") == flow.claims.get("sub"), "userinfo sub differs from the id_token")


def redirect_uri_missing(t: ModuleRun) -> None:
    """oidcc-ensure-redirect-uri-in-authorization-request: two registered redirect URIs,
    none in the request: an error page (OIDC Core §3.1.2.1 requires redirect_uri)."""
    env = t.env
    with registered(t, redirect_uris=[env.redirect_uri, env.redirect_uri + "2"]) as client:
        request = flows.auth_request(env, client.creds)
        del request["redirect_uri"]
        with flows.browser(env) as agent:
            outcome = flows.send(t, env, agent, request)
    flows.expect_error_page(t, outcome)


def redirect_uri_query_ok(t: ModuleRun) -> None:
    """oidcc-redirect-uri-query-ok: a redirect URI registered with a query is used as is."""
    uri = t.env.redirect_uri + "?foo=bar"
    with registered(t, redirect_uris=[uri]) as client:
        flow = code_flow(t, client, redirect_uri=uri, userinfo=False)
    t.check(flow.outcome.location.startswith(uri + "&") or "foo=bar" in flow.outcome.location,
            "the registered query was not kept in the callback")


def _expect_mismatch(t: ModuleRun, registered_uri: str, sent_uri: str) -> None:
    with registered(t, redirect_uris=[registered_uri]) as client:
        request = flows.auth_request(t.env, client.creds)
        request["redirect_uri"] = sent_uri
        with flows.browser(t.env) as agent:
            outcome = flows.send(t, t.env, agent, request)
    if outcome.kind != "page" and checks.same_url(outcome.location, sent_uri):
        t.fail("the OP redirected to a redirect_uri that does not match the registered one")
    flows.expect_error_page(t, outcome)


def redirect_uri_query_mismatch(t: ModuleRun) -> None:
    """oidcc-redirect-uri-query-mismatch: registered ``?foo=bar``, sent ``?foo=zot``."""
    _expect_mismatch(t, t.env.redirect_uri + "?foo=bar", t.env.redirect_uri + "?foo=zot")


def redirect_uri_query_added(t: ModuleRun) -> None:
    """oidcc-redirect-uri-query-added: registered without a query, sent with one."""
    _expect_mismatch(t, t.env.redirect_uri, t.env.redirect_uri + "?foo=bar")


def redirect_uri_regfrag(t: ModuleRun) -> None:
    """oidcc-redirect-uri-regfrag: a redirect URI with a fragment must be refused
    (CheckErrorFromDynamicRegistrationEndpointIsInvalidRequestOrInvalidConfiguration
    ParameterOrInvalidRedirectUri)."""
    need_registration(t)
    body = registration_request(t.env, new_key(),
                                redirect_uris=[t.env.redirect_uri + "#fragment"])
    response = call_registration(t, body)
    t.require(response.status_code == 400,
              f"CallDynamicRegistrationEndpointExpectingError: HTTP {response.status_code}")
    error = (checks.json_body(response) or {}).get("error")
    t.check(error in ("invalid_request", "invalid_configuration_parameter",
                      "invalid_redirect_uri"), f"the error is {error!r}")


def discovery(t: ModuleRun) -> None:
    """oidcc-discovery-endpoint-verification (as in the Config OP plan)."""
    config_op.discovery_endpoint_verification(t)


def _registration_uri(t: ModuleRun, member: str) -> None:
    """OIDCCRegistrationLogoUri / PolicyUri / TosUri: register the member, sign in."""
    uri = f"{t.env.request_uri_base or 'https://rp.conformance.invalid/'}{member}"
    with registered(t, **{member: uri}) as client:
        t.check(client.registration.get(member) == uri,
                f"the registration response does not echo {member}")
        code_flow(t, client, userinfo=False)
    shown = ("Portico's consent page links it (https URLs only)" if member != "logo_uri"
             else "Portico's hosted pages do not display logos")
    t.note(f"the suite asks for a screenshot of the login or consent page showing {member}; "
           f"{shown}")


def registration_logo_uri(t: ModuleRun) -> None:
    """oidcc-registration-logo-uri (OIDCCRegistrationLogoUri)."""
    _registration_uri(t, "logo_uri")


def registration_policy_uri(t: ModuleRun) -> None:
    """oidcc-registration-policy-uri (OIDCCRegistrationPolicyUri)."""
    _registration_uri(t, "policy_uri")


def registration_tos_uri(t: ModuleRun) -> None:
    """oidcc-registration-tos-uri (OIDCCRegistrationTosUri)."""
    _registration_uri(t, "tos_uri")


def registration_jwks_uri(t: ModuleRun) -> None:
    """oidcc-registration-jwks-uri (OIDCCRegistrationJwksUri): keys by reference."""
    key = new_key()
    name, uri = publish_json(t.env, {"keys": [key.as_dict(private=False)]})
    with registered(t, key, jwks=None, jwks_uri=uri) as client:
        code_flow(t, client, userinfo=False)


def _pairwise_or_skip(t: ModuleRun) -> None:
    if "pairwise" not in t.env.discovery.get("subject_types_supported", []):
        t.skip("Server configuration does not explicitly support pairwise subject type")


def registration_sector_uri(t: ModuleRun) -> None:
    """oidcc-registration-sector-uri (OIDCCRegistrationSectorUri)."""
    _pairwise_or_skip(t)
    _, sector = publish_json(t.env, [t.env.redirect_uri, "https://rp.conformance.invalid/x"])
    with registered(t, subject_type="pairwise", sector_identifier_uri=sector):
        pass


def registration_sector_bad(t: ModuleRun) -> None:
    """oidcc-registration-sector-bad (OIDCCRegistrationSectorBad): the sector document
    does not list the redirect URI: 400, ideally invalid_client_metadata (OIDCR-5)."""
    _pairwise_or_skip(t)
    need_registration(t)
    _, sector = publish_json(t.env, ["https://rp.conformance.invalid/elsewhere"])
    body = registration_request(t.env, new_key(), subject_type="pairwise",
                                sector_identifier_uri=sector)
    response = call_registration(t, body)
    t.check(checks.content_type(response) == "application/json", "EnsureContentTypeJson")
    t.require(response.status_code == 400, f"EnsureHttpStatusCodeIs400: {response.status_code}")
    error = (checks.json_body(response) or {}).get("error")
    t.warn_unless(error == "invalid_client_metadata",
                  f"CheckErrorFromDynamicRegistrationEndpointIsInvalidClientMetadata: {error!r}")


def server_rotate_keys(t: ModuleRun) -> None:
    """oidcc-server-rotate-keys (OIDCCServerRotateKeys)."""
    t.skip("the suite asks the tester to rotate the OP's signing keys by hand between two "
           "logins; run `portico keys rotate` and the suite's module for it")


def refresh_token_rp_key_rotation(t: ModuleRun) -> None:
    """oidcc-refresh-token-rp-key-rotation (OIDCCRefreshTokenRPKeyRotation): the RP
    replaces the key at its jwks_uri; a refresh signed with the new key must work."""
    env = t.env
    key = new_key()
    name, uri = publish_json(env, {"keys": [key.as_dict(private=False)]})
    with registered(t, key, jwks=None, jwks_uri=uri) as client:
        flow = code_flow(t, client, scope="openid offline_access", prompt="consent",
                         userinfo=False)
        if not flow.refresh_token:
            t.skip("no refresh token was issued")
        fresh = new_key()
        publish_json(env, {"keys": [fresh.as_dict(private=False)]}, name)
        response = token_request(env, client, {"grant_type": "refresh_token",
                                               "refresh_token": flow.refresh_token}, key=fresh)
        checks.check_token_success(t, response)


def _request_uri(t: ModuleRun, *, signed: bool) -> None:
    env = t.env
    if env.publish is None or env.request_uri_base is None:
        t.skip("no request_uri server (--no-request-uri-server)")
    if not env.discovery.get("request_uri_parameter_supported", True):
        t.skip("request_uri_parameter_supported is false")
    extra: dict[str, Any] = {"request_uris": [env.request_uri_base]}
    if signed:
        extra["request_object_signing_alg"] = "RS256"
    with registered(t, **extra) as client:
        request = flows.auth_request(env, client.creds)
        claims = dict(request, iss=client.client_id, aud=env.issuer)
        if signed:
            obj = jwt.encode({"alg": "RS256", "kid": client.key.kid}, claims, client.key)
        else:
            obj = flows.unsigned_request_object(claims)
        query = flows.request_object_query(request, "request_uri", env.publish(obj))
        code_flow(t, client, query=query, request=request, userinfo=False)


def request_uri_unsigned(t: ModuleRun) -> None:
    """oidcc-request-uri-unsigned (OIDCCRequestUriUnsigned, dynamic)."""
    if "none" not in t.env.discovery.get("request_object_signing_alg_values_supported", []):
        t.skip("'none' is not in request_object_signing_alg_values_supported")
    _request_uri(t, signed=False)


def request_uri_signed_rs256(t: ModuleRun) -> None:
    """oidcc-request-uri-signed-rs256 (OIDCCRequestUriSignedRS256)."""
    if "RS256" not in t.env.discovery.get("request_object_signing_alg_values_supported", []):
        t.skip("RS256 is not in request_object_signing_alg_values_supported")
    _request_uri(t, signed=True)


def request_object_with_redirect_uri(t: ModuleRun) -> None:
    """oidcc-ensure-request-object-with-redirect-uri: the redirect_uri inside the
    (unsigned) request object wins over the query's (OIDC Core §6.3.3)."""
    env = t.env
    if "none" not in env.discovery.get("request_object_signing_alg_values_supported", []):
        t.skip("'none' is not in request_object_signing_alg_values_supported")
    second = env.redirect_uri + "2"
    with registered(t, redirect_uris=[env.redirect_uri, second]) as client:
        request = flows.auth_request(env, client.creds)
        request["redirect_uri"] = second
        obj = flows.unsigned_request_object(request)
        query = flows.request_object_query(request, "request", obj,
                                           {"redirect_uri": env.redirect_uri})
        code_flow(t, client, query=query, request=request, userinfo=False)


def refresh_token(t: ModuleRun) -> None:
    """oidcc-refresh-token (OIDCCRefreshToken) with private_key_jwt."""
    env = t.env
    with registered(t) as client:
        flow = code_flow(t, client, scope="openid offline_access", prompt="consent",
                         userinfo=False)
        if not flow.refresh_token:
            t.skip("no refresh token was issued")
        checks.check_refresh_token_value(t, flow.refresh_token)
        response = token_request(env, client, {"grant_type": "refresh_token",
                                               "refresh_token": flow.refresh_token})
        refreshed = checks.check_token_success(t, response)
        if refreshed.get("id_token"):
            claims = checks.check_id_token(t, env, client.client_id, refreshed["id_token"],
                                           nonce=None, check_nonce=False)
            t.check(claims.get("sub") == flow.claims.get("sub"),
                    "the refreshed id_token has another sub")
        reused = token_request(env, client, {"grant_type": "refresh_token",
                                             "refresh_token": flow.refresh_token})
        t.warn_unless(reused.status_code == 400, "a rotated refresh token was accepted again")


def client_assertion_iss_aud(t: ModuleRun) -> None:
    """oidcc-ensure-client-assertion-with-iss-aud-succeeds: ``aud`` = the issuer (OIDC
    Core §9 allows it); only a warning in the suite when refused."""
    with registered(t) as client:
        env = t.env
        request = flows.auth_request(env, client.creds)
        with flows.browser(env) as agent:
            outcome = flows.send(t, env, agent, request)
        params = flows.expect_callback(t, env, outcome, request)
        response = token_request(env, client, {
            "grant_type": "authorization_code", "code": params["code"],
            "redirect_uri": request["redirect_uri"]}, audience=env.issuer)
    t.warn_unless(response.status_code == 200,
                  f"an assertion with aud=issuer was refused (HTTP {response.status_code})")


MODULES = [
    Module("oidcc-idtoken-rs256", DYNAMIC, idtoken_rs256),
    Module("oidcc-idtoken-unsigned", DYNAMIC, idtoken_unsigned),
    Module("oidcc-userinfo-rs256", DYNAMIC, userinfo_rs256),
    Module("oidcc-ensure-redirect-uri-in-authorization-request", DYNAMIC, redirect_uri_missing),
    Module("oidcc-redirect-uri-query-ok", DYNAMIC, redirect_uri_query_ok),
    Module("oidcc-redirect-uri-query-mismatch", DYNAMIC, redirect_uri_query_mismatch),
    Module("oidcc-redirect-uri-query-added", DYNAMIC, redirect_uri_query_added),
    Module("oidcc-redirect-uri-regfrag", DYNAMIC, redirect_uri_regfrag),
    Module("oidcc-discovery-endpoint-verification", DYNAMIC, discovery),
    Module("oidcc-server", DYNAMIC, server_test),
    Module("oidcc-registration-logo-uri", DYNAMIC, registration_logo_uri),
    Module("oidcc-registration-policy-uri", DYNAMIC, registration_policy_uri),
    Module("oidcc-registration-tos-uri", DYNAMIC, registration_tos_uri),
    Module("oidcc-registration-jwks-uri", DYNAMIC, registration_jwks_uri),
    Module("oidcc-registration-sector-uri", DYNAMIC, registration_sector_uri),
    Module("oidcc-registration-sector-bad", DYNAMIC, registration_sector_bad),
    Module("oidcc-server-rotate-keys", DYNAMIC, server_rotate_keys),
    Module("oidcc-refresh-token-rp-key-rotation", DYNAMIC, refresh_token_rp_key_rotation),
    Module("oidcc-request-uri-unsigned", DYNAMIC, request_uri_unsigned),
    Module("oidcc-request-uri-signed-rs256", DYNAMIC, request_uri_signed_rs256),
    Module("oidcc-ensure-request-object-with-redirect-uri", DYNAMIC,
           request_object_with_redirect_uri),
    Module("oidcc-refresh-token", DYNAMIC, refresh_token),
    Module("oidcc-ensure-client-assertion-with-iss-aud-succeeds", DYNAMIC,
           client_assertion_iss_aud),
]
