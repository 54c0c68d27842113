"""Registering device clients: the admin API takes the grant type, and the registered
client runs the flow."""

from __future__ import annotations

from tests.api.admin.conftest import make_world
from tests.helpers import Browser
from tests.protocol.device.conftest import DEVICE_GRANT, DeviceWorld, sign_in


async def test_an_admin_registers_a_public_device_client_that_works(app):
    admins = await make_world(app)
    response = await admins.ann.post("/api/v1/admin/clients", json={
        "name": "Kiosk", "token_endpoint_auth_method": "none",
        "grant_types": [DEVICE_GRANT, "refresh_token"]})
    created = await response.get_json()
    assert response.status_code == 201, created
    assert created["grant_types"] == [DEVICE_GRANT, "refresh_token"]
    assert created["redirect_uris"] == []

    browser = Browser(app.test_client())
    await sign_in(browser, "mia")
    world = DeviceWorld(app, created["client_id"], "", "", browser, None)
    started = await world.started(scope="openid organization")
    await world.approved(started["user_code"])
    tokens = await (await world.poll(started["device_code"])).get_json()
    assert tokens["access_token"] and tokens["id_token"]


async def test_the_admin_api_refuses_unknown_grant_types(app):
    admins = await make_world(app)
    response = await admins.ann.post("/api/v1/admin/clients", json={
        "name": "Kiosk", "token_endpoint_auth_method": "none",
        "grant_types": ["urn:ietf:params:oauth:grant-type:device"]})
    assert response.status_code == 400
