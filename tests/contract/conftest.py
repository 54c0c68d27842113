"""The contract suite's world: a real ``portico serve`` on SQLite, an instance
superadmin made with the CLI, a second organization with people in it, and the
OpenAPI document as that server serves it.

    root    superadmin (``portico admin create``), owner of ``default``
    ann     admin and owner of ``acme``          mia    member of ``acme``
    ted     member of ``default``
    decoy   member of ``default``: a target the fuzzer may hit instead of root
    rp      a confidential client of ``acme`` (a target instead of the system client)

Registration is open, so a test can mint a brand-new person (and credential) for
anything that would end the credential it is made with.
"""

from __future__ import annotations

import asyncio
import secrets
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import LiveServer, start_server

PASSWORD = "Contract-passw0rd"
API = "/api/v1"
DOC_PATH = f"{API}/openapi.json"
# Fuzzing sends wrong passwords for whatever usernames it learns: keep lockouts short
# and rare, and no rate limit in the way (start_server lifts the others).
SERVER_ENV = {
    "PORTICO_REGISTRATION": "open",
    "PORTICO_MAX_LOGIN_ATTEMPTS": "100",
    "PORTICO_LOCKOUT_DURATION": "10",
    "PORTICO_RATE_LIMIT_TOKEN": "100000/minute",
    "PORTICO_MAINTENANCE_INTERVAL": "0",
    # Whatever URL a request names (a provider's issuer, a client's jwks_uri), the server
    # reaches nothing but a closed loopback port: no traffic leaves this machine.
    **{name: "http://127.0.0.1:9" for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY",
                                               "http_proxy", "https_proxy", "all_proxy")},
    "NO_PROXY": "",
    "no_proxy": "",
}


@dataclass
class ContractServer:
    """A live server, its seeded world and root's bearer token."""

    live: LiveServer
    root_token: str = ""
    ids: dict[str, str] = field(default_factory=dict)
    throwaways: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.live.url

    def http(self) -> httpx.Client:
        # No keep-alive: on a loaded machine a pause longer than Hypercorn's keep-alive
        # timeout lets the server close a connection just as the next request goes out.
        return httpx.Client(base_url=self.url, timeout=30,
                            limits=httpx.Limits(max_keepalive_connections=0))

    def login(self, username: str, password: str = PASSWORD) -> dict[str, Any]:
        """Sign in over the API; the login answer (tokens, session, user)."""
        with self.http() as client:
            response = client.post(f"{API}/auth/login",
                                   json={"username": username, "password": password})
        assert response.status_code == 200, (username, response.status_code, response.text)
        return response.json()  # type: ignore[no-any-return]

    def relogin_root(self) -> str:
        body = self.login("root")
        self.root_token = body["access_token"]
        self.ids["root_session"] = body["session"]["id"]
        return self.root_token

    def root_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.root_token}"}

    def throwaway_headers(self, purpose: str = "") -> dict[str, str]:
        """A bearer token of a fresh session of a person used for ``purpose`` only;
        a new person is registered when that one can no longer sign in."""
        name = self.throwaways.get(purpose)
        with self.http() as client:
            if name is not None:
                response = client.post(f"{API}/auth/login",
                                       json={"username": name, "password": PASSWORD})
                if response.status_code == 200:
                    return {"Authorization": f"Bearer {response.json()['access_token']}"}
            name = self.throwaways[purpose] = f"tmp{secrets.token_hex(6)}"
            response = client.post(f"{API}/auth/register", json={
                "username": name, "email": f"{name}@example.org", "password": PASSWORD})
        assert response.status_code == 201, response.text
        return {"Authorization": f"Bearer {self.login(name)['access_token']}"}

    def root_works(self) -> bool:
        """Whether root's token still opens a route that needs a live, usable account."""
        with self.http() as client:
            response = client.get(f"{API}/auth/sessions", headers=self.root_headers())
        return response.status_code == 200

    def reset_policy(self) -> None:
        """Every admin-set authentication policy field back to its configured value."""
        with self.http() as client:
            current = client.get(f"{API}/admin/policy", headers=self.root_headers())
            if current.status_code == 404:  # no policy route in this tree
                return
            assert current.status_code == 200, current.text
            reset = client.patch(f"{API}/admin/policy", headers=self.root_headers(),
                                 json=dict.fromkeys(current.json()["fields"]))
            assert reset.status_code == 200, reset.text

    def document(self) -> dict[str, Any]:
        with self.http() as client:
            response = client.get(DOC_PATH)
        assert response.status_code == 200, response.text
        assert response.headers["content-type"].startswith("application/json")
        return response.json()  # type: ignore[no-any-return]

    def server_errors(self) -> str:
        """Every traceback the server logged so far."""
        text = self.live.log.read_text(errors="replace")
        return "\n".join(block for block in text.split("\n[") if "Traceback" in block)


async def _seed(database_url: str) -> dict[str, str]:
    """A second organization and a few people, written straight to the database."""
    from portico.accounts.passwords import PasswordPolicy
    from portico.accounts.users import create_user
    from portico.clients import register_client
    from portico.storage.db import Database
    from portico.storage.repositories.users import Organizations

    db = Database(database_url)
    policy = PasswordPolicy()
    ids: dict[str, str] = {}
    try:
        people: list[tuple[str, dict[str, Any]]] = [
            ("ann", {"new_org_name": "Acme"}),
            ("mia", {"org_slug": "acme"}),
            ("ted", {}),
            ("decoy", {}),
        ]
        for username, where in people:
            user = await create_user(db, username=username, email=f"{username}@example.org",
                                     password=PASSWORD, policy=policy, rounds=4, **where)
            ids[username] = user.id
        async with db.session() as session:
            orgs = Organizations(session)
            acme = await orgs.by_slug("acme")
            assert acme is not None
            ids["acme"] = acme.id
            ids["default"] = (await orgs.default()).id
        rp = await register_client(db, name="Contract RP", redirect_uris=["https://rp.example/cb"],
                                   org_id=ids["acme"])
        ids["rp"] = rp.client.id
    finally:
        await db.dispose()
    return ids


def boot(tmp_path: Path) -> ContractServer:
    """Start a server, create root with the CLI, seed the world and sign root in."""
    live = start_server(tmp_path, f"sqlite+aiosqlite:///{tmp_path / 'portico.db'}",
                        **SERVER_ENV)
    server = ContractServer(live)
    try:
        created = live.cli("admin", "create", "--username", "root", "--email",
                           "root@example.org", "--password-stdin", "--json",
                           stdin=PASSWORD + "\n")
        assert "root" in created.stdout, created.stdout
        server.ids.update(asyncio.run(_seed(live.env["PORTICO_DATABASE_URL"])))
        server.ids["root"] = server.login("root")["user"]["id"]
        server.relogin_root()
    except BaseException:
        stop(live)
        raise
    return server


def stop(live: LiveServer) -> None:
    live.process.terminate()
    try:
        live.process.wait(10)
    except subprocess.TimeoutExpired:
        live.process.kill()
        live.process.wait()


@pytest.fixture(scope="session")
def contract_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ContractServer]:
    """One server for the read-mostly contract tests (document, generated client)."""
    server = boot(tmp_path_factory.mktemp("contract"))
    yield server
    stop(server.live)


@pytest.fixture(scope="session")
def openapi_doc(contract_server: ContractServer) -> dict[str, Any]:
    """The OpenAPI document exactly as the live server serves it."""
    return contract_server.document()
