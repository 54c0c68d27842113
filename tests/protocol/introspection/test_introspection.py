"""RFC 7662 introspection, authoritative because every token has a record."""

from __future__ import annotations

from tests.helpers import add_client, services_of


async def test_an_active_access_token_is_described(rp):
    tokens = await rp.tokens(scope="openid email")
    response = await rp.app.test_client().post(
        "/introspect", form={"token": tokens["access_token"]}, headers=rp.basic()
    )
    body = await response.get_json()
    assert body["active"] is True and body["client_id"] == rp.client_id
    assert body["scope"] == "openid email" and body["username"] == "alice"


async def test_a_refresh_token_is_described(rp):
    tokens = await rp.tokens(scope="openid offline_access")
    body = await (
        await rp.app.test_client().post(
            "/introspect",
            form={"token": tokens["refresh_token"], "token_type_hint": "refresh_token"},
            headers=rp.basic(),
        )
    ).get_json()
    assert body["active"] is True and body["token_type"] == "refresh_token"


async def test_another_clients_token_is_inactive(rp):
    other = await add_client(services_of(rp.app), name="Other")
    tokens = await rp.tokens()
    body = await (
        await rp.app.test_client().post(
            "/introspect",
            form={"token": tokens["access_token"]},
            headers=rp.basic(other.client.id, other.secret),
        )
    ).get_json()
    assert body == {"active": False}


async def test_garbage_is_inactive(rp):
    body = await (
        await rp.app.test_client().post(
            "/introspect", form={"token": "garbage"}, headers=rp.basic()
        )
    ).get_json()
    assert body == {"active": False}


async def test_introspection_requires_client_authentication(rp):
    response = await rp.app.test_client().post("/introspect", form={"token": "x"})
    assert response.status_code in (400, 401)
    assert (await response.get_json())["error"] == "invalid_client"
