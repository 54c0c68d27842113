"""The runner's conditions must bite: each is fed a response that breaks one rule and
must report it (a runner that passes everything proves nothing)."""

from __future__ import annotations

import base64
import contextlib
import json
import time

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from conformance import browser, checks, flows, framework

FAIL, PASS = framework.FAIL, framework.PASS
ClientCreds, Module, ModuleRun = framework.ClientCreds, framework.Module, framework.ModuleRun
RunEnv, execute, parse_forms = framework.RunEnv, framework.execute, browser.parse_forms

ISSUER = "https://op.example"
CLIENT = "client-1"


@pytest.fixture(scope="module")
def key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "k1", "use": "sig", "alg": "RS256"})


@pytest.fixture
def env(key: RSAKey):
    creds = ClientCreds(CLIENT, "secret", "client_secret_basic")
    with httpx.Client() as http:
        yield RunEnv(
            issuer=ISSUER,
            discovery_url=ISSUER + "/.well-known/openid-configuration",
            username="u",
            password="p",
            redirect_uri="https://rp.example/cb",
            client=creds,
            client2=creds,
            post_client=creds,
            http=http,
            discovery={
                "issuer": ISSUER,
                "id_token_signing_alg_values_supported": ["RS256"],
                "authorization_response_iss_parameter_supported": True,
            },
            jwks={"keys": [key.as_dict(private=False)]},
        )


def id_token(key: RSAKey, **overrides):
    now = int(time.time())
    claims = {"iss": ISSUER, "sub": "u1", "aud": CLIENT, "iat": now, "exp": now + 600, "nonce": "n"}
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode({"alg": "RS256", "kid": "k1"}, claims, key)


def failures_of(env: RunEnv, token: str, **kw) -> list[str]:
    t = ModuleRun("unit", env)
    kw.setdefault("nonce", "n")
    with contextlib.suppress(framework.Stop):  # a require() stop is fine here
        checks.check_id_token(t, env, CLIENT, token, **kw)
    return t.failures


def test_a_good_id_token_passes(env, key):
    assert failures_of(env, id_token(key)) == []


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"iss": "https://evil.example"}, "iss"),
        ({"aud": "someone-else"}, "aud"),
        ({"aud": ["x", CLIENT]}, "azp"),
        ({"azp": "someone-else"}, "azp"),
        ({"exp": int(time.time()) - 3600}, "expired"),
        ({"iat": int(time.time()) + 3600}, "future"),
        ({"iat": None}, "iat"),
        ({"sub": None}, "sub"),
        ({"nonce": "other"}, "nonce"),
        ({"email_verified": "yes"}, "email_verified"),
        ({"updated_at": "yesterday"}, "updated_at"),
        ({"auth_time": int(time.time()) + 3600}, "auth_time"),
    ],
)
def test_each_id_token_rule_bites(env, key, overrides, expected):
    found = failures_of(env, id_token(key, **overrides))
    assert any(expected in f for f in found), found


def test_a_tampered_signature_fails(env, key):
    header, payload, sig = id_token(key).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "someone-else"
    forged = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    assert any("signature" in f for f in failures_of(env, f"{header}.{forged}.{sig}"))


def test_an_unknown_kid_and_alg_none_fail(env, key):
    other = RSAKey.generate_key(2048, parameters={"kid": "k2"})
    token = jwt.encode({"alg": "RS256", "kid": "k2"}, {"iss": ISSUER}, other)
    assert any("kid" in f for f in failures_of(env, token))
    unsigned = flows.unsigned_request_object({"iss": ISSUER, "sub": "u", "aud": CLIENT})
    assert any("not signed" in f for f in failures_of(env, unsigned))


def test_nonce_must_be_absent_when_not_sent(env, key):
    assert any("nonce" in f for f in failures_of(env, id_token(key), nonce=None))
    assert failures_of(env, id_token(key, nonce=None), nonce=None) == []


def test_a_wrong_at_hash_fails(env, key):
    token = id_token(key, at_hash=checks.half_hash("other-token", "RS256"))
    assert any("at_hash" in f for f in failures_of(env, token, access_token="the-token"))
    token = id_token(key, at_hash=checks.half_hash("the-token", "RS256"))
    assert failures_of(env, token, access_token="the-token") == []


def test_error_responses_are_validated(env):
    t = ModuleRun("unit", env)
    checks.check_error_response(
        t, env, {"error": "login_required", "error_description": 'bad "quote"'}, "s1"
    )
    text = " ".join(t.failures)
    assert "state" in text and "iss" in text and "error_description" in text
    t = ModuleRun("unit", env)
    checks.check_error_response(
        t, env, {"error": "login_required", "state": "s1", "iss": ISSUER}, "s1"
    )
    assert t.failures == []


def test_private_or_symmetric_keys_in_the_jwks_fail(env, key):
    t = ModuleRun("unit", env)
    checks.check_jwks(t, {"keys": [key.as_dict(private=True), {"kty": "oct", "k": "A" * 43}]})
    text = " ".join(t.failures)
    assert "private" in text and "symmetric" in text and "kid" in text


def test_weak_codes_fail(env):
    t = ModuleRun("unit", env)
    checks.check_code(t, "aaaaaaaaaaaaaaaaaaaaaaaa")
    assert any("entropy" in f for f in t.failures)


def test_userinfo_sub_must_match_the_id_token(env):
    t = ModuleRun("unit", env)
    response = httpx.Response(200, json={"sub": "other"})
    checks.check_userinfo(t, response, "u1")
    assert any("differs" in f for f in t.failures)


def test_the_module_verdicts(env):
    def bad(t):
        t.check(False, "broken")

    def warned(t):
        t.warn_unless(False, "meh")

    assert execute(Module("m", "basic", bad), env).status == FAIL
    result = execute(Module("m", "basic", warned), env)
    assert result.status == PASS and result.warnings == ["meh"]


def test_portico_login_and_consent_forms_are_recognised():
    login = (
        '<form method="post" action="/login"><input type="hidden" name="csrf_token" value="c">'
        '<input type="hidden" name="ticket" value="t"><input name="username">'
        '<input name="password" type="password"></form>'
    )
    (form,) = parse_forms(login)
    assert form.has_password and form.fields["csrf_token"] == "c" and form.fields["ticket"] == "t"
    consent = (
        '<form method="post" action="/consent"><input type="hidden" name="ticket" value="t">'
        '<button name="decision" value="deny">Deny</button>'
        '<button name="decision" value="approve">Allow</button></form>'
    )
    (form,) = parse_forms(consent)
    assert ("decision", "approve") in form.buttons
