"""End-to-end fixtures: real ``portico serve`` processes, provisioned with the CLI.

Starting a server and running the CLI cost seconds each, so the servers are shared by
the whole e2e package (one per database, started on first use) and every test registers
the clients it needs. Each test signs in with its own ``Browser`` (its own cookie jar),
so tests never see each other's sessions, consents or token families.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.conftest import DATABASES, PG_URL, LiveServer, PgDatabase, PgTemplates, start_server
from tests.e2e.browser_login import EMAIL, PASSWORD, USERNAME, Browser

REDIRECT_URI = "https://rp.example/callback"
LOGOUT_URI = "https://rp.example/signed-out"


@dataclass
class Portico:
    """A running Portico with one person (``alice``) and a helper to register clients."""

    server: LiveServer
    database: str
    _metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def issuer(self) -> str:
        return self.server.url

    @property
    def metadata(self) -> dict[str, Any]:
        if not self._metadata:
            response = httpx.get(f"{self.issuer}/.well-known/openid-configuration", timeout=10)
            response.raise_for_status()
            self._metadata = response.json()
        return self._metadata

    def jwks(self) -> dict[str, Any]:
        response = httpx.get(self.metadata["jwks_uri"], timeout=10)
        response.raise_for_status()
        return response.json()

    def add_client(self, name: str, *options: str, logout: bool = True) -> dict[str, Any]:
        """``portico client add --json``; returns client_id, client_secret and the URIs."""
        args = ["client", "add", "--name", name, "--redirect-uri", REDIRECT_URI]
        if logout:
            args += ["--post-logout-redirect-uri", LOGOUT_URI]
        try:
            done = self.server.cli(*args, *options, "--json")
        except subprocess.CalledProcessError as err:
            raise AssertionError(f"portico {' '.join(err.cmd[3:])} failed:\n{err.stderr}") from err
        registered = json.loads(done.stdout)
        registered.update(redirect_uri=REDIRECT_URI, post_logout_redirect_uri=LOGOUT_URI)
        return registered

    def browser(self) -> Browser:
        return Browser(self.issuer)


class ServerPool:
    """One server per database kind, all started together (in the background) on first
    use, stopped at the end of the package."""

    def __init__(self, root: Path, pg_templates: PgTemplates | None) -> None:
        self.root = root
        self.pg_templates = pg_templates
        self.running: dict[str, Portico] = {}
        self._pg: list[PgDatabase] = []
        self._executor = ThreadPoolExecutor(max_workers=len(DATABASES))
        self._starting: dict[str, Future[None]] = {}

    def get(self, database: str) -> Portico:
        if not self._starting:
            self._starting = {db: self._executor.submit(self._start, db) for db in DATABASES}
        self._starting[database].result()  # re-raises, for every test, why it failed
        return self.running[database]

    def _start(self, database: str) -> None:
        home = self.root / database
        home.mkdir()
        if database == "sqlite":
            url = f"sqlite+aiosqlite:///{home / 'portico.db'}"
        else:
            # `portico serve` migrates SQLite by itself; on PostgreSQL (shared by many
            # instances) the operator runs the migrations: here a copy of a migrated
            # template stands for that (tests/scaleout runs `portico db upgrade`).
            assert self.pg_templates is not None
            pg = self.pg_templates.clone("migrated")
            self._pg.append(pg)
            url = pg.url
        server = start_server(home, url, migrated=database != "sqlite")
        portico = Portico(server, database)
        self.running[database] = portico
        user = ["user", "create", "--username", USERNAME, "--email", EMAIL, "--password-stdin"]
        try:
            server.cli(*user, stdin=f"{PASSWORD}\n")
        except subprocess.CalledProcessError as err:
            raise AssertionError(f"portico user create failed:\n{err.stderr}") from err

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        processes = [portico.server.process for portico in self.running.values()]
        for process in processes:
            process.terminate()  # all at once: each takes a few seconds to shut down
        for process in processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for pg in self._pg:
            pg.drop()


@pytest.fixture(scope="package")
def servers(request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerPool]:
    templates = request.getfixturevalue("pg_templates") if PG_URL else None
    pool = ServerPool(tmp_path_factory.mktemp("e2e"), templates)
    try:
        yield pool
    finally:
        pool.close()


@pytest.fixture(params=DATABASES)
def portico(request: pytest.FixtureRequest, servers: ServerPool) -> Portico:
    """A live Portico on each supported database (SQLite; PostgreSQL when configured)."""
    return servers.get(request.param)


@pytest.fixture
def sqlite_portico(servers: ServerPool) -> Portico:
    """The live Portico on SQLite, for flows whose storage is already covered above."""
    return servers.get("sqlite")


@pytest.fixture
def person(request: pytest.FixtureRequest) -> Iterator[Browser]:
    """A fresh browser (cookie jar) for whichever server the test uses."""
    name = "portico" if "portico" in request.fixturenames else "sqlite_portico"
    server: Portico = request.getfixturevalue(name)
    with server.browser() as b:
        yield b
