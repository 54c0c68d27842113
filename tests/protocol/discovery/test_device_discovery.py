"""Discovery advertises the device flow (RFC 8628 §4) from what is registered."""

from __future__ import annotations

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


async def test_both_documents_advertise_the_device_authorization_endpoint_and_grant(app):
    client = app.test_client()
    for path in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"):
        doc = await (await client.get(path)).get_json()
        assert doc["device_authorization_endpoint"] == "http://127.0.0.1:8000/device_authorization"
        assert DEVICE_GRANT in doc["grant_types_supported"]


async def test_the_advertised_endpoint_answers_in_oauth_json(app):
    client = app.test_client()
    doc = await (await client.get("/.well-known/openid-configuration")).get_json()
    path = doc["device_authorization_endpoint"].removeprefix("http://127.0.0.1:8000")
    response = await client.post(path, form={"client_id": "nobody"})
    assert response.status_code == 400
    assert (await response.get_json())["error"] == "invalid_client"


async def test_the_grant_is_advertised_because_the_server_registers_it(app):
    from tests.helpers import services_of

    server = services_of(app).bridge.server
    registered = [cls.GRANT_TYPE for cls, _ in server._token_grants]
    assert DEVICE_GRANT in registered
    assert "device_authorization" in server._endpoints
