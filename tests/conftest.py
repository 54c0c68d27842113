"""Shared fixtures: settings, databases (SQLite always, PostgreSQL when
PORTICO_TEST_DATABASE_URL is set), an in-process app, and a real Hypercorn server."""

from __future__ import annotations

import asyncio
import fcntl
import os
import secrets
import socket
import subprocess
import sys
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

    def __init__(self) -> None:
        assert PG_URL
        self.name = f"portico_t_{secrets.token_hex(6)}"
        base, _, _ = PG_URL.rpartition("/")
        self.url = f"{base}/{self.name}"

    def create(self) -> str:
        asyncio.run(_pg_admin(f'CREATE DATABASE "{self.name}"'))
        return self.url

    def drop(self) -> None:
        asyncio.run(_pg_admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))


@pytest.fixture(params=DATABASES)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Every database Portico supports here: SQLite always, PostgreSQL when configured."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'portico.db'}"
        return
    pg = PgDatabase()
    url = pg.create()
    try:
        yield url
    finally:
        pg.drop()


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


TEST_MASTER_KEY = new_master_key_text()


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite database with signing keys, built once and copied per test:
    migrations and RSA key generation would otherwise dominate the protocol tests."""
    from portico.services import build_services
    from portico.storage.migrate import upgrade

    path = tmp_path_factory.mktemp("template") / "portico.db"
    settings = make_settings(f"sqlite+aiosqlite:///{path}", path.parent, secret_key=TEST_MASTER_KEY)

    async def build() -> None:
        svc = build_services(settings)
        await upgrade(svc.db)
        await svc.keys.ensure_keys()
        await svc.fetcher.aclose()
        await svc.db.dispose()

    asyncio.run(build())
    # Closing the last connection checkpoints the WAL into the main file.
    assert not path.with_name("portico.db-wal").exists()
    return path


@pytest.fixture
def settings(template_db: Path, tmp_path: Path) -> Settings:
    """Settings over a fresh copy of the template database."""
    import shutil

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
        """Run the portico CLI against this server's configuration."""
        return subprocess.run(
            [sys.executable, "-m", "portico", *args],
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            check=True,
            cwd=self.env["PORTICO_TEST_CWD"],
        )


def start_server(tmp_path: Path, database_url: str, *, serve_args: tuple[str, ...] = (),
                 scheme: str = "http", **env_overrides: str) -> LiveServer:
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
    if not database_url.startswith("sqlite"):
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
