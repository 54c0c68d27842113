"""/setup and /register: the first admin, the registration policy, field errors,
conflicts, and rate limits (429 + Retry-After) on every unauthenticated route."""

from __future__ import annotations

import pytest
from tests.api.conftest import problem
from tests.helpers import PASSWORD, add_user, services_of

from portico.storage.repositories.users import Organizations, Users

NEW = {"username": "carol", "email": "Carol@Example.org", "password": PASSWORD}


async def roles_of(app, user_id):
    async with services_of(app).db.session() as session:
        return [(m.role, m.is_owner, o.slug)
                for m, o in await Organizations(session).memberships(user_id)]


async def test_setup_creates_the_first_admin_then_answers_409(app):
    client = app.test_client()
    response = await client.post("/api/v1/auth/setup", json=NEW)
    body = await response.get_json()
    assert response.status_code == 201, body
    assert body["username"] == "carol" and body["email"] == "carol@example.org"
    assert not {"password", "password_hash"} & set(body)
    assert await roles_of(app, body["id"]) == [("admin", True, "default")]
    again = await client.post("/api/v1/auth/setup",
                              json={**NEW, "username": "dave", "email": "dave@example.org"})
    await problem(again, 409, "conflict")


async def test_setup_refuses_a_weak_password_with_field_errors(app):
    response = await app.test_client().post("/api/v1/auth/setup",
                                            json={**NEW, "password": "short"})
    body = await problem(response, 400, "password-policy")
    assert "at least 8 characters" in body["errors"]["password"]
    async with services_of(app).db.session() as session:
        assert not await Users(session).admin_exists()


async def test_register_is_refused_in_invite_mode_the_default(app):
    response = await app.test_client().post("/api/v1/auth/register", json=NEW)
    body = await problem(response, 403, "forbidden")
    assert "invitation" in body["detail"]


async def test_register_is_refused_when_closed(make_app):
    async with make_app(registration="closed") as app:
        response = await app.test_client().post("/api/v1/auth/register", json=NEW)
        body = await problem(response, 403, "forbidden")
        assert "closed" in body["detail"]


async def test_open_registration_makes_a_member_of_the_default_org(make_app):
    async with make_app(registration="open") as app:
        response = await app.test_client().post("/api/v1/auth/register", json=NEW)
        body = await response.get_json()
        assert response.status_code == 201, body
        assert await roles_of(app, body["id"]) == [("member", False, "default")]
        login = await app.test_client().post(
            "/api/v1/auth/login", json={"username": "CAROL", "password": PASSWORD})
        assert login.status_code == 200


@pytest.mark.parametrize("change", [{"username": "Alice"}, {"email": "ALICE@example.org"}])
async def test_register_answers_409_for_a_taken_username_or_email(make_app, change):
    async with make_app(registration="open") as app:
        await add_user(services_of(app), "alice")
        response = await app.test_client().post("/api/v1/auth/register", json={**NEW, **change})
        body = await problem(response, 409, "conflict")
        assert set(body["errors"]) == set(change)


@pytest.mark.parametrize(("change", "kind", "field"), [
    ({"password": "alllowercase1"}, "password-policy", "password"),
    ({"email": "not-an-email"}, "validation", "email"),
    ({"username": "has space"}, "validation", "username"),
    ({"username": None}, "validation", "username"),
    ({"password": None}, "validation", "password"),
])
async def test_register_reports_bad_fields(make_app, change, kind, field):
    async with make_app(registration="open") as app:
        body = {k: v for k, v in {**NEW, **change}.items() if v is not None}
        response = await app.test_client().post("/api/v1/auth/register", json=body)
        problem_body = await problem(response, 400, kind)
        assert field in problem_body["errors"], problem_body


async def test_a_body_that_is_not_json_is_a_400_problem(make_app):
    async with make_app(registration="open") as app:
        response = await app.test_client().post("/api/v1/auth/register", data="username=x",
                                                headers={"Content-Type": "text/plain"})
        assert response.status_code == 400
        assert response.headers["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize(("path", "body"), [
    ("/api/v1/auth/setup", {"username": "x", "email": "x@example.org", "password": "weak"}),
    ("/api/v1/auth/register", NEW),
    ("/api/v1/auth/recover", {"recovery_key": "rk_nope", "new_password": PASSWORD}),
])
async def test_sensitive_routes_are_rate_limited(make_app, path, body):
    async with make_app(rate_limit_sensitive="2/minute") as app:
        client = app.test_client()
        for _ in range(2):
            assert (await client.post(path, json=body)).status_code != 429
        response = await client.post(path, json=body)
        assert response.status_code == 429
        assert response.headers["Content-Type"] == "application/problem+json"
        assert (await response.get_json())["status"] == 429
        assert int(response.headers["Retry-After"]) >= 1


async def test_login_is_rate_limited(make_app):
    async with make_app(rate_limit_login="3/minute") as app:
        client = app.test_client()
        wrong = {"username": "nobody", "password": "Wrong-pass-1"}
        for _ in range(3):
            assert (await client.post("/api/v1/auth/login", json=wrong)).status_code == 401
        response = await client.post("/api/v1/auth/login", json=wrong)
        assert response.status_code == 429
        assert int(response.headers["Retry-After"]) >= 1


async def test_refresh_is_rate_limited_like_the_token_endpoint(make_app):
    async with make_app(rate_limit_token="2/minute") as app:
        client = app.test_client()
        for _ in range(2):
            response = await client.post("/api/v1/auth/refresh", json={"refresh_token": "x"})
            assert response.status_code == 400
        response = await client.post("/api/v1/auth/refresh", json={"refresh_token": "x"})
        assert response.status_code == 429
        assert int(response.headers["Retry-After"]) >= 1
