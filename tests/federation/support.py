"""Helpers shared by the federation tests: the Portico under test's address, the
provider slugs the upstream client accepts, and a person's round trip."""

from __future__ import annotations

import asyncio
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

from tests.e2e.browser_login import Browser
from tests.helpers import services_of

from portico.federation.providers import create_provider
from portico.storage.models import IdentityProvider

DOWNSTREAM = "http://127.0.0.1:8000"
SLUGS = ("upstream", "trusted", "closed", "other", "fresh")


def query(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def local(url: str) -> str:
    """The path and query of a URL on the Portico under test."""
    return url.removeprefix(DOWNSTREAM)


async def add_provider(app: Any, body: dict[str, Any]) -> IdentityProvider:
    svc = services_of(app)
    return await create_provider(svc.db, svc.box, body, actor_id=None)


def upstream_sign_in(issuer: str, authorization_url: str, username: str,
                     password: str) -> str:
    """Sign in at the upstream Portico; the callback URL it sends the browser to."""
    with Browser(issuer) as person:
        answer = person.sign_in(authorization_url, username, password)
    assert answer.is_redirect, answer.text[:2000]
    location = answer.headers["location"]
    assert location.startswith(DOWNSTREAM), location
    return location


async def round_trip(client: Any, issuer: str, start: str, username: str, password: str
                     ) -> Any:
    """Start at ``start`` on the Portico under test, sign in upstream, deliver the
    callback in the same browser; the callback's response."""
    begun = await client.get(start)
    assert begun.status_code == 302, await begun.get_data(as_text=True)
    url = begun.headers["Location"]
    callback = await asyncio.to_thread(upstream_sign_in, issuer, url, username, password)
    return await client.get(local(callback))


def ticket_of(html: str) -> str:
    match = re.search(r'name="ticket" value="([^"]*)"', html)
    assert match
    return match.group(1)
