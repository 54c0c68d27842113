"""Hosted account pages, in process: a browser-like client signed in as alice."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from tests.helpers import PASSWORD, Browser, add_user, csrf_of, services_of

from portico.services import Services
from portico.settings import Settings

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI_IOS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)


@dataclass
class Person:
    """A browser (Quart test client with cookies) and who it signs in as."""

    app: Any
    svc: Services
    user: Any
    browser: Browser

    @property
    def client(self) -> Any:
        return self.browser.client

    async def html(self, path: str, status: int = 200) -> str:
        response = await self.client.get(path)
        body = await response.get_data(as_text=True)
        assert response.status_code == status, (response.status_code, body[:500])
        return body

    async def submit(self, page_path: str, action: str | None = None, **fields: str) -> Any:
        """Load ``page_path`` for its CSRF token, then post ``fields`` to ``action``."""
        token = csrf_of(await self.html(page_path))
        return await self.client.post(action or page_path, form={"csrf_token": token, **fields})

    async def sign_in(self, username: str = "alice", password: str = PASSWORD,
                      agent: str = FIREFOX, **extra: str) -> Any:
        token = csrf_of(await self.html("/login"))
        return await self.client.post(
            "/login",
            form={"csrf_token": token, "username": username, "password": password, **extra},
            headers={"User-Agent": agent},
        )


def text_of(html: str) -> str:
    """The page's text with tags and extra white space removed, for phrase checks."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
async def alice(app: Any) -> Person:
    """alice, signed in with Firefox on Linux."""
    svc = services_of(app)
    user = await add_user(svc)
    person = Person(app, svc, user, Browser(app.test_client()))
    response = await person.sign_in()
    assert response.status_code == 303 and response.headers["Location"] == "/"
    return person


@pytest.fixture
def second_browser(alice: Person) -> Callable[[], Any]:
    """Another browser for alice (a phone), signed in separately."""

    async def make(agent: str = SAFARI_IOS) -> Person:
        other = Person(alice.app, alice.svc, alice.user, Browser(alice.app.test_client()))
        response = await other.sign_in(agent=agent)
        assert response.status_code == 303
        return other

    return make


@asynccontextmanager
async def app_with(settings: Settings, **overrides: Any) -> AsyncIterator[Any]:
    """An in-process app over ``settings`` with some values replaced."""
    from portico.app import create_app

    quart_app = create_app(settings.model_copy(update=overrides))
    async with quart_app.test_app() as test_app:
        yield test_app
