"""JWT Secured Authorization Response Mode (OpenID JARM): the whole authorization
response, success or error, as one signed (optionally encrypted) JWT."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from joserfc import jwe, jwt
from joserfc.jwk import KeySet, RSAKey
from sqlalchemy import update
from tests.helpers import REDIRECT, add_client, query_of, services_of
from tests.protocol.conftest import RP

from portico.storage.models import Client

ISSUER = "http://127.0.0.1:8000"


async def verify(app: Any, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    jwks = await (await app.test_client().get("/jwks")).get_json()
    decoded = jwt.decode(token, KeySet.import_key_set(jwks))
    return dict(decoded.header), dict(decoded.claims)


async def set_client(app: Any, client_id: str, **values: Any) -> None:
    async with services_of(app).db.session() as session:
        await session.execute(update(Client).where(Client.id == client_id).values(**values))


async def test_query_jwt_puts_the_signed_response_in_the_query(rp: RP):
    done = await rp.browser.follow(await rp.browser.authorize(
        **rp.params(response_mode="query.jwt")))
    location = done.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    got = query_of(location)
    assert set(got) == {"response"}
    header, claims = await verify(rp.app, got["response"])
    assert header["alg"] == "RS256" and header["kid"]
    assert claims["iss"] == ISSUER and claims["aud"] == rp.client_id
    assert claims["state"] == "xyz" and isinstance(claims["code"], str)
    assert 0 < claims["exp"] - time.time() <= 120
    token = await rp.token({"grant_type": "authorization_code", "code": claims["code"],
                            "redirect_uri": REDIRECT, "code_verifier": rp.verifier})
    assert token.status_code == 200


async def test_jwt_means_query_jwt_for_code(rp: RP):
    done = await rp.browser.follow(await rp.browser.authorize(**rp.params(response_mode="jwt")))
    assert urlsplit(done.headers["Location"]).query.startswith("response=")


async def test_form_post_jwt_posts_only_the_response(rp: RP):
    done = await rp.browser.follow(await rp.browser.authorize(
        **rp.params(response_mode="form_post.jwt")))
    html = await done.get_data(as_text=True)
    assert done.status_code == 200 and f'action="{REDIRECT}"' in html
    assert 'name="response"' in html and 'name="code"' not in html


async def test_errors_after_the_redirect_uri_is_trusted_are_jwts_too(rp: RP):
    response = await rp.app.test_client().get("/authorize?" + urlencode(
        rp.params(response_mode="query.jwt", prompt="sometimes")))
    got = query_of(response.headers["Location"])
    _, claims = await verify(rp.app, got["response"])
    assert (claims["error"], claims["error_description"], claims["state"]) == (
        "invalid_request", "The prompt parameter has an unsupported value.", "xyz")
    assert "code" not in claims


async def test_an_unknown_client_still_gets_a_page(rp: RP):
    response = await rp.app.test_client().get("/authorize?" + urlencode(
        rp.params(response_mode="query.jwt", client_id="nobody")))
    assert response.status_code == 400 and "Location" not in response.headers


async def test_the_clients_registered_alg_signs_the_response(rp: RP):
    await set_client(rp.app, rp.client_id, authorization_signed_response_alg="ES256")
    done = await rp.browser.follow(await rp.browser.authorize(
        **rp.params(response_mode="query.jwt")))
    header, _ = await verify(rp.app, query_of(done.headers["Location"])["response"])
    assert header["alg"] == "ES256"


async def test_jwt_means_fragment_jwt_when_tokens_come_back(rp: RP):
    await set_client(rp.app, rp.client_id, response_types=["code", "id_token token"])
    done = await rp.browser.follow(await rp.browser.authorize(
        **rp.params(response_type="id_token token", response_mode="jwt")))
    location = done.headers["Location"]
    assert location.startswith(REDIRECT + "#response=")
    _, claims = await verify(rp.app, query_of(location)["response"])
    assert {"access_token", "id_token", "token_type"} <= set(claims)


async def test_query_jwt_cannot_carry_tokens_unencrypted(rp: RP):
    # JARM §2.3.1: the error goes by fragment.jwt instead.
    await set_client(rp.app, rp.client_id, response_types=["id_token token"])
    response = await rp.app.test_client().get("/authorize?" + urlencode(
        rp.params(response_type="id_token token", response_mode="query.jwt")))
    location = response.headers["Location"]
    assert location.startswith(REDIRECT + "#response=")
    _, claims = await verify(rp.app, query_of(location)["response"])
    assert claims["error"] == "invalid_request"


@pytest.mark.parametrize("mode", ["query.jwt", "fragment.jwt"])
async def test_a_client_with_an_encryption_key_gets_a_nested_jwe(rp: RP, mode: str):
    key = RSAKey.generate_key(2048, auto_kid=True)
    reg = await add_client(
        services_of(rp.app), name="JARM-E", first_party=True,
        jwks={"keys": [dict(key.as_dict(private=False), use="enc")]},
        metadata={"response_types": ["code", "code id_token"]},
    )
    await set_client(rp.app, reg.client.id, authorization_encrypted_response_alg="RSA-OAEP-256",
                     authorization_encrypted_response_enc="A128CBC-HS256")
    rp.client_id = reg.client.id
    done = await rp.browser.follow(await rp.browser.authorize(
        **rp.params(response_type="code id_token", response_mode=mode)))
    sealed = query_of(done.headers["Location"])["response"]
    assert sealed.count(".") == 4  # compact JWE
    inner = jwe.decrypt_compact(sealed, key, algorithms=["RSA-OAEP-256", "A128CBC-HS256"])
    assert inner.headers()["cty"] == "JWT"
    _, claims = await verify(rp.app, inner.plaintext.decode())
    assert claims["aud"] == reg.client.id and {"code", "id_token"} <= set(claims)


async def test_discovery_lists_the_jarm_modes_and_algorithms(app):
    doc = await (await app.test_client().get("/.well-known/openid-configuration")).get_json()
    assert {"query.jwt", "fragment.jwt", "form_post.jwt", "jwt"} <= set(
        doc["response_modes_supported"])
    assert "RS256" in doc["authorization_signing_alg_values_supported"]
    assert "RSA-OAEP-256" in doc["authorization_encryption_alg_values_supported"]
    assert "A128CBC-HS256" in doc["authorization_encryption_enc_values_supported"]
