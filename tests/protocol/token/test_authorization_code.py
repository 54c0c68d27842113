"""The authorization_code grant: single use, bound to client and redirect URI."""

from __future__ import annotations

import asyncio

from joserfc import jwt
from joserfc.jwk import KeySet
from tests.helpers import REDIRECT, add_client, jwt_claims, services_of


def _form(rp, code, **extra):
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": rp.verifier,
    }
    form.update(extra)
    return form


async def test_tokens_verify_against_the_jwks(rp):
    tokens = await rp.tokens(scope="openid profile email")
    jwks = await (await rp.app.test_client().get("/jwks")).get_json()
    keyset = KeySet.import_key_set(jwks)
    id_token = jwt.decode(tokens["id_token"], keyset)
    assert id_token.header["alg"] == "RS256"
    claims = id_token.claims
    assert claims["iss"] == "http://127.0.0.1:8000" and claims["aud"] == rp.client_id
    assert claims["azp"] == rp.client_id and claims["nonce"] == "n-0S6"
    assert claims["email"] == "alice@example.org" and claims["name"] == "Alice Liddell"
    assert {"at_hash", "sid", "auth_time", "amr", "exp", "iat"} <= set(claims)
    access = jwt.decode(tokens["access_token"], keyset)
    assert access.header["typ"] == "at+jwt"
    assert {"jti", "client_id", "scope", "sub", "exp", "iss", "aud"} <= set(access.claims)
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 900


async def test_token_responses_are_not_cached(rp):
    code = await rp.code()
    response = await rp.token(_form(rp, code))
    assert response.headers["Cache-Control"] == "no-store"


async def test_a_replayed_code_fails_and_revokes_the_first_tokens(rp):
    code = await rp.code()
    first = await (await rp.token(_form(rp, code))).get_json()
    replay = await rp.token(_form(rp, code))
    assert replay.status_code == 400
    assert (await replay.get_json())["error"] == "invalid_grant"
    userinfo = await rp.app.test_client().get(
        "/userinfo", headers={"Authorization": f"Bearer {first['access_token']}"}
    )
    assert userinfo.status_code == 401


async def test_concurrent_redemptions_of_one_code_yield_one_success(rp):
    code = await rp.code()
    responses = await asyncio.gather(*(rp.token(_form(rp, code)) for _ in range(6)))
    assert sorted(r.status_code for r in responses) == [200] + [400] * 5


async def test_a_code_is_bound_to_its_redirect_uri(rp):
    code = await rp.code()
    response = await rp.token(_form(rp, code, redirect_uri="https://rp.example/other"))
    assert (await response.get_json())["error"] == "invalid_grant"


async def test_a_code_is_bound_to_its_client(rp):
    other = await add_client(services_of(rp.app), name="Other")
    code = await rp.code()
    response = await rp.token(_form(rp, code), headers=rp.basic(other.client.id, other.secret))
    assert (await response.get_json())["error"] == "invalid_grant"


async def test_an_unknown_code_is_invalid_grant(rp):
    response = await rp.token(_form(rp, "not-a-code"))
    assert (await response.get_json())["error"] == "invalid_grant"


async def test_a_wrong_secret_is_invalid_client_with_401(rp):
    code = await rp.code()
    response = await rp.token(_form(rp, code), headers=rp.basic(secret="wrong"))
    assert response.status_code == 401
    assert (await response.get_json())["error"] == "invalid_client"


async def test_missing_client_authentication_is_invalid_client(rp):
    code = await rp.code()
    response = await rp.token(_form(rp, code), headers={})
    assert response.status_code in (400, 401)
    assert (await response.get_json())["error"] == "invalid_client"


async def test_an_unknown_grant_type_is_unsupported(rp):
    response = await rp.token({"grant_type": "password", "username": "a", "password": "b"})
    assert (await response.get_json())["error"] == "unsupported_grant_type"


async def test_a_repeated_parameter_is_invalid_request(rp):
    response = await rp.app.test_client().post(
        "/token",
        data="grant_type=authorization_code&code=a&code=b",
        headers={**rp.basic(), "Content-Type": "application/x-www-form-urlencoded"},
    )
    body = await response.get_json()
    assert body == {
        "error": "invalid_request",
        "error_description": "The code parameter was included more than once.",
    }


async def test_get_on_the_token_endpoint_is_refused_cleanly(rp):
    response = await rp.app.test_client().get("/token")
    assert response.status_code == 405
    assert (await response.get_json())["error"] == "invalid_request"


async def test_es256_and_eddsa_id_tokens_for_clients_that_chose_them(rp):
    svc = services_of(rp.app)
    jwks = KeySet.import_key_set(await (await rp.app.test_client().get("/jwks")).get_json())
    for alg in ("ES256", "EdDSA"):
        reg = await add_client(svc, name=alg, id_token_alg=alg, first_party=True)
        rp.client_id, rp.secret = reg.client.id, reg.secret
        tokens = await rp.tokens()
        decoded = jwt.decode(tokens["id_token"], jwks, algorithms=[alg])
        assert decoded.header["alg"] == alg
        assert jwt_claims(tokens["id_token"])["aud"] == reg.client.id


async def test_claims_parameter_adds_requested_claims(rp):
    tokens = await rp.tokens(
        scope="openid", claims='{"id_token": {"email": {"essential": true}, "acr": null}}'
    )
    claims = jwt_claims(tokens["id_token"])
    assert claims["email"] == "alice@example.org" and "acr" in claims
    assert "name" not in claims


async def test_client_secret_post_clients_authenticate_in_the_body(rp):
    reg = await add_client(
        services_of(rp.app), name="Post", auth_method="client_secret_post", first_party=True
    )
    rp.client_id = reg.client.id
    code = await rp.code()
    response = await rp.token(
        _form(rp, code, client_id=reg.client.id, client_secret=reg.secret), headers={}
    )
    assert response.status_code == 200


async def test_public_clients_redeem_with_pkce_and_no_secret(rp):
    reg = await add_client(services_of(rp.app), name="SPA", auth_method="none", first_party=True)
    rp.client_id = reg.client.id
    code = await rp.code()
    response = await rp.token(_form(rp, code, client_id=reg.client.id), headers={})
    assert response.status_code == 200, await response.get_json()
