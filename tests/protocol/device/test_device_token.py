"""RFC 8628 §3.4–3.5: polling the token endpoint with a device code."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from tests.helpers import REDIRECT, jwt_claims, pkce, query_of, services_of

from portico.storage.models.base import utcnow


async def error_of(response) -> tuple[int, str]:
    body = await response.get_json()
    assert response.headers["Cache-Control"] == "no-store"
    return response.status_code, body["error"]


async def test_polling_before_the_person_decides_is_authorization_pending(world):
    started = await world.started()
    assert await error_of(await world.poll(started["device_code"])) == (
        400, "authorization_pending")
    await world.waited(started["user_code"], 5)
    assert await error_of(await world.poll(started["device_code"])) == (
        400, "authorization_pending")


async def test_polling_too_fast_is_slow_down_and_adds_five_seconds_each_time(world):
    started = await world.started()
    code, user_code = started["device_code"], started["user_code"]
    assert (await error_of(await world.poll(code)))[1] == "authorization_pending"

    response = await world.poll(code)
    assert await error_of(response) == (400, "slow_down")
    assert (await world.row(user_code)).interval == 10
    assert (await error_of(await world.poll(code)))[1] == "slow_down"
    assert (await world.row(user_code)).interval == 15

    # §3.5: the longer interval holds "for this and all subsequent requests".
    await world.waited(user_code, 10)
    assert (await error_of(await world.poll(code)))[1] == "slow_down"
    await world.waited(user_code, 20)
    assert (await error_of(await world.poll(code)))[1] == "authorization_pending"


async def test_a_denied_request_is_access_denied(world):
    started = await world.started()
    response = await world.decide(started["user_code"], "deny")
    assert response.headers["Location"] == "/device?done=denied"

    assert await error_of(await world.poll(started["device_code"])) == (400, "access_denied")
    await world.waited(started["user_code"], 5)
    assert (await error_of(await world.poll(started["device_code"])))[1] == "access_denied"


async def test_an_expired_device_code_is_expired_token(world):
    started = await world.started()
    await world.change(started["user_code"], expires_at=utcnow() - timedelta(seconds=1))
    assert await error_of(await world.poll(started["device_code"])) == (400, "expired_token")


async def test_an_approval_that_came_too_late_is_expired_token(world):
    started = await world.started()
    await world.approved(started["user_code"])
    await world.change(started["user_code"], expires_at=utcnow() - timedelta(seconds=1))
    assert (await error_of(await world.poll(started["device_code"])))[1] == "expired_token"


async def test_an_approved_request_gets_tokens_exactly_once(world):
    started = await world.started()
    await world.approved(started["user_code"])

    response = await world.poll(started["device_code"])
    body = await response.get_json()
    assert response.status_code == 200, body
    assert response.headers["Cache-Control"] == "no-store"
    assert body["token_type"] == "Bearer"
    assert body["scope"] == "openid profile email offline_access"
    assert body["refresh_token"]

    access = jwt_claims(body["access_token"])
    assert access["sub"] == world.user.id and access["client_id"] == world.tv
    claims = jwt_claims(body["id_token"])
    assert claims["aud"] == world.tv and claims["sub"] == world.user.id
    assert claims["iss"] == "http://127.0.0.1:8000"
    assert "nonce" not in claims and claims["at_hash"]
    assert claims["amr"] == ["pwd"] and claims["acr"]
    assert claims["name"] == "Alice Liddell" and claims["email"] == "alice@example.org"
    row = await world.row(started["user_code"])
    assert row.status == "issued" and claims["sid"] == row.session_id
    assert claims["auth_time"] == int(row.auth_time.timestamp())

    again = await world.poll(started["device_code"])
    assert await error_of(again) == (400, "invalid_grant")


async def test_concurrent_polls_after_approval_mint_one_set_of_tokens(world):
    started = await world.started()
    await world.approved(started["user_code"])

    answers = await asyncio.gather(*(world.poll(started["device_code"]) for _ in range(6)))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [200] + [400] * 5
    for answer in answers:
        if answer.status_code == 400:
            assert (await answer.get_json())["error"] == "invalid_grant"


async def test_another_clients_device_code_is_invalid_grant(world):
    started = await world.started()
    await world.approved(started["user_code"])
    response = await world.poll(started["device_code"], client_id=world.cli,
                                headers=world.basic(world.cli, world.cli_secret))
    body = await response.get_json()
    assert response.status_code == 400
    assert body == {"error": "invalid_grant",
                    "error_description": "Invalid 'device_code' in request."}
    # The stranger did not burn it: the rightful device still gets its tokens.
    assert (await world.poll(started["device_code"])).status_code == 200


async def test_missing_or_unknown_device_codes(world):
    missing = await world.http.post("/token", form={
        "grant_type": "urn:ietf:params:oauth:grant-type:device_code", "client_id": world.tv})
    assert await error_of(missing) == (400, "invalid_request")
    for code in ("nope", "x" * 500, "\x00"):
        response = await world.poll(code)
        assert response.status_code == 400
        assert (await response.get_json())["error"] in ("invalid_grant", "invalid_request")


async def test_a_client_without_the_device_grant_cannot_poll(world):
    from tests.helpers import add_client

    started = await world.started()
    web = await add_client(services_of(world.app), auth_method="none")
    response = await world.poll(started["device_code"], client_id=web.client.id)
    assert await error_of(response) == (400, "unauthorized_client")


async def test_a_confidential_client_must_authenticate_to_poll(world):
    started = await world.started(client_id=world.cli,
                                  headers=world.basic(world.cli, world.cli_secret))
    await world.approved(started["user_code"])
    bare = await world.poll(started["device_code"], client_id=world.cli)
    assert (await bare.get_json())["error"] == "invalid_client"
    ok = await world.poll(started["device_code"], client_id=world.cli,
                          headers=world.basic(world.cli, world.cli_secret))
    body = await ok.get_json()
    assert ok.status_code == 200, body
    assert "refresh_token" not in body  # the CLI has no refresh grant


async def test_a_device_refresh_token_rotates_like_any_other(world):
    started = await world.started()
    await world.approved(started["user_code"])
    tokens = await (await world.poll(started["device_code"])).get_json()
    response = await world.http.post("/token", form={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"],
        "client_id": world.tv})
    body = await response.get_json()
    assert response.status_code == 200, body
    assert body["refresh_token"] != tokens["refresh_token"]
    claims = jwt_claims(body["id_token"])
    assert claims["sub"] == world.user.id and claims["amr"] == ["pwd"]


async def test_tokens_from_a_device_code_are_introspectable_and_revocable(world):
    started = await world.started(client_id=world.cli,
                                  headers=world.basic(world.cli, world.cli_secret))
    await world.approved(started["user_code"])
    auth = world.basic(world.cli, world.cli_secret)
    tokens = await (await world.poll(started["device_code"], client_id=world.cli,
                                     headers=auth)).get_json()
    active = await (await world.http.post("/introspect", form={
        "token": tokens["access_token"]}, headers=auth)).get_json()
    assert active["active"] is True and active["sub"] == world.user.id
    await world.http.post("/revoke", form={"token": tokens["access_token"]}, headers=auth)
    gone = await (await world.http.post("/introspect", form={
        "token": tokens["access_token"]}, headers=auth)).get_json()
    assert gone == {"active": False}


async def test_approving_on_device_counts_as_consent_for_the_code_flow(world):
    from tests.helpers import add_client

    svc = services_of(world.app)
    both = await add_client(svc, name="Both flows", auth_method="none", grant_types=[
        "authorization_code", "urn:ietf:params:oauth:grant-type:device_code"])
    started = await world.started(client_id=both.client.id, scope="openid profile")
    await world.approved(started["user_code"])
    _, challenge = pkce()
    response = await world.browser.authorize(
        client_id=both.client.id, redirect_uri=REDIRECT, response_type="code",
        scope="openid profile", code_challenge=challenge, code_challenge_method="S256")
    location = response.headers["Location"]
    assert location.startswith(REDIRECT) and "code" in query_of(location), location


async def test_a_dpop_proof_binds_the_device_flows_tokens(world):
    """RFC 9449 applies to every grant at /token, the device code grant included."""
    from tests.protocol.dpop.conftest import DpopKey

    key = DpopKey()
    started = await world.started()
    await world.approved(started["user_code"])
    response = await world.poll(started["device_code"], client_id=world.tv,
                                headers={"DPoP": key.proof()})
    body = await response.get_json()
    assert response.status_code == 200, body
    assert body["token_type"] == "DPoP"
    assert jwt_claims(body["access_token"])["cnf"] == {"jkt": key.jkt}
