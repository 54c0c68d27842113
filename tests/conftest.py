"""Shared fixtures: settings, databases (SQLite always, PostgreSQL when
PORTICO_TEST_DATABASE_URL is set), an in-process app, and a real Hypercorn server."""

from __future__ import annotations

import asyncio
import fcntl
import os
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from portico.crypto.secretbox import new_master_key_text
from portico.settings import Settings

PG_URL = os.environ.get("PORTICO_TEST_DATABASE_URL")
DATABASES = ["sqlite"] + (["postgresql"] if PG_URL else [])
REPO = Path(__file__).resolve().parents[1]
NODE_CACHE = REPO / "tests" / ".cache" / "node"


@contextmanager
def node_cache_lock() -> Iterator[Path]:
    """Hold tests/.cache/node (across processes) while checking for and npm-installing a
    package: pytest-xdist workers share it, and two `npm install --prefix` runs at once
    each rewrite its package.json and node_modules, so one can lose the other's package."""
    NODE_CACHE.mkdir(parents=True, exist_ok=True)
    with (NODE_CACHE.parent / "node.lock").open("a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        yield NODE_CACHE


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _pg_admin(sql: str) -> None:
    import asyncpg

    assert PG_URL
    dsn = PG_URL.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


class PgDatabase:
    """A throwaway PostgreSQL database, created and dropped around one test."""

    def __init__(self, name: str | None = None) -> None:
        assert PG_URL
        self.name = name or f"portico_t_{secrets.token_hex(6)}"
        base, _, _ = PG_URL.rpartition("/")
        self.url = f"{base}/{self.name}"

    def create(self, template: str | None = None) -> str:
        """Create the database: empty, or a copy of ``template`` (which must have no open
        connections: PostgreSQL refuses to copy a database in use)."""
        copy = f' TEMPLATE "{template}"' if template else ""
        asyncio.run(_pg_admin(f'CREATE DATABASE "{self.name}"{copy}'))
        return self.url

    def drop(self) -> None:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))


async def _migrate(url: str) -> None:
    from portico.storage.db import Database
    from portico.storage.migrate import upgrade

    db = Database(url)
    try:
        await upgrade(db)
    finally:
        await db.dispose()  # closes every connection, so the file or database can be copied


async def _add_signing_keys(url: str, tmp_path: Path) -> None:
    from portico.services import build_services

    svc = build_services(make_settings(url, tmp_path, secret_key=TEST_MASTER_KEY))
    try:
        await svc.keys.ensure_keys()
    finally:
        await svc.fetcher.aclose()
        await svc.db.dispose()


class PgTemplates:
    """PostgreSQL template databases, built once per pytest process (each xdist worker has
    its own, named uniquely per run) and copied with ``CREATE DATABASE … TEMPLATE`` for
    each test: running the Alembic migrations on every test's database cost seconds.

    ``migrated``: the schema at head. ``keyed``: that plus signing keys sealed with
    ``TEST_MASTER_KEY``, the PostgreSQL twin of the SQLite ``template_db``."""

    KINDS = ("migrated", "keyed")

    def __init__(self, scratch: Path) -> None:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        self.prefix = f"portico_tmpl_{worker}_{secrets.token_hex(4)}"
        self.scratch = scratch
        self._built: dict[str, PgDatabase] = {}
        self._lock = threading.Lock()  # the e2e server pool starts servers from threads

    def name(self, kind: str) -> str:
        """The template of ``kind``, built on first use (outside any running event loop)."""
        assert kind in self.KINDS, kind
        with self._lock:
            return self._build(kind)

    def _build(self, kind: str) -> str:
        if kind not in self._built:
            db = PgDatabase(f"{self.prefix}_{kind}")
            if kind == "migrated":
                db.create()
                self._built[kind] = db
                asyncio.run(_migrate(db.url))
            else:
                db.create(template=self._build("migrated"))
                self._built[kind] = db
                asyncio.run(_add_signing_keys(db.url, self.scratch))
        return self._built[kind].name

    def clone(self, kind: str) -> PgDatabase:
        """A new database copied from the ``kind`` template; the caller drops it."""
        db = PgDatabase()
        db.create(template=self.name(kind))
        return db

    def drop(self) -> None:
        for db in self._built.values():
            db.drop()


@pytest.fixture(scope="session")
def pg_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PgTemplates]:
    """This process's PostgreSQL templates (only requested when PostgreSQL is configured)."""
    templates = PgTemplates(tmp_path_factory.mktemp("pg_templates"))
    yield templates
    templates.drop()


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every database Portico supports here, empty: SQLite always, PostgreSQL when
    configured. Tests that only need the schema take ``migrated_database_url``."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'portico.db'}"
        return
    pg = PgDatabase()
    url = pg.create()
    try:
        yield url
    finally:
        pg.drop()


@pytest.fixture(scope="session")
def schema_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite database with the schema at head and nothing else, copied per test."""
    path = tmp_path_factory.mktemp("schema_template") / "portico.db"
    asyncio.run(_migrate(f"sqlite+aiosqlite:///{path}"))
    # Closing the last connection checkpoints the WAL into the main file.
    assert not path.with_name("portico.db-wal").exists()
    return path


def _pg_clone(request: pytest.FixtureRequest, kind: str) -> Iterator[str]:
    templates: PgTemplates = request.getfixturevalue("pg_templates")
    pg = templates.clone(kind)
    try:
        yield pg.url
    finally:
        pg.drop()


def _copied(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: str,
            pg_kind: str) -> Iterator[str]:
    """A fresh database copied from a template: the ``sqlite_template`` fixture's file,
    or the PostgreSQL template of ``pg_kind``."""
    if request.param == "sqlite":
        target = tmp_path / "portico.db"
        shutil.copyfile(request.getfixturevalue(sqlite_template), target)
        yield f"sqlite+aiosqlite:///{target}"
        return
    yield from _pg_clone(request, pg_kind)


@pytest.fixture(params=DATABASES)
def migrated_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every supported database with the schema at head (no keys, no rows), copied from a
    template: what ``database_url`` plus ``upgrade`` gives, without migrating each time."""
    yield from _copied(request, tmp_path, "schema_template", "migrated")


