"""A client registered for every response type, and alice signed in to it, on every
supported database (PostgreSQL when configured)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet
from tests.conftest import on_database
from tests.helpers import REDIRECT, Browser, add_client, add_user, query_of, services_of

from portico.settings import Settings

ALL_TYPES = ["code", "id_token", "id_token token", "code id_token", "code token",
             "code id_token token"]


@pytest.fixture
def settings(settings: Settings, keyed_database_url: str) -> Settings:
    """The usual settings, on SQLite or on PostgreSQL (each copied from a template)."""
    return on_database(settings, keyed_database_url)


@dataclass
class Front:
    """A signed-in browser and a client allowed every response type."""

    app: Any
    client_id: str
    secret: str
    browser: Browser

    def params(self, response_type: str, **overrides: str | None) -> dict[str, str]:
        values: dict[str, str | None] = dict(
            client_id=self.client_id,
            redirect_uri=REDIRECT,
            response_type=response_type,
            scope="openid email",
            state="st-1",
            nonce="n-0S6",
        )
        values.update(overrides)
        return {k: v for k, v in values.items() if v is not None}

    async def authorize(self, response_type: str, **overrides: str | None) -> Any:
        """/authorize for the signed-in person; the response that leaves Portico."""
        return await self.browser.follow(
            await self.browser.authorize(**self.params(response_type, **overrides))
        )

    async def fragment(self, response_type: str, **overrides: str | None) -> dict[str, str]:
        response = await self.authorize(response_type, **overrides)
        location = response.headers["Location"]
        assert location.startswith(REDIRECT + "#"), location
        return query_of(location)

    async def verify(self, token: str) -> dict[str, Any]:
        """The claims of a JWT Portico signed, checked against the published JWKS."""
        jwks = await (await self.app.test_client().get("/jwks")).get_json()
        return dict(jwt.decode(token, KeySet.import_key_set(jwks)).claims)


async def signed_in(app: Any, **client: Any) -> Front:
    svc = services_of(app)
    await add_user(svc, name="Alice Liddell", email_verified=True)
    client.setdefault("first_party", True)
    client.setdefault("metadata", {"response_types": ALL_TYPES})
    reg = await add_client(svc, **client)
    browser = Browser(app.test_client())
    response = await browser.authorize(
        client_id=reg.client.id, redirect_uri=REDIRECT,
        response_type=client["metadata"].get("response_types", ["code"])[0],
        scope="openid", nonce="first", state="s",
    )
    response = await browser.follow(await browser.login(response))
    location = response.headers["Location"]
    assert location.startswith(REDIRECT) and "error" not in location, location
    assert reg.secret
    return Front(app, reg.client.id, reg.secret, browser)


@pytest.fixture
async def front(app: Any) -> Front:
    return await signed_in(app)
