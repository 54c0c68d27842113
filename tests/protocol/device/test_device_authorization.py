"""RFC 8628 §3.1–3.2: the device authorization endpoint."""

from __future__ import annotations

import hashlib
import re

from sqlalchemy import select
from tests.helpers import add_client, services_of
from tests.protocol.device.conftest import DEVICE_GRANT

from portico.storage.models import DeviceAuthorization

USER_CODE = re.compile(r"^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$")


async def test_a_public_client_gets_codes_a_verification_uri_and_the_polling_rules(world):
    response = await world.start()
    body = await response.get_json()

    assert response.status_code == 200, body
    assert set(body) == {"device_code", "user_code", "verification_uri",
                         "verification_uri_complete", "expires_in", "interval"}
    assert USER_CODE.match(body["user_code"])
    assert body["verification_uri"] == "http://127.0.0.1:8000/device"
    assert body["verification_uri_complete"] == (
        f"http://127.0.0.1:8000/device?user_code={body['user_code']}")
    assert body["expires_in"] == 600 and body["interval"] == 5
    assert len(body["device_code"]) >= 43
    assert response.headers["Cache-Control"] == "no-store"


async def test_the_device_code_is_stored_only_as_its_hash(world):
    body = await world.started()
    row = await world.row(body["user_code"])

    assert row.device_code_hash == hashlib.sha256(body["device_code"].encode()).hexdigest()
    stored = " ".join(str(getattr(row, c.key)) for c in DeviceAuthorization.__table__.columns)
    assert body["device_code"] not in stored
    assert row.status == "pending" and row.client_id == world.tv and row.interval == 5


async def test_user_codes_differ_between_requests(world):
    codes = {(await world.started())["user_code"] for _ in range(20)}
    assert len(codes) == 20


async def test_a_confidential_client_authenticates_as_at_the_token_endpoint(world):
    ok = await world.start(client_id=world.cli, headers=world.basic(world.cli, world.cli_secret))
    assert ok.status_code == 200, await ok.get_json()

    # RFC 6749 §5.2: 401 with a challenge when the client used the Authorization header.
    wrong = await world.start(client_id=world.cli, headers=world.basic(world.cli, "nope"))
    assert wrong.status_code == 401
    assert wrong.headers["WWW-Authenticate"].startswith("Basic ")
    assert (await wrong.get_json())["error"] == "invalid_client"

    # A confidential client cannot pass itself off as public by leaving the secret out.
    bare = await world.start(client_id=world.cli)
    assert bare.status_code in (400, 401)
    assert (await bare.get_json())["error"] == "invalid_client"


async def test_an_unknown_client_is_invalid_client(world):
    response = await world.start(client_id="no-such-client")
    assert response.status_code == 400  # no Authorization header: 401 is not required
    assert (await response.get_json())["error"] == "invalid_client"


async def test_a_client_without_the_device_grant_is_unauthorized_client(world):
    svc = services_of(world.app)
    web = await add_client(svc, auth_method="none")  # authorization_code + refresh_token
    response = await world.start(client_id=web.client.id)
    body = await response.get_json()
    assert response.status_code == 400
    assert body == {"error": "unauthorized_client",
                    "error_description": "The client is not allowed to use the device flow."}


async def test_scope_follows_the_authorize_rules(world):
    # Unknown scopes are ignored (OIDC Core §3.1.2.1); nothing usable left is invalid_scope.
    body = await world.started(scope="openid bogus profile")
    assert (await world.row(body["user_code"])).scope == "openid profile"

    for scope in ("bogus", "", None):
        response = await world.start(scope=scope)
        assert response.status_code == 400, scope
        assert (await response.get_json())["error"] == "invalid_scope"


async def test_offline_access_is_dropped_for_a_client_without_the_refresh_grant(world):
    auth = world.basic(world.cli, world.cli_secret)
    body = await world.started(client_id=world.cli, headers=auth)
    assert (await world.row(body["user_code"])).scope == "openid profile email"


async def test_a_repeated_parameter_is_invalid_request(world):
    response = await world.http.post(
        "/device_authorization", data=f"client_id={world.tv}&scope=openid&scope=profile",
        headers={"Content-Type": "application/x-www-form-urlencoded"})
    body = await response.get_json()
    assert response.status_code == 400
    assert body["error"] == "invalid_request" and "scope" in body["error_description"]


async def test_get_is_refused_in_json(world):
    response = await world.http.get("/device_authorization")
    assert response.status_code == 405
    assert (await response.get_json())["error"] == "invalid_request"


async def test_garbage_input_is_a_clean_4xx(world):
    for form in ({"client_id": "\x00"}, {"client_id": "x" * 5000}, {},
                 {"client_id": world.tv, "scope": "\x00openid"}):
        response = await world.http.post("/device_authorization", form=form)
        assert 400 <= response.status_code < 500, form
    # A long but harmless scope is just deduplicated.
    body = await world.started(scope="openid " * 500)
    assert (await world.row(body["user_code"])).scope == "openid"


async def test_rows_live_for_the_configured_time(world):
    body = await world.started()
    row = await world.row(body["user_code"])
    assert abs((row.expires_at - row.created_at).total_seconds() - 600) < 1
    async with services_of(world.app).db.session() as session:
        count = len((await session.execute(select(DeviceAuthorization))).scalars().all())
    assert count == 1
    assert DEVICE_GRANT


async def test_a_user_code_that_is_taken_is_drawn_again(world, monkeypatch):
    from portico.protocol.authlib_bridge import device

    first = await world.started()
    taken = first["user_code"].replace("-", "")
    draws = iter([taken, taken, "BCDFGHJK"])
    monkeypatch.setattr(device, "new_user_code", lambda: next(draws))

    second = await world.started()

    assert second["user_code"] == "BCDF-GHJK"
    assert (await world.row("BCDF-GHJK")).status == "pending"
    assert (await world.row(first["user_code"])).status == "pending"
