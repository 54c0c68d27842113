"""Security headers, CORS for configured origins (including on 401s), proxies, and
no 500s for hostile input on any endpoint."""

from __future__ import annotations

import pytest
from tests.conftest import make_settings

from portico.app import create_app


async def test_pages_cannot_be_framed_or_sniffed(app):
    response = await app.test_client().get("/login")
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"


async def test_session_and_csrf_cookies_are_httponly_and_lax(rp):
    cookies = {c.name: c for c in rp.browser.client.cookie_jar}
    assert cookies["portico_session"].has_nonstandard_attr("HttpOnly")
    assert cookies["portico_csrf"].has_nonstandard_attr("HttpOnly")


@pytest.fixture
async def cors_app(template_db, tmp_path):
    import shutil

    from tests.conftest import TEST_MASTER_KEY

    shutil.copyfile(template_db, tmp_path / "portico.db")
    settings = make_settings(
        f"sqlite+aiosqlite:///{tmp_path / 'portico.db'}",
        tmp_path,
        secret_key=TEST_MASTER_KEY,
        cors_origins=["https://spa.example"],
    )
    async with create_app(settings).test_app() as test_app:
        yield test_app


async def test_cors_allows_configured_origins_on_401s(cors_app):
    client = cors_app.test_client()
    response = await client.get("/userinfo", headers={"Origin": "https://spa.example"})
    assert response.status_code == 401
    assert response.headers["Access-Control-Allow-Origin"] == "https://spa.example"
    other = await client.get("/jwks", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


async def test_cors_preflight_for_the_token_endpoint(cors_app):
    response = await cors_app.test_client().options(
        "/token", headers={"Origin": "https://spa.example", "Access-Control-Request-Method": "POST"}
    )
    assert response.status_code == 204
    assert "POST" in response.headers["Access-Control-Allow-Methods"]


async def test_no_cors_on_hosted_pages(cors_app):
    response = await cors_app.test_client().get("/login", headers={"Origin": "https://spa.example"})
    assert "Access-Control-Allow-Origin" not in response.headers


HOSTILE = [
    "\x00",
    "%00",
    "'; DROP TABLE users; --",
    "<script>alert(1)</script>",
    "é" * 3000,
    "a" * 20000,
    "../../etc/passwd",
    '{"x":',
    "🙂",
    "\ud800".encode("utf-8", "surrogatepass"),
]


@pytest.mark.parametrize("value", HOSTILE, ids=range(len(HOSTILE)))
async def test_hostile_values_never_cause_a_server_error(rp, value):
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    client = rp.app.test_client()
    for name in (
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "request",
        "claims",
        "prompt",
        "max_age",
        "id_token_hint",
        "code_challenge",
    ):
        response = await client.get("/authorize", query_string={**rp.params(), name: value})
        assert response.status_code < 500, (name, response.status_code)
    for path in (
        "/token",
        "/introspect",
        "/revoke",
        "/userinfo",
        "/end_session",
        "/login",
        "/consent",
        "/setup",
        "/logout",
    ):
        response = await client.post(
            path,
            form={
                "grant_type": value,
                "token": value,
                "code": value,
                "refresh_token": value,
                "access_token": value,
                "ticket": value,
                "username": value,
                "password": value,
                "id_token_hint": value,
            },
        )
        assert response.status_code < 500, (path, response.status_code)
    for path in ("/authorize/resume", "/consent", "/login"):
        response = await client.get(path, query_string={"ticket": value})
        assert response.status_code < 500, (path, response.status_code)


async def test_json_to_the_token_endpoint_is_a_clean_error(rp):
    response = await rp.app.test_client().post(
        "/token", json={"grant_type": "x"}, headers=rp.basic()
    )
    assert 400 <= response.status_code < 500
    assert "error" in await response.get_json()


async def test_an_oversized_body_is_refused(rp):
    response = await rp.app.test_client().post(
        "/token",
        data="a=" + "b" * 300_000,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 413


async def test_nul_and_unicode_input_is_refused_cleanly_on_every_database(
        migrated_database_url, tmp_path):
    settings = make_settings(migrated_database_url, tmp_path)
    async with create_app(settings).test_app() as test_app:
        client = test_app.test_client()
        for value in ("\x00", "a\x00b", "é🙂" * 100):
            for path in ("/authorize", "/authorize/resume", "/login", "/end_session"):
                response = await client.get(
                    path, query_string={"client_id": value, "ticket": value}
                )
                assert response.status_code < 500, (path, value)
            for path in ("/token", "/introspect", "/revoke", "/login", "/setup"):
                response = await client.post(
                    path,
                    form={
                        "client_id": value,
                        "token": value,
                        "username": value,
                        "code": value,
                        "grant_type": "authorization_code",
                    },
                )
                assert response.status_code < 500, (path, value)
        response = await client.get("/authorize", query_string={"client_id": "a\x00"})
        assert response.status_code == 400


@pytest.mark.parametrize("body", [b'{"username": "\xbd", "password": "x"}',
                                  b'{"username": "a\\u0000b", "password": "x"}'])
async def test_json_bodies_that_no_database_can_store_are_a_400_problem(app, body):
    for path in ("/api/v1/auth/login", "/api/v1/auth/setup", "/api/v1/admin/users"):
        response = await app.test_client().post(
            path, data=body, headers={"Content-Type": "application/json"})
        assert response.status_code == 400, (path, await response.get_data())
        assert response.headers["Content-Type"] == "application/problem+json"
        assert "body" in (await response.get_json())["errors"]


async def test_a_405_under_the_api_says_which_methods_are_allowed(app):
    response = await app.test_client().put("/api/v1/auth/login", json={})
    assert response.status_code == 405
    assert "POST" in response.headers["Allow"]
