"""The device flow on every supported database: alice, a public device client (a TV
app that cannot keep a secret), a confidential one (a CLI with a secret), and a browser
where alice approves or denies on /device."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select, update
from tests.conftest import on_database
from tests.helpers import PASSWORD, Browser, add_client, add_user, csrf_of, services_of

from portico.settings import Settings
from portico.storage.models import DeviceAuthorization
from portico.storage.models.base import utcnow

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
SCOPES = "openid profile email offline_access"


@pytest.fixture
def settings(settings: Settings, keyed_database_url: str) -> Settings:
    """The usual settings, on SQLite or on PostgreSQL (each copied from a template)."""
    return on_database(settings, keyed_database_url)


@dataclass
class DeviceWorld:
    """Clients that start device flows, and alice's browser that decides them."""

    app: Any
    tv: str  # public client (token_endpoint_auth_method=none)
    cli: str  # confidential client
    cli_secret: str
    browser: Browser
    user: Any

    @property
    def http(self) -> Any:
        return self.app.test_client()

    def basic(self, client_id: str, secret: str) -> dict[str, str]:
        raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
        return {"Authorization": f"Basic {raw}"}

    async def start(self, client_id: str | None = None, scope: str | None = SCOPES,
                    headers: dict[str, str] | None = None, **form: str) -> Any:
        """POST /device_authorization as the TV (by default)."""
        data = {"client_id": client_id or self.tv, **form}
        if scope is not None:
            data["scope"] = scope
        return await self.http.post("/device_authorization", form=data, headers=headers or {})

    async def started(self, **kw: Any) -> dict[str, Any]:
        response = await self.start(**kw)
        body = await response.get_json()
        assert response.status_code == 200, body
        return body

    async def poll(self, device_code: str, client_id: str | None = None,
                   headers: dict[str, str] | None = None) -> Any:
        form = {"grant_type": DEVICE_GRANT, "device_code": device_code}
        if client_id is not None or headers is None:
            form["client_id"] = client_id or self.tv
        return await self.http.post("/token", form=form, headers=headers or {})

    async def confirm_page(self, user_code: str) -> str:
        response = await self.browser.client.get(f"/device?user_code={user_code}")
        html = await response.get_data(as_text=True)
        assert response.status_code == 200, html[:1000]
        return html

    async def decide(self, user_code: str, decision: str = "approve", **extra: str) -> Any:
        """Open the confirmation page like a person and press Allow or Deny."""
        html = await self.confirm_page(user_code)
        shown = re.search(r'name="user_code" value="([^"]+)"', html)
        assert shown
        return await self.browser.client.post("/device", form={
            "csrf_token": csrf_of(html), "user_code": shown.group(1), "decision": decision,
            **extra})

    async def approved(self, user_code: str, **extra: str) -> None:
        response = await self.decide(user_code, **extra)
        assert response.status_code == 303, await response.get_data(as_text=True)
        assert response.headers["Location"] == "/device?done=approved"

    async def row(self, user_code: str) -> DeviceAuthorization:
        code = user_code.replace("-", "")
        async with services_of(self.app).db.session() as session:
            found = await session.execute(
                select(DeviceAuthorization).where(DeviceAuthorization.user_code == code))
            return found.scalar_one()

    async def change(self, user_code: str, **values: Any) -> None:
        async with services_of(self.app).db.session() as session:
            await session.execute(
                update(DeviceAuthorization)
                .where(DeviceAuthorization.user_code == user_code.replace("-", ""))
                .values(**values))

    async def waited(self, user_code: str, seconds: float) -> None:
        """Pretend the last poll was ``seconds`` ago (no real sleeping in tests)."""
        await self.change(user_code, last_polled_at=utcnow() - timedelta(seconds=seconds))


async def sign_in(browser: Browser, username: str = "alice") -> None:
    page = await browser.client.get("/login")
    html = await page.get_data(as_text=True)
    response = await browser.client.post("/login", form={
        "csrf_token": csrf_of(html), "username": username, "password": PASSWORD})
    assert response.status_code == 303, await response.get_data(as_text=True)


def path_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@pytest.fixture
async def world(app: Any) -> DeviceWorld:
    svc = services_of(app)
    alice = await add_user(svc, name="Alice Liddell", email_verified=True)
    tv = await add_client(svc, name="Living-room TV", redirect_uris=[], auth_method="none",
                          grant_types=[DEVICE_GRANT, "refresh_token"])
    cli = await add_client(svc, name="Deploy CLI", redirect_uris=[],
                           grant_types=[DEVICE_GRANT])
    assert cli.secret
    browser = Browser(app.test_client())
    await sign_in(browser)
    return DeviceWorld(app, tv.client.id, cli.client.id, cli.secret, browser, alice)