@pytest.fixture(params=DATABASES)
def keyed_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every supported database as the ``settings`` fixture's: the schema and signing keys
    sealed with ``TEST_MASTER_KEY``. On SQLite it is the very file ``settings`` uses."""
    yield from _copied(request, tmp_path, "template_db", "keyed")


def on_database(settings: Settings, database_url: str, **overrides: Any) -> Settings:
    """``settings`` moved onto ``database_url`` (from ``keyed_database_url``), with
    ``overrides``."""
    return settings.model_copy(update={"database_url": database_url, **overrides})


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'portico.db'}"


def make_settings(database_url: str, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = dict(
        issuer="http://127.0.0.1:8000",
        database_url=database_url,
        keys_dir=tmp_path / "keys",
        secret_key=new_master_key_text(),
        insecure_cookies=True,
        bcrypt_rounds=4,
        rate_limit_login="10000/minute",
        rate_limit_account="10000/minute",
        rate_limit_sensitive="10000/minute",
    )
    values.update(overrides)
    return Settings(**values)


# One key per test process, the same in every copy of this module: pytest loads it as
# `conftest` while test modules import `tests.conftest`, and the templates' signing keys
# are sealed with it.
TEST_MASTER_KEY = os.environ.setdefault("TESTS_SECRETBOX_MASTER_KEY", new_master_key_text())


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database with signing keys, built once and copied per test:
    migrations and RSA key generation would otherwise dominate the protocol tests."""
    path = tmp_path_factory.mktemp("template") / "portico.db"
    url = f"sqlite+aiosqlite:///{path}"
    asyncio.run(_migrate(url))
    asyncio.run(_add_signing_keys(url, path.parent))
    # Closing the last connection checkpoints the WAL into the main file.
    assert not path.with_name("portico.db-wal").exists()
    return path


@pytest.fixture
def settings(template_db: Path, tmp_path: Path) -> Settings:
    """Settings over a fresh copy of the template database."""
    target = tmp_path / "portico.db"
    shutil.copyfile(template_db, target)
    return make_settings(f"sqlite+aiosqlite:///{target}", tmp_path, secret_key=TEST_MASTER_KEY)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[Any]:
    """The Quart app, served in-process (lifespan run: migrations + keys)."""
    from portico.app import create_app

    quart_app = create_app(settings)
    async with quart_app.test_app() as test_app:
        yield test_app


@dataclass
class LiveServer:
    """A real ``portico serve`` subprocess."""

    url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path

    def cli(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run the portico CLI against this server's configuration (in this process: the
        tests that use it set things up with it; tests/cli/ runs the real process)."""
        from tests.cli_runner import run_cli

        return run_cli(args, env=self.env, cwd=self.env["PORTICO_TEST_CWD"], stdin=stdin)


def start_server(tmp_path: Path, database_url: str, *, serve_args: tuple[str, ...] = (),
                 scheme: str = "http", migrated: bool = False,
                 **env_overrides: str) -> LiveServer:
    """``portico serve`` on ``database_url``; a PostgreSQL database is first migrated with
    ``portico db upgrade`` unless ``migrated`` says it already has the schema (a copy of
    a template)."""
    port = free_port()
    url = f"{scheme}://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTICO_")}
    env.update(
        PORTICO_ISSUER=url,
        PORTICO_DATABASE_URL=database_url,
        PORTICO_KEYS_DIR=str(tmp_path / "keys"),
        PORTICO_SECRET_KEY=new_master_key_text(),
        PORTICO_INSECURE_COOKIES="true",
        PORTICO_BCRYPT_ROUNDS="4",
        PORTICO_TEST_CWD=str(tmp_path),
        # Tests sign the same people in many times a minute; rate-limit tests lower these.
        PORTICO_RATE_LIMIT_LOGIN="10000/minute",
        PORTICO_RATE_LIMIT_ACCOUNT="10000/minute",
        PORTICO_RATE_LIMIT_SENSITIVE="10000/minute",
    )
    env.update(env_overrides)
    log = tmp_path / "server.log"
    if not database_url.startswith("sqlite") and not migrated:
        # `serve` migrates SQLite only; shared databases are migrated by the operator.
        subprocess.run([sys.executable, "-m", "portico", "db", "upgrade"], env=env, cwd=tmp_path,
                       check=True, capture_output=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "portico", "serve", "--port", str(port), *serve_args],
        env=env,
        cwd=tmp_path,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    # Generous: under `make test` two workers may each be starting servers at once.
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"portico serve exited:\n{log.read_text()}")
        try:
            probe = httpx.get(f"{url}/.well-known/openid-configuration", timeout=1, verify=False)
            if probe.status_code == 200:
                return LiveServer(url, env, process, log)
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    process.kill()
    raise RuntimeError(f"portico serve did not start:\n{log.read_text()}")


@pytest.fixture
def live_server(tmp_path: Path, sqlite_url: str) -> Iterator[LiveServer]:
    """A real Hypercorn server on SQLite, on a free loopback port."""
    server = start_server(tmp_path, sqlite_url)
    yield server
    server.process.terminate()
    try:
        server.process.wait(10)
    except subprocess.TimeoutExpired:
        server.process.kill()
