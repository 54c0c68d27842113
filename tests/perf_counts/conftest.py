"""Statement-count fixtures: an app on every supported database, a signed-in user, a
confidential client, and a counter of the SQL statements one request sends.

Counting is by ``before_cursor_execute`` on the app's engine, attributed to the request
through a context variable, so the maintenance and logout-delivery tasks that share
the engine are never counted. A "statement" is one cursor execution: one round trip
(through aiosqlite's thread, or to PostgreSQL). SQLite's ``BEGIN`` is one of them;
asyncpg's ``BEGIN``/``COMMIT`` are not cursor executions and are not counted.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import event
from tests.helpers import REDIRECT, Browser, add_client, add_user, pkce, query_of, services_of
from tests.perf_counts.counting import record_statement

from portico.settings import Settings
from portico.storage.db import Database
from portico.storage.migrate import upgrade


@pytest.fixture
async def settings(settings: Settings, database_url: str) -> Settings:
    """The usual settings (SQLite from the template), or the same on PostgreSQL."""
    if database_url.startswith("sqlite"):
        return settings
    db = Database(database_url)
    await upgrade(db)
    await db.dispose()
    return settings.model_copy(update={"database_url": database_url})


@dataclass
class World:
    """A signed-in browser, a confidential client and tokens from one code flow."""

    app: Any
    client_id: str
    secret: str
    browser: Browser
    tokens: dict[str, Any]
    dialect: str

    @property
    def basic(self) -> tuple[str, str]:
        return self.client_id, self.secret

    async def code(self) -> tuple[str, str]:
        verifier, challenge = pkce()
        response = await self.browser.follow(await self.browser.authorize(
            client_id=self.client_id, redirect_uri=REDIRECT, response_type="code",
            scope="openid profile email offline_access", code_challenge=challenge,
            code_challenge_method="S256", nonce="n"))
        return query_of(response.headers["Location"])["code"], verifier


@pytest.fixture
async def world(app: Any, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[World]:
    """The periodic re-reads of the policy (every second) and of the key set (every few
    seconds) are amortised over all requests; they are held off here so a count is that
    of the request alone (tests/protocol/discovery checks the re-read itself)."""
    monkeypatch.setattr("portico.policy.CACHE_SECONDS", 3600.0)
    monkeypatch.setattr("portico.crypto.signing_keys.CACHE_SECONDS", 3600.0)
    svc = services_of(app)
    event.listen(svc.db.engine.sync_engine, "before_cursor_execute", record_statement)
    await add_user(svc, name="Alice Liddell", email_verified=True)
    reg = await add_client(svc, first_party=True, grant_types=[
        "authorization_code", "refresh_token", "client_credentials"])
    assert reg.secret is not None
    browser = Browser(app.test_client())
    verifier, challenge = pkce()
    response = await browser.authorize(
        client_id=reg.client.id, redirect_uri=REDIRECT, response_type="code",
        scope="openid profile email offline_access", code_challenge=challenge,
        code_challenge_method="S256")
    response = await browser.follow(await browser.login(response))
    code = query_of(response.headers["Location"])["code"]
    token = await app.test_client().post("/token", form={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "code_verifier": verifier}, auth=(reg.client.id, reg.secret))
    assert token.status_code == 200, await token.get_data()
    world = World(app, reg.client.id, reg.secret, browser, await token.get_json(),
                  svc.db.engine.dialect.name)
    yield world
    event.remove(svc.db.engine.sync_engine, "before_cursor_execute", record_statement)
