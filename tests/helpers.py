"""Test helpers: seeding users and clients, PKCE pairs, and a browser-like client
that walks the hosted login and consent pages."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from portico.accounts.passwords import PasswordPolicy
from portico.accounts.users import create_user
from portico.clients import Registered, register_client
from portico.services import Services

PASSWORD = "Correct-horse-1"
REDIRECT = "https://rp.example/cb"


def services_of(test_app: Any) -> Services:
    return test_app.app.extensions["portico"]


async def add_user(svc: Services, username: str = "alice", **kw: Any) -> Any:
    kw.setdefault("email", f"{username}@example.org")
    kw.setdefault("password", PASSWORD)
    return await create_user(svc.db, username=username, policy=PasswordPolicy(), rounds=4, **kw)


async def add_client(svc: Services, **kw: Any) -> Registered:
    kw.setdefault("name", "Test RP")
    kw.setdefault("redirect_uris", [REDIRECT])
    kw.setdefault("post_logout_redirect_uris", ["https://rp.example/bye"])
    return await register_client(svc.db, **kw)


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def jwt_claims(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token on the page"
    return match.group(1)


def query_of(location: str) -> dict[str, str]:
    parts = urlsplit(location)
    return {k: v[0] for k, v in parse_qs(parts.query or parts.fragment).items()}


@dataclass
class Browser:
    """Drives the hosted pages through Quart's test client (cookies kept)."""

    client: Any

    async def get(self, path: str, **params: str) -> Any:
        url = f"{path}?{urlencode(params)}" if params else path
        return await self.client.get(url)

    async def follow(self, response: Any, limit: int = 10) -> Any:
        """Follow redirects that stay on Portico; return the first foreign one."""
        for _ in range(limit):
            if response.status_code not in (302, 303):
                return response
            location = response.headers["Location"]
            if location.startswith("http") and not location.startswith("http://127.0.0.1:8000"):
                return response
            response = await self.client.get(location.removeprefix("http://127.0.0.1:8000"))
        raise AssertionError("too many redirects")

    async def login(self, response: Any, username: str = "alice", password: str = PASSWORD) -> Any:
        """Submit the login form the response leads to."""
        page = await self.follow(response)
        html = await page.get_data(as_text=True)
        ticket = re.search(r'name="ticket" value="([^"]*)"', html)
        form = {
            "csrf_token": csrf_of(html),
            "username": username,
            "password": password,
            "ticket": ticket.group(1) if ticket else "",
        }
        return await self.client.post("/login", form=form)

    async def consent(self, response: Any, decision: str = "approve") -> Any:
        page = await self.follow(response)
        html = await page.get_data(as_text=True)
        ticket = re.search(r'name="ticket" value="([^"]*)"', html).group(1)
        return await self.client.post(
            "/consent", form={"csrf_token": csrf_of(html), "ticket": ticket, "decision": decision}
        )

    async def authorize(self, **params: str) -> Any:
        return await self.client.get(f"/authorize?{urlencode(params)}")
