"""Federation fixtures: a second, real Portico (``portico serve``) as the upstream, and
helpers that walk a person through a round trip.

The Portico under test runs in-process (issuer http://127.0.0.1:8000); the upstream is
a real Hypercorn server on a free port. The upstream never calls back: a person's
browser carries the code, so the test carries the callback URL from one to the other.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.conftest import LiveServer, start_server
from tests.federation.support import DOWNSTREAM, SLUGS

from portico.accounts.passwords import PasswordPolicy
from portico.accounts.users import create_user
from portico.clients import register_client
from portico.services import build_services
from portico.settings import Settings

PASSWORD = "Upstream-pass-1"
# name → (email, verified by the upstream)
UPSTREAM_PEOPLE = {
    "uma": ("uma@upstream.example", True),
    "vic": ("vic@upstream.example", False),
    "wes": ("wes@corp.example", True),
}


@dataclass
class Upstream:
    """A running Portico acting as the upstream identity provider."""

    server: LiveServer
    client_id: str
    client_secret: str

    @property
    def issuer(self) -> str:
        return self.server.url

    def provider(self, slug: str = "upstream", **overrides: Any) -> dict[str, Any]:
        """A provider configuration for this upstream (admin API body)."""
        body: dict[str, Any] = {
            "slug": slug, "display_name": "Upstream ID", "kind": "oidc",
            "issuer": self.issuer, "client_id": self.client_id,
            "client_secret": self.client_secret, "allow_signup": True,
        }
        body.update(overrides)
        return body


async def _seed(server: LiveServer) -> tuple[str, str]:
    env = server.env
    svc = build_services(Settings(
        issuer=env["PORTICO_ISSUER"], database_url=env["PORTICO_DATABASE_URL"],
        keys_dir=env["PORTICO_KEYS_DIR"], secret_key=env["PORTICO_SECRET_KEY"],
        insecure_cookies=True, bcrypt_rounds=4))
    try:
        for name, (email, verified) in UPSTREAM_PEOPLE.items():
            await create_user(svc.db, username=name, email=email, password=PASSWORD,
                              policy=PasswordPolicy(), rounds=4, email_verified=verified,
                              name=name.title() + " Upstream")
        registered = await register_client(
            svc.db, name="Downstream Portico", first_party=True,
            redirect_uris=[f"{DOWNSTREAM}/api/v1/external-auth/{s}/callback" for s in SLUGS])
        assert registered.secret
        return registered.client.id, registered.secret
    finally:
        await svc.fetcher.aclose()
        await svc.db.dispose()


@pytest.fixture(scope="session")
def upstream(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Upstream]:
    """One upstream Portico for the whole session (starting one takes seconds)."""
    home: Path = tmp_path_factory.mktemp("upstream")
    server = start_server(home, f"sqlite+aiosqlite:///{home / 'portico.db'}")
    try:
        client_id, secret = asyncio.run(_seed(server))
        yield Upstream(server, client_id, secret)
    finally:
        server.process.terminate()
        try:
            server.process.wait(10)
        except subprocess.TimeoutExpired:
            server.process.kill()


@pytest.fixture
async def world(app: Any) -> Any:
    """The admin test world (root superadmin; ann and bob org admins; mia a member)."""
    from tests.api.admin.conftest import make_world

    return await make_world(app)
