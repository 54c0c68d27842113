"""Logout metadata of clients through the admin API: back-channel and front-channel
logout URIs and their ``*_session_required`` flags, checked as the rest of a client."""

from __future__ import annotations

from tests.api.admin.conftest import World
from tests.api.admin.test_clients import URL, WEB, create, patch
from tests.api.conftest import problem

LOGOUT = {
    "backchannel_logout_uri": "https://rp.example/backchannel",
    "backchannel_logout_session_required": True,
    "frontchannel_logout_uri": "https://rp.example/frontchannel",
    "frontchannel_logout_session_required": True,
}


async def test_logout_uris_are_stored_shown_and_cleared(world: World):
    created = await create(world.ann, {**WEB, **LOGOUT})
    assert {k: created[k] for k in LOGOUT} == LOGOUT
    shown = await (await world.ann.get(f"{URL}/{created['client_id']}")).get_json()
    assert {k: shown[k] for k in LOGOUT} == LOGOUT

    cleared = await patch(world.ann, created["client_id"], {
        "backchannel_logout_uri": None, "frontchannel_logout_session_required": False})
    body = await cleared.get_json()
    assert cleared.status_code == 200, body
    assert body["backchannel_logout_uri"] is None
    assert body["frontchannel_logout_session_required"] is False
    assert body["frontchannel_logout_uri"] == LOGOUT["frontchannel_logout_uri"]


async def test_a_frontchannel_uri_must_share_a_redirect_uris_origin(world: World):
    answer = await problem(await world.ann.post(URL, json={
        **WEB, "frontchannel_logout_uri": "https://elsewhere.example/fc"}), 400, "validation")
    assert "frontchannel_logout_uri" in answer["errors"]
    created = await create(world.ann)
    refused = await patch(world.ann, created["client_id"], {
        "redirect_uris": ["https://moved.example/cb"],
        "frontchannel_logout_uri": "https://rp.example/fc"})
    assert (await problem(refused, 400, "validation"))["errors"].keys() == {
        "frontchannel_logout_uri"}


async def test_session_required_cannot_be_null(world: World):
    created = await create(world.ann)
    answer = await problem(await patch(world.ann, created["client_id"], {
        "backchannel_logout_session_required": None}), 400, "validation")
    assert "backchannel_logout_session_required" in str(answer)
