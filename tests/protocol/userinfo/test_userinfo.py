"""UserInfo: header or body bearer, scope-driven claims, signed responses, revocation."""

from __future__ import annotations

from joserfc import jwt
from joserfc.jwk import KeySet
from tests.helpers import add_client, services_of


async def test_userinfo_by_header_returns_scope_claims(rp):
    tokens = await rp.tokens(scope="openid email")
    response = await rp.app.test_client().get(
        "/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    body = await response.get_json()
    assert body["email"] == "alice@example.org" and body["email_verified"] is True
    assert "name" not in body and body["sub"]


async def test_userinfo_by_form_body(rp):
    tokens = await rp.tokens(scope="openid profile")
    response = await rp.app.test_client().post(
        "/userinfo", form={"access_token": tokens["access_token"]}
    )
    assert (await response.get_json())["name"] == "Alice Liddell"


async def test_a_token_in_header_and_body_is_invalid_request(rp):
    tokens = await rp.tokens()
    response = await rp.app.test_client().post(
        "/userinfo",
        form={"access_token": tokens["access_token"]},
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    assert response.status_code == 400
    assert (await response.get_json())["error"] == "invalid_request"


async def test_no_token_is_401_with_a_bearer_challenge(rp):
    response = await rp.app.test_client().get("/userinfo")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


async def test_a_forged_token_is_invalid_token(rp):
    response = await rp.app.test_client().get(
        "/userinfo", headers={"Authorization": "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."}
    )
    assert response.status_code == 401
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


async def test_an_id_token_is_not_an_access_token(rp):
    tokens = await rp.tokens()
    response = await rp.app.test_client().get(
        "/userinfo", headers={"Authorization": f"Bearer {tokens['id_token']}"}
    )
    assert response.status_code == 401


async def test_claims_parameter_targets_userinfo(rp):
    tokens = await rp.tokens(scope="openid", claims='{"userinfo": {"preferred_username": null}}')
    body = await (
        await rp.app.test_client().get(
            "/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
        )
    ).get_json()
    assert body["preferred_username"] == "alice"


async def test_signed_userinfo_for_clients_that_registered_for_it(rp):
    reg = await add_client(services_of(rp.app), name="JWT", userinfo_alg="ES256", first_party=True)
    rp.client_id, rp.secret = reg.client.id, reg.secret
    tokens = await rp.tokens(scope="openid email")
    response = await rp.app.test_client().get(
        "/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert response.content_type == "application/jwt"
    keys = KeySet.import_key_set(await (await rp.app.test_client().get("/jwks")).get_json())
    claims = jwt.decode(await response.get_data(as_text=True), keys).claims
    assert claims["aud"] == reg.client.id and claims["email"] == "alice@example.org"
