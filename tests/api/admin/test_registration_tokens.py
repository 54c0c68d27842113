"""``/api/v1/admin/registration-tokens``: initial access tokens per organization, the
token shown once, revocation effective at once, every change audited; and the new
client metadata in ``/api/v1/admin/clients``."""

from __future__ import annotations

import json

from sqlalchemy import select
from tests.api.admin.conftest import World
from tests.api.conftest import bearer, problem
from tests.helpers import REDIRECT, services_of
from tests.protocol.registration.conftest import configure, register

from portico.storage.models import AuditEvent, Client, InitialAccessToken

URL = "/api/v1/admin/registration-tokens"


async def test_an_org_admin_creates_lists_and_revokes_tokens(world: World):
    app = world.app
    configure(app, client_registration="token")
    response = await world.ann.post(URL, json={"description": "CI", "max_uses": 2,
                                               "expires_in": 3600})
    created = await response.get_json()
    assert response.status_code == 201, created
    assert created["token"].startswith("iat_") and created["organization_id"] == world.acme.id
    assert created["status"] == "active" and created["uses"] == 0

    status, reg = await register(app, {"redirect_uris": [REDIRECT]}, created["token"])
    assert status == 201, reg
    async with services_of(app).db.session() as session:
        client = await session.get(Client, reg["client_id"])
        assert client.org_id == world.acme.id
        row = await session.get(InitialAccessToken, created["id"])
        assert row.token_hash != created["token"] and row.uses == 1

    listing = await (await world.ann.get(URL)).get_json()
    assert [t["id"] for t in listing["items"]] == [created["id"]]
    assert "token" not in listing["items"][0]
    # bob administers globex only: acme's token is not his to see or revoke.
    assert (await (await world.bob.get(URL)).get_json())["items"] == []
    await problem(await world.bob.delete(f"{URL}/{created['id']}"), 404, "not-found")
    await problem(await world.bob.get(f"{URL}?organization={world.acme.slug}"), 403, "forbidden")
    await problem(await world.mia.post(URL, json={}), 403, "forbidden")  # a member

    response = await world.ann.delete(f"{URL}/{created['id']}")
    assert response.status_code == 204
    status, body = await register(app, {"redirect_uris": [REDIRECT]}, created["token"])
    assert (status, body["error"]) == (401, "invalid_token")
    listing = await (await world.ann.get(URL)).get_json()
    assert listing["items"][0]["status"] == "revoked"

    async with services_of(app).db.session() as session:
        events = list((await session.execute(select(AuditEvent).where(
            AuditEvent.action.like("registration_token.%")))).scalars())
    assert [e.action for e in events] == ["registration_token.created",
                                          "registration_token.revoked"]
    assert created["token"] not in json.dumps([e.details for e in events] +
                                              [e.target for e in events])


async def test_token_input_is_checked(world: World):
    for body, field in (({"max_uses": 0}, "max_uses"), ({"expires_in": 5}, "expires_in"),
                        ({"surprise": 1}, "surprise")):
        found = await problem(await world.root.post(URL, json=body), 400, "validation")
        assert field in json.dumps(found)
    await problem(await world.root.post(URL, json={"organization": "nope"}), 400, "validation")
    none = await (await world.root.post(URL, json={})).get_json()
    assert none["organization_id"] is None  # the superadmin's: clients of no organization


async def test_admin_clients_take_and_show_the_new_metadata(world: World):
    response = await world.ann.post("/api/v1/admin/clients", json={
        "name": "Photos", "redirect_uris": ["https://a.example/cb", "https://b.example/cb"],
        "subject_type": "pairwise", "sector_identifier_uri": "https://a.example/sector.json",
        "request_object_signing_alg": "RS256",
        "extra_metadata": {"logo_uri": "https://a.example/logo.png", "client_name#fr": "Photos"}})
    created = await response.get_json()
    assert response.status_code == 201, created
    assert created["subject_type"] == "pairwise" and not created["dynamically_registered"]
    assert created["extra_metadata"]["client_name#fr"] == "Photos"
    patched = await world.ann.client().patch(
        f"/api/v1/admin/clients/{created['client_id']}", headers=bearer(world.ann.access),
        json={"sector_identifier_uri": None})
    error = await problem(patched, 400, "validation")
    assert "sector_identifier_uri" in json.dumps(error)
    patched = await world.ann.client().patch(
        f"/api/v1/admin/clients/{created['client_id']}", headers=bearer(world.ann.access),
        json={"subject_type": "public", "sector_identifier_uri": None,
              "extra_metadata": {"bogus": 1}})
    await problem(patched, 400, "validation")
    status, reg = await register(world.app, {"redirect_uris": [REDIRECT]})
    assert status == 404  # registration is off by default
