"""Discovery documents list exactly what is registered."""

from __future__ import annotations


async def test_openid_configuration_lists_every_endpoint_under_the_issuer(app):
    doc = await (await app.test_client().get("/.well-known/openid-configuration")).get_json()
    assert doc["issuer"] == "http://127.0.0.1:8000"
    for name in (
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "end_session_endpoint",
        "introspection_endpoint",
        "revocation_endpoint",
    ):
        assert doc[name].startswith("http://127.0.0.1:8000/")
    assert doc["grant_types_supported"] == [
        "authorization_code",
        "refresh_token",
        "client_credentials",
        "urn:ietf:params:oauth:grant-type:device_code",
    ]
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert set(doc["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
        "none",
    }
    assert doc["response_modes_supported"] == [
        "query", "fragment", "form_post", "query.jwt", "fragment.jwt", "form_post.jwt", "jwt"]
    assert {"RS256", "ES256", "EdDSA"} <= set(doc["id_token_signing_alg_values_supported"])
    assert doc["authorization_response_iss_parameter_supported"] is True


async def test_every_discovered_endpoint_is_routed(app):
    client = app.test_client()
    doc = await (await client.get("/.well-known/openid-configuration")).get_json()
    for name in (
        "authorization_endpoint",
        "token_endpoint",
        "userinfo_endpoint",
        "jwks_uri",
        "end_session_endpoint",
        "introspection_endpoint",
        "revocation_endpoint",
    ):
        path = doc[name].removeprefix("http://127.0.0.1:8000")
        response = await client.get(path)
        assert response.status_code != 404, name


async def test_oauth_metadata_omits_oidc_only_members(app):
    doc = await (await app.test_client().get("/.well-known/oauth-authorization-server")).get_json()
    assert doc["issuer"] == "http://127.0.0.1:8000"
    assert "userinfo_endpoint" not in doc and "token_endpoint" in doc


async def test_jwks_publishes_next_and_active_keys_without_private_parts(app):
    jwks = await (await app.test_client().get("/jwks")).get_json()
    assert len(jwks["keys"]) == 6
    for key in jwks["keys"]:
        assert "d" not in key and key["kid"]
