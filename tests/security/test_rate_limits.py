"""Rate limits answer 429 with Retry-After: per IP and per account on sign-in, per IP
on /token and /setup, and (with Redis storage) shared by every instance."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from tests.conftest import make_settings
from tests.helpers import add_user, csrf_of

from portico.app import create_app
from portico.services import build_services
from portico.settings import Settings


def _scope(ip: str) -> dict[str, Any]:
    return {"client": (ip, 40000)}


async def _login(client: Any, username: str, ip: str = "198.51.100.7") -> Any:
    html = await (await client.get("/login", scope_base=_scope(ip))).get_data(as_text=True)
    form = {"csrf_token": csrf_of(html), "username": username, "password": "Wrong-pass-1"}
    return await client.post("/login", form=form, scope_base=_scope(ip))


def _assert_429(response: Any) -> None:
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 61


def _settings(settings: Settings, **overrides: Any) -> Settings:
    return settings.model_copy(update=overrides)


async def test_login_page_is_limited_per_ip(settings: Settings) -> None:
    app = create_app(_settings(settings, rate_limit_login="3/minute"))
    async with app.test_app() as test_app:
        client = test_app.test_client()
        for i in range(3):
            assert (await _login(client, f"someone{i}")).status_code == 400
        response = await _login(client, "someone-else")
        _assert_429(response)
        assert "Too many" in await response.get_data(as_text=True)
        # Another address is not affected.
        assert (await _login(client, "fresh", ip="198.51.100.8")).status_code == 400


async def test_login_page_is_limited_per_account_from_any_ip(settings: Settings) -> None:
    app = create_app(_settings(settings, rate_limit_account="2/minute"))
    async with app.test_app() as test_app:
        await add_user(test_app.app.extensions["portico"])
        client = test_app.test_client()
        assert (await _login(client, "alice", ip="192.0.2.1")).status_code == 400
        assert (await _login(client, "Alice", ip="192.0.2.2")).status_code == 400
        _assert_429(await _login(client, "ALICE", ip="192.0.2.3"))
        assert (await _login(client, "bob", ip="192.0.2.4")).status_code == 400


async def test_token_endpoint_is_limited_per_ip(settings: Settings) -> None:
    app = create_app(_settings(settings, rate_limit_token="2/minute"))
    async with app.test_app() as test_app:
        client = test_app.test_client()
        form = {"grant_type": "authorization_code", "code": "x", "client_id": "nobody"}
        for _ in range(2):
            response = await client.post("/token", form=form)
            assert response.status_code in (400, 401)
        response = await client.post("/token", form=form)
        _assert_429(response)
        assert (await response.get_json())["error"] == "invalid_request"


async def test_setup_posts_are_limited_per_ip(settings: Settings) -> None:
    app = create_app(_settings(settings, rate_limit_sensitive="2/hour"))
    async with app.test_app() as test_app:
        client = test_app.test_client()
        for expected in (400, 400, 429):
            html = await (await client.get("/setup")).get_data(as_text=True)
            form = {"csrf_token": csrf_of(html), "username": "root", "email": "root@example.org",
                    "password": "short", "password_confirm": "short"}
            response = await client.post("/setup", form=form)
            assert response.status_code == expected
        assert "Retry-After" in response.headers


async def test_redis_storage_shares_the_count_between_instances(tmp_path: Path,
                                                                sqlite_url: str) -> None:
    """Two apps (two instances) over one Redis: the account limit counts both. The
    account name is random, so runs never see each other's counters (no flush needed)."""
    settings = make_settings(sqlite_url, tmp_path, rate_limit_account="3/minute",
                             rate_limit_storage="async+redis://127.0.0.1:6379")
    name = f"shared-{secrets.token_hex(8)}"
    first = create_app(settings, build_services(settings))
    second = create_app(settings, build_services(settings))
    async with first.test_app() as one, second.test_app() as two:
        a, b = one.test_client(), two.test_client()
        assert (await _login(a, name)).status_code == 400
        assert (await _login(b, name)).status_code == 400
        assert (await _login(a, name)).status_code == 400
        _assert_429(await _login(b, name))
        _assert_429(await _login(a, name))
