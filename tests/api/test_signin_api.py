"""/login, /refresh, /logout, /me and the credential resolver: tokens, cookies,
query credentials, ``typ`` enforcement, third-party tokens, shared refresh reuse."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from tests.api.conftest import bearer, login, problem
from tests.helpers import PASSWORD, add_client, add_user, jwt_claims, services_of

from portico.protocol import tokens
from portico.protocol.routes import SESSION_COOKIE
from portico.storage.models import AccessToken, AuditEvent, Session
from portico.storage.repositories.grants import Tokens

ME = "/api/v1/auth/me"


async def test_login_returns_tokens_a_session_and_the_cookie(app, alice):
    client = app.test_client()
    response = await client.post("/api/v1/auth/login",
                                 json={"username": "ALICE", "password": PASSWORD})
    body = await response.get_json()
    assert response.status_code == 200, body
    assert response.headers["Cache-Control"] == "no-store"
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    assert body["session"]["via"] == "api" and body["session"]["current"] is True
    assert body["user"]["username"] == "alice"
    claims = jwt_claims(body["access_token"])
    assert claims["client_id"] == "portico" and claims["sub"] == alice.id
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=") and "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    # The cookie alone now authenticates (the test client keeps it).
    me = await client.get(ME)
    assert me.status_code == 200
    assert (await me.get_json())["auth"] == {
        "via": "session", "read_only": False, "session_id": body["session"]["id"],
        "api_key_id": None}


async def test_login_failures_are_one_indistinguishable_401(app, alice):
    client = app.test_client()
    for creds in ({"username": "alice", "password": "Wrong-pass-1"},
                  {"username": "nobody", "password": PASSWORD}):
        response = await client.post("/api/v1/auth/login", json=creds)
        body = await problem(response, 401, "unauthorized")
        assert body["detail"] == "The username or password is incorrect."
        assert "Set-Cookie" not in response.headers
    missing = await client.post("/api/v1/auth/login", json={"username": "alice"})
    assert "password" in (await problem(missing, 400, "validation"))["errors"]


async def test_login_is_audited(app, signed):
    async with services_of(app).db.session() as session:
        actions = (await session.execute(select(AuditEvent.action))).scalars().all()
    assert "login.succeeded" in actions


async def test_me_lists_organizations_and_roles(app, signed):
    body = await (await signed.get(ME)).get_json()
    assert body["user"]["username"] == "alice"
    assert [(o["slug"], o["role"]) for o in body["organizations"]] == [("default", "member")]
    assert body["auth"]["via"] == "access_token"


async def test_me_takes_a_query_token_or_api_key(app, signed):
    by_token = await app.test_client().get(f"{ME}?token={signed.access}")
    assert by_token.status_code == 200
    key = await (await signed.post("/api/v1/auth/api-keys",
                                   json={"name": "ws", "access": "read"})).get_json()
    by_key = await app.test_client().get(f"{ME}?api_key={key['key']}")
    assert (await by_key.get_json())["auth"]["via"] == "api_key"
    # Routes that do not document query credentials ignore them.
    other = await app.test_client().get(f"/api/v1/auth/sessions?token={signed.access}")
    await problem(other, 401, "unauthorized")


async def test_no_or_bad_credentials_are_401(app, signed):
    client = app.test_client()
    response = await client.get(ME)
    await problem(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    for header in ("Basic abc", "Bearer", "Bearer not-a-jwt", "Bearer pk_unknown"):
        await problem(await client.get(ME, headers={"Authorization": header}), 401,
                      "unauthorized")
    stale = app.test_client()
    stale.set_cookie("127.0.0.1", SESSION_COOKIE, "bogus")
    await problem(await stale.get(ME), 401, "unauthorized")


async def test_a_refresh_token_is_not_an_access_token(app, signed):
    response = await app.test_client().get(ME, headers=bearer(signed.refresh))
    await problem(response, 401, "unauthorized")


async def test_an_access_token_is_not_a_refresh_token(app, signed):
    response = await signed.client().post("/api/v1/auth/refresh",
                                          json={"refresh_token": signed.access})
    await problem(response, 400, "invalid-grant")


async def test_a_third_party_clients_access_token_is_refused(app, signed, alice):
    svc = services_of(app)
    rp = await add_client(svc, scope="openid")
    keys = await svc.keys.load()
    token, jti, exp = tokens.access_token(keys, issuer=svc.settings.issuer,
                                          client_id=rp.client.id, subject=alice.id,
                                          scope="openid", ttl=300)
    async with svc.db.session() as session:
        await Tokens(session).add_access_token(AccessToken(
            jti=jti, client_id=rp.client.id, user_id=alice.id, scope="openid",
            expires_at=datetime.fromtimestamp(exp, UTC)))
    body = await problem(await app.test_client().get(ME, headers=bearer(token)), 401,
                         "unauthorized")
    assert "not accepted" in body["detail"]


async def test_refresh_rotates_through_the_shared_grant(app, signed):
    client = signed.client()
    response = await client.post("/api/v1/auth/refresh", json={"refresh_token": signed.refresh})
    body = await response.get_json()
    assert response.status_code == 200, body
    assert body["refresh_token"] != signed.refresh
    assert (await app.test_client().get(ME, headers=bearer(body["access_token"]))).status_code \
        == 200
    # The same refresh token works at /token too: one grant, one family.
    token = await client.post("/token", form={"grant_type": "refresh_token",
                                              "refresh_token": body["refresh_token"],
                                              "client_id": "portico"})
    assert token.status_code == 200


async def test_refresh_reuse_kills_the_family(app, signed):
    client = signed.client()
    rotated = await (await client.post("/api/v1/auth/refresh",
                                       json={"refresh_token": signed.refresh})).get_json()
    reuse = await client.post("/api/v1/auth/refresh", json={"refresh_token": signed.refresh})
    body = await problem(reuse, 400, "invalid-grant")
    assert body["title"] == "The refresh token was refused"
    after = await client.post("/api/v1/auth/refresh",
                              json={"refresh_token": rotated["refresh_token"]})
    await problem(after, 400, "invalid-grant")
    await problem(await app.test_client().get(ME, headers=bearer(rotated["access_token"])),
                  401, "unauthorized")


async def test_logout_with_a_token_ends_the_session_and_its_tokens(app, signed):
    response = await signed.post("/api/v1/auth/logout")
    assert response.status_code == 204
    await problem(await signed.get(ME), 401, "unauthorized")
    refresh = await signed.client().post("/api/v1/auth/refresh",
                                         json={"refresh_token": signed.refresh})
    await problem(refresh, 400, "invalid-grant")
    async with services_of(app).db.session() as session:
        row = await session.get(Session, signed.session_id)
    assert row.revoked_at is not None


async def test_logout_with_the_cookie_clears_it(app, alice):
    client = app.test_client()
    await login(app, client=client)
    response = await client.post("/api/v1/auth/logout")
    assert response.status_code == 204
    assert f"{SESSION_COOKIE}=;" in response.headers["Set-Cookie"]
    await problem(await client.get(ME), 401, "unauthorized")


async def test_logout_needs_a_session_not_an_api_key(app, signed):
    key = await (await signed.post("/api/v1/auth/api-keys",
                                   json={"name": "k", "access": "read_write"})).get_json()
    response = await app.test_client().post("/api/v1/auth/logout", headers=bearer(key["key"]))
    await problem(response, 400, "bad-request")
    await problem(await app.test_client().post("/api/v1/auth/logout"), 401, "unauthorized")


async def test_a_disabled_account_cannot_use_its_tokens(app, signed, alice):
    from portico.storage.repositories.users import Users

    async with services_of(app).db.session() as session:
        await Users(session).set_disabled(alice.id, True)
    await problem(await signed.get(ME), 401, "unauthorized")


async def test_openapi_documents_the_auth_routes(app):
    doc = await (await app.test_client().get("/api/v1/openapi.json")).get_json()
    paths = doc["paths"]
    for path in ("setup", "register", "login", "refresh", "logout", "me", "sessions",
                 "password", "recovery-key", "recover", "api-keys"):
        assert f"/api/v1/auth/{path}" in paths, path
    login_op = paths["/api/v1/auth/login"]["post"]
    assert "requestBody" in login_op and "401" in login_op["responses"]


async def test_another_user_is_unaffected(app, signed):
    await add_user(services_of(app), "bob")
    bob = await login(app, "bob")
    await signed.post("/api/v1/auth/logout")
    assert (await bob.get(ME)).status_code == 200
