"""Per-client protocol options through the admin API: JARM signing and encryption,
requiring PAR, DPoP-bound tokens and the token-exchange grant."""

from __future__ import annotations

from tests.api.admin.conftest import World
from tests.api.admin.test_clients import URL, WEB, create, patch
from tests.api.conftest import problem

OPTIONS = {
    "authorization_signed_response_alg": "ES256",
    "require_pushed_authorization_requests": True,
    "dpop_bound_access_tokens": True,
}


async def test_options_are_stored_shown_and_changed(world: World):
    created = await create(world.ann, {**WEB, **OPTIONS})
    assert {k: created[k] for k in OPTIONS} == OPTIONS
    shown = await (await world.ann.get(f"{URL}/{created['client_id']}")).get_json()
    assert {k: shown[k] for k in OPTIONS} == OPTIONS
    changed = await patch(world.ann, created["client_id"], {
        "require_pushed_authorization_requests": False,
        "authorization_signed_response_alg": None})
    body = await changed.get_json()
    assert changed.status_code == 200, body
    assert body["require_pushed_authorization_requests"] is False
    assert body["authorization_signed_response_alg"] is None
    assert body["dpop_bound_access_tokens"] is True


async def test_jarm_encryption_needs_the_clients_keys(world: World):
    answer = await problem(await world.ann.post(URL, json={
        **WEB, "authorization_encrypted_response_alg": "RSA-OAEP-256"}), 400, "validation")
    assert "authorization_encrypted_response_alg" in answer["errors"]
    await problem(await world.ann.post(URL, json={
        **WEB, "authorization_encrypted_response_enc": "A256GCM"}), 400, "validation")


async def test_the_token_exchange_grant_can_be_given(world: World):
    grant = "urn:ietf:params:oauth:grant-type:token-exchange"
    created = await create(world.ann, {**WEB, "grant_types": ["authorization_code", grant]})
    assert grant in created["grant_types"]
    refused = await patch(world.ann, created["client_id"], {"dpop_bound_access_tokens": None})
    assert refused.status_code == 400
