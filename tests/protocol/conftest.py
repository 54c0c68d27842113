"""Protocol fixtures: an app with a user and clients, and a fast path to a code."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import pytest
from tests.helpers import REDIRECT, Browser, add_client, add_user, pkce, query_of, services_of


@dataclass
class RP:
    """A registered client plus a browser signed in as alice."""

    app: Any
    client_id: str
    secret: str | None
    browser: Browser
    verifier: str = ""

    def basic(self, client_id: str | None = None, secret: str | None = None) -> dict[str, str]:
        raw = f"{client_id or self.client_id}:{secret or self.secret}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}

    def params(self, **overrides: str) -> dict[str, str]:
        verifier, challenge = pkce()
        self.verifier = verifier
        values = dict(
            client_id=self.client_id,
            redirect_uri=REDIRECT,
            response_type="code",
            scope="openid",
            state="xyz",
            nonce="n-0S6",
            code_challenge=challenge,
            code_challenge_method="S256",
        )
        values.update(overrides)
        return {k: v for k, v in values.items() if v is not None}

    async def code(self, **overrides: str) -> str:
        """Run /authorize for a signed-in, consented user; return the code."""
        response = await self.browser.follow(
            await self.browser.authorize(**self.params(**overrides))
        )
        location = response.headers["Location"]
        query = query_of(location)
        assert "code" in query, location
        return query["code"]

    async def token(self, form: dict[str, str], headers: dict[str, str] | None = None) -> Any:
        return await self.app.test_client().post(
            "/token", form=form, headers=self.basic() if headers is None else headers
        )

    async def tokens(self, **overrides: str) -> dict[str, Any]:
        code = await self.code(**overrides)
        response = await self.token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT,
                "code_verifier": self.verifier,
            }
        )
        body = await response.get_json()
        assert response.status_code == 200, body
        return body


@pytest.fixture
async def rp(app) -> RP:
    """A confidential client; alice signed in and consented to every scope."""
    svc = services_of(app)
    await add_user(svc, name="Alice Liddell", email_verified=True)
    reg = await add_client(svc, first_party=False)
    browser = Browser(app.test_client())
    verifier, challenge = pkce()
    response = await browser.authorize(
        client_id=reg.client.id,
        redirect_uri=REDIRECT,
        response_type="code",
        scope="openid profile email address phone offline_access",
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    response = await browser.consent(await browser.login(response))
    await browser.follow(response)
    return RP(app, reg.client.id, reg.secret, browser)
