"""PORTICO_AUTH_MODE=noop: no login at all, for developing relying parties locally
(SPEC: "a default org + user is created and /authorize signs everyone in as that
user"; switching noop -> local keeps data)."""

from __future__ import annotations

import base64
import logging
from typing import Any

import pytest
from pydantic import ValidationError
from tests.helpers import REDIRECT, Browser, add_client, jwt_claims, pkce, query_of, services_of

from portico.accounts.noop import NOOP_USERNAME
from portico.app import create_app
from portico.settings import Settings, SettingsError, load_settings


def _noop(settings: Settings) -> Settings:
    return settings.model_copy(update={"auth_mode": "noop"})


def test_noop_is_refused_with_a_public_issuer(tmp_path: Any) -> None:
    with pytest.raises(ValidationError, match="loopback issuer"):
        Settings(issuer="https://id.example.com", auth_mode="noop",
                 database_url="sqlite+aiosqlite:///x.db")
    with pytest.raises(SettingsError, match="PORTICO_ALLOW_NOOP_ON_PUBLIC_ISSUER"):
        load_settings(issuer="https://id.example.com", auth_mode="noop")
    forced = Settings(issuer="https://id.example.com", auth_mode="noop",
                      allow_noop_on_public_issuer=True)
    assert forced.auth_mode == "noop"
    assert Settings(issuer="http://localhost:9000", auth_mode="noop").auth_mode == "noop"


async def _code_flow(test_app: Any, reg: Any) -> dict[str, Any]:
    verifier, challenge = pkce()
    browser = Browser(test_app.test_client())
    response = await browser.authorize(
        client_id=reg.client.id, redirect_uri=REDIRECT, response_type="code",
        scope="openid email profile", state="s", nonce="n", code_challenge=challenge,
        code_challenge_method="S256",
    )
    # Straight back to the relying party: no login page, no consent page.
    assert response.status_code in (302, 303)
    assert response.headers["Location"].startswith(REDIRECT)
    query = query_of(response.headers["Location"])
    basic = base64.b64encode(f"{reg.client.id}:{reg.secret}".encode()).decode()
    token = await test_app.test_client().post(
        "/token",
        form={"grant_type": "authorization_code", "code": query["code"],
              "redirect_uri": REDIRECT, "code_verifier": verifier},
        headers={"Authorization": f"Basic {basic}"},
    )
    body = await token.get_json()
    assert token.status_code == 200, body
    return jwt_claims(body["id_token"])


async def test_noop_signs_everyone_in_as_the_dev_user(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="portico")
    app = create_app(_noop(settings))
    async with app.test_app() as test_app:
        assert any("NO AUTHENTICATION" in r.getMessage() for r in caplog.records)
        svc = services_of(test_app)
        reg = await add_client(svc)
        first = await _code_flow(test_app, reg)
        second = await _code_flow(test_app, reg)
        assert first["sub"] == second["sub"]
        assert first["nonce"] == "n"
        # prompt=login and max_age=0 do not bring a login page either.
        browser = Browser(test_app.test_client())
        response = await browser.authorize(
            client_id=reg.client.id, redirect_uri=REDIRECT, response_type="code",
            scope="openid", prompt="login", max_age="0", code_challenge=pkce()[1],
            code_challenge_method="S256")
        assert "code" in query_of(response.headers["Location"])

        # The API: no credential means the dev user.
        me = await test_app.test_client().get("/api/v1/auth/me")
        data = await me.get_json()
        assert me.status_code == 200, data
        assert data["user"]["username"] == NOOP_USERNAME
        assert data["user"]["id"] == first["sub"]

        # Every hosted page carries the banner.
        for path in ("/login", "/"):
            html = await (await test_app.test_client().get(path)).get_data(as_text=True)
            assert 'class="noop-banner" role="status"' in html, path


async def test_switching_back_to_local_keeps_the_data(settings: Settings) -> None:
    async with create_app(_noop(settings)).test_app() as noop_app:
        reg = await add_client(services_of(noop_app))
        dev_sub = (await _code_flow(noop_app, reg))["sub"]
    # A second start in noop mode reuses the same dev user.
    async with create_app(_noop(settings)).test_app() as again:
        assert (await _code_flow(again, reg))["sub"] == dev_sub

    async with create_app(settings).test_app() as local:
        svc = services_of(local)
        async with svc.db.session() as session:
            from portico.storage.repositories.clients import Clients
            from portico.storage.repositories.users import Users

            assert await Clients(session).get(reg.client.id) is not None
            dev = await Users(session).get(dev_sub)
            assert dev is not None and dev.password_hash is None
            assert not await Users(session).admin_exists()  # /setup still works
        client = local.test_client()
        # /authorize asks for a login again; the dev user cannot sign in with a password.
        browser = Browser(client)
        response = await browser.authorize(
            client_id=reg.client.id, redirect_uri=REDIRECT, response_type="code",
            scope="openid", code_challenge=pkce()[1], code_challenge_method="S256")
        page = await browser.follow(response)
        html = await page.get_data(as_text=True)
        assert 'name="password"' in html and "noop-banner" not in html
        response = await browser.login(response, username=NOOP_USERNAME, password="Anything-1")
        assert response.status_code == 400
        assert (await client.get("/api/v1/auth/me")).status_code == 401


async def test_instances_starting_together_share_one_dev_user(svc: Any) -> None:
    import asyncio

    from portico.accounts.noop import ensure_dev_user

    users = await asyncio.gather(*(ensure_dev_user(svc.db) for _ in range(4)))
    assert len({u.id for u in users}) == 1
    assert users[0].password_hash is None and users[0].username == NOOP_USERNAME
