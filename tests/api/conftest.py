"""API fixtures: apps with chosen settings, and a client that signs in over the API."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from tests.helpers import PASSWORD, add_user, services_of

from portico.settings import Settings

PROBLEM = "https://portico.dev/problems/"


@asynccontextmanager
async def app_with(settings: Settings, **overrides: Any) -> AsyncIterator[Any]:
    """An in-process app over ``settings`` with some values replaced."""
    from portico.app import create_app

    quart_app = create_app(settings.model_copy(update=overrides))
    async with quart_app.test_app() as test_app:
        yield test_app


@pytest.fixture
def make_app(settings: Settings) -> Callable[..., Any]:
    return lambda **overrides: app_with(settings, **overrides)


async def problem(response: Any, status: int, kind: str) -> dict[str, Any]:
    """Assert a problem+json answer of ``status`` and ``type``; return its body."""
    body = await response.get_json()
    assert response.status_code == status, body
    assert response.headers["Content-Type"] == "application/problem+json", response.headers
    assert body["type"] == PROBLEM + kind, body
    assert body["status"] == status
    return body


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Signed:
    """A person signed in over the API: tokens, session, and a cookie-less client."""

    app: Any
    body: dict[str, Any]

    @property
    def access(self) -> str:
        return self.body["access_token"]

    @property
    def refresh(self) -> str:
        return self.body["refresh_token"]

    @property
    def session_id(self) -> str:
        return self.body["session"]["id"]

    def client(self) -> Any:
        """A fresh test client (no cookie jar shared with the sign-in)."""
        return self.app.test_client()

    async def get(self, path: str, **kw: Any) -> Any:
        return await self.client().get(path, headers=bearer(self.access), **kw)

    async def post(self, path: str, **kw: Any) -> Any:
        return await self.client().post(path, headers=bearer(self.access), **kw)

    async def delete(self, path: str, **kw: Any) -> Any:
        return await self.client().delete(path, headers=bearer(self.access), **kw)


async def login(app: Any, username: str = "alice", password: str = PASSWORD,
                client: Any = None) -> Signed:
    response = await (client or app.test_client()).post(
        "/api/v1/auth/login", json={"username": username, "password": password})
    body = await response.get_json()
    assert response.status_code == 200, body
    return Signed(app, body)


@pytest.fixture
async def alice(app: Any) -> Any:
    return await add_user(services_of(app), "alice")


@pytest.fixture
async def signed(app: Any, alice: Any) -> Signed:
    return await login(app)
