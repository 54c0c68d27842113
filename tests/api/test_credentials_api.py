"""/sessions, /password, /recovery-key, /recover and /api-keys, and the forced
password change: every route, its failures, and the concurrency cases."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from tests.api.conftest import bearer, login, problem
from tests.helpers import PASSWORD, add_user, services_of

from portico.storage.models import ApiKey, User

ME = "/api/v1/auth/me"
NEW_PASSWORD = "Another-horse-2"


# --- sessions --------------------------------------------------------------------------


async def test_sessions_lists_own_sessions_and_marks_the_current_one(app, signed):
    other = await login(app)
    await add_user(services_of(app), "bob")
    await login(app, "bob")
    body = await (await signed.get("/api/v1/auth/sessions")).get_json()
    ids = {s["id"]: s["current"] for s in body["sessions"]}
    assert ids == {signed.session_id: True, other.session_id: False}
    assert all(s["via"] == "api" for s in body["sessions"])


async def test_revoking_a_session_ends_it_and_its_tokens(app, signed):
    other = await login(app)
    response = await signed.delete(f"/api/v1/auth/sessions/{other.session_id}")
    assert response.status_code == 204
    await problem(await other.get(ME), 401, "unauthorized")
    refresh = await other.client().post("/api/v1/auth/refresh",
                                        json={"refresh_token": other.refresh})
    await problem(refresh, 400, "invalid-grant")
    assert (await signed.get(ME)).status_code == 200
    again = await signed.delete(f"/api/v1/auth/sessions/{other.session_id}")
    await problem(again, 404, "not-found")


async def test_another_persons_session_is_404(app, signed):
    await add_user(services_of(app), "bob")
    bob = await login(app, "bob")
    await problem(await signed.delete(f"/api/v1/auth/sessions/{bob.session_id}"), 404,
                  "not-found")
    await problem(await signed.delete("/api/v1/auth/sessions/nope"), 404, "not-found")
    assert (await bob.get(ME)).status_code == 200


# --- password --------------------------------------------------------------------------


async def test_password_change_keeps_this_session_and_ends_the_others(app, signed):
    other = await login(app)
    response = await signed.post("/api/v1/auth/password", json={
        "current_password": PASSWORD, "new_password": NEW_PASSWORD})
    body = await response.get_json()
    assert response.status_code == 200, body
    assert body == {"other_sessions_revoked": 1}
    assert (await signed.get(ME)).status_code == 200
    await problem(await other.get(ME), 401, "unauthorized")
    await login(app, password=NEW_PASSWORD)


@pytest.mark.parametrize(("payload", "status", "kind", "field"), [
    ({"current_password": "Wrong-pass-1", "new_password": NEW_PASSWORD}, 401,
     "unauthorized", None),
    ({"current_password": PASSWORD, "new_password": "weak"}, 400, "password-policy",
     "password"),
    ({"current_password": PASSWORD, "new_password": PASSWORD}, 400, "validation",
     "new_password"),
    ({"current_password": PASSWORD}, 400, "validation", "new_password"),
])
async def test_password_change_failures(app, signed, payload, status, kind, field):
    body = await problem(await signed.post("/api/v1/auth/password", json=payload), status, kind)
    if field:
        assert field in body["errors"]
    await login(app)  # the old password still works


# --- recovery ------------------------------------------------------------------------


async def test_recovery_key_resets_a_lost_password(app, signed):
    response = await signed.post("/api/v1/auth/recovery-key")
    key = (await response.get_json())["recovery_key"]
    assert response.status_code == 201 and key.startswith("rk_")
    recovered = await app.test_client().post("/api/v1/auth/recover", json={
        "recovery_key": key, "new_password": NEW_PASSWORD})
    assert recovered.status_code == 200
    assert await recovered.get_json() == {"password_reset": True}
    await problem(await signed.get(ME), 401, "unauthorized")  # signed out everywhere
    await login(app, password=NEW_PASSWORD)
    twice = await app.test_client().post("/api/v1/auth/recover", json={
        "recovery_key": key, "new_password": "Third-horse-3"})
    await problem(twice, 401, "unauthorized")


async def test_a_new_recovery_key_replaces_the_old_one(app, signed):
    first = (await (await signed.post("/api/v1/auth/recovery-key")).get_json())["recovery_key"]
    await signed.post("/api/v1/auth/recovery-key")
    response = await app.test_client().post("/api/v1/auth/recover", json={
        "recovery_key": first, "new_password": NEW_PASSWORD})
    await problem(response, 401, "unauthorized")


async def test_recover_failures(app):
    client = app.test_client()
    bad = await client.post("/api/v1/auth/recover", json={
        "recovery_key": "rk_unknown", "new_password": NEW_PASSWORD})
    await problem(bad, 401, "unauthorized")
    weak = await client.post("/api/v1/auth/recover", json={
        "recovery_key": "rk_unknown", "new_password": "weak"})
    await problem(weak, 400, "password-policy")
    missing = await client.post("/api/v1/auth/recover", json={"new_password": NEW_PASSWORD})
    assert "recovery_key" in (await problem(missing, 400, "validation"))["errors"]


async def test_a_recovery_key_used_twice_at_once_works_once(app, signed):
    key = (await (await signed.post("/api/v1/auth/recovery-key")).get_json())["recovery_key"]

    async def use(password):
        return await app.test_client().post("/api/v1/auth/recover", json={
            "recovery_key": key, "new_password": password})

    results = await asyncio.gather(use("First-horse-1"), use("Second-horse-2"))
    assert sorted(r.status_code for r in results) == [200, 401]
    winner = "First-horse-1" if results[0].status_code == 200 else "Second-horse-2"
    await login(app, password=winner)


# --- API keys ----------------------------------------------------------------------------


async def test_api_key_lifecycle(app, signed):
    expires = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    response = await signed.post("/api/v1/auth/api-keys", json={
        "name": "backup script", "access": "read_write", "expires_at": expires})
    created = await response.get_json()
    assert response.status_code == 201, created
    assert created["key"].startswith("pk_") and created["key"].startswith(created["prefix"])
    assert created["access"] == "read_write" and created["expires_at"]
    headers = bearer(created["key"])
    me = await app.test_client().get(ME, headers=headers)
    assert (await me.get_json())["auth"]["api_key_id"] == created["id"]
    listed = await (await signed.get("/api/v1/auth/api-keys")).get_json()
    [row] = listed["api_keys"]
    assert set(row) == {"id", "name", "prefix", "access", "created_at", "expires_at",
                        "last_used_at"}
    assert row["last_used_at"] is not None and created["key"] not in str(listed)
    deleted = await signed.delete(f"/api/v1/auth/api-keys/{created['id']}")
    assert deleted.status_code == 204
    # Revocation is effective on the very next request.
    await problem(await app.test_client().get(ME, headers=headers), 401, "unauthorized")
    assert (await (await signed.get("/api/v1/auth/api-keys")).get_json())["api_keys"] == []
    again = await signed.delete(f"/api/v1/auth/api-keys/{created['id']}")
    await problem(again, 404, "not-found")


async def test_a_read_only_key_is_refused_on_mutating_routes(app, signed):
    key = (await (await signed.post("/api/v1/auth/api-keys",
                                    json={"name": "ro", "access": "read"})).get_json())["key"]
    client = app.test_client()
    assert (await client.get("/api/v1/auth/api-keys", headers=bearer(key))).status_code == 200
    assert (await client.get("/api/v1/auth/sessions", headers=bearer(key))).status_code == 200
    for method, path, body in (
        ("post", "/api/v1/auth/api-keys", {"name": "more", "access": "read"}),
        ("post", "/api/v1/auth/recovery-key", None),
        ("post", "/api/v1/auth/password", {"current_password": PASSWORD,
                                           "new_password": NEW_PASSWORD}),
        ("delete", f"/api/v1/auth/sessions/{signed.session_id}", None),
        ("delete", "/api/v1/auth/api-keys/anything", None),
    ):
        response = await getattr(client, method)(path, headers=bearer(key), json=body)
        body_ = await problem(response, 403, "forbidden")
        assert "read-only" in body_["detail"]


async def test_an_expired_key_is_refused(app, signed, alice):
    key = (await (await signed.post("/api/v1/auth/api-keys",
                                    json={"name": "old"})).get_json())
    assert key["access"] == "read"
    async with services_of(app).db.session() as session:
        await session.execute(update(ApiKey).where(ApiKey.id == key["id"]).values(
            expires_at=datetime.now(UTC) - timedelta(seconds=1)))
    await problem(await app.test_client().get(ME, headers=bearer(key["key"])), 401,
                  "unauthorized")


@pytest.mark.parametrize(("payload", "field"), [
    ({"name": "x", "access": "admin"}, "access"),
    ({"name": ""}, "name"),
    ({"name": "x", "expires_at": "2000-01-01T00:00:00Z"}, "expires_at"),
    ({"name": "x", "expires_at": "2999-01-01T00:00:00"}, "expires_at"),
])
async def test_api_key_field_errors(app, signed, payload, field):
    body = await problem(await signed.post("/api/v1/auth/api-keys", json=payload), 400,
                         "validation")
    assert field in body["errors"], body


async def test_another_persons_key_cannot_be_deleted(app, signed):
    await add_user(services_of(app), "bob")
    bob = await login(app, "bob")
    key = await (await bob.post("/api/v1/auth/api-keys", json={"name": "b"})).get_json()
    await problem(await signed.delete(f"/api/v1/auth/api-keys/{key['id']}"), 404, "not-found")
    assert (await app.test_client().get(ME, headers=bearer(key["key"]))).status_code == 200


async def test_a_script_works_with_an_api_key_alone(app, signed):
    key = (await (await signed.post("/api/v1/auth/api-keys",
                                    json={"name": "script", "access": "read_write"})
                  ).get_json())["key"]
    client = app.test_client()
    made = await client.post("/api/v1/auth/api-keys", headers=bearer(key),
                             json={"name": "child", "access": "read"})
    assert made.status_code == 201
    async with services_of(app).db.session() as session:
        names = (await session.execute(select(ApiKey.name))).scalars().all()
    assert sorted(names) == ["child", "script"]


# --- forced password change -----------------------------------------------------------


async def test_a_forced_password_change_blocks_everything_but_me_password_logout(app, alice):
    async with services_of(app).db.session() as session:
        await session.execute(update(User).where(User.id == alice.id)
                              .values(must_change_password=True))
    signed = await login(app)  # signing in still works: it is how the change happens
    assert signed.body["user"]["must_change_password"] is True
    for method, path, body in (
        ("get", "/api/v1/auth/sessions", None),
        ("get", "/api/v1/auth/api-keys", None),
        ("post", "/api/v1/auth/api-keys", {"name": "k"}),
        ("post", "/api/v1/auth/recovery-key", None),
        ("delete", f"/api/v1/auth/sessions/{signed.session_id}", None),
    ):
        response = await getattr(signed.client(), method)(path, headers=bearer(signed.access),
                                                          json=body)
        await problem(response, 403, "password-change-required")
    me = await (await signed.get(ME)).get_json()
    assert me["user"]["must_change_password"] is True
    changed = await signed.post("/api/v1/auth/password", json={
        "current_password": PASSWORD, "new_password": NEW_PASSWORD})
    assert changed.status_code == 200
    assert (await signed.get("/api/v1/auth/sessions")).status_code == 200
    assert (await signed.post("/api/v1/auth/logout")).status_code == 204


async def test_logout_is_allowed_while_a_password_change_is_due(app, alice):
    async with services_of(app).db.session() as session:
        await session.execute(update(User).where(User.id == alice.id)
                              .values(must_change_password=True))
    signed = await login(app)
    assert (await signed.post("/api/v1/auth/logout")).status_code == 204
