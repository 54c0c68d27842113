"""The CLI forms operators' scripts rely on (SPEC §5)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.cli.conftest import Cli, cli_runner

from portico.cli import main


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    """An uninitialised instance without a master key (``init`` writes one)."""
    return cli_runner(tmp_path)


def test_init_is_idempotent_and_writes_a_private_master_key(cli):
    first = cli("init")
    assert "wrote master key" in first.output and "6 created" in first.output
    second = cli("init")
    assert "wrote master key" not in second.output and "signing keys: ok" in second.output
    assert (cli.tmp_path / "keys" / "secret.key").stat().st_mode & 0o777 == 0o600


def test_client_add_json_prints_the_secret_once(cli):
    cli("init")
    out = json.loads(
        cli(
            "client", "add", "--name", "App", "--redirect-uri", "https://app.example/cb", "--json"
        ).output
    )
    assert set(out) == {"client_id", "client_secret"} and len(out["client_secret"]) >= 43
    listed = json.loads(cli("client", "list", "--json").output)
    assert listed[0]["client_id"] == out["client_id"]
    assert out["client_secret"] not in cli("client", "list", "--json").output


def test_public_clients_get_no_secret(cli):
    cli("init")
    out = json.loads(
        cli(
            "client",
            "add",
            "--name",
            "SPA",
            "--redirect-uri",
            "https://spa.example/cb",
            "--auth-method",
            "none",
            "--json",
        ).output
    )
    assert out["client_secret"] is None


def test_admin_create_reads_the_password_from_stdin(cli):
    cli("init")
    out = json.loads(
        cli(
            "admin",
            "create",
            "--username",
            "root",
            "--email",
            "Root@Example.org",
            "--password-stdin",
            "--json",
            stdin="Admin-pass-1\n",
        ).output
    )
    assert out["email"] == "root@example.org" and out["role"] == "admin"
    users = json.loads(cli("user", "list", "--json").output)
    assert users[0]["roles"] == ["default:admin"]


def test_a_weak_password_is_a_clean_error(cli):
    cli("init")
    result = cli(
        "user",
        "create",
        "--username",
        "bob",
        "--email",
        "bob@example.org",
        "--password-stdin",
        stdin="weak\n",
        ok=False,
    )
    assert result.exit_code == 1
    assert "needs at least 8 characters" in result.output
    assert "Traceback" not in result.output


def test_a_taken_username_is_a_clean_error(cli):
    cli("init")
    cli(
        "user",
        "create",
        "--username",
        "bob",
        "--email",
        "bob@example.org",
        "--password-stdin",
        stdin="Good-pass-1\n",
    )
    result = cli(
        "user",
        "create",
        "--username",
        "BOB",
        "--email",
        "b2@example.org",
        "--password-stdin",
        stdin="Good-pass-1\n",
        ok=False,
    )
    assert result.exit_code == 1 and "already in use" in result.output


def test_keys_rotate_promotes_the_next_key(cli):
    cli("init")
    before = json.loads(cli("keys", "list", "--json").output)
    next_rs = next(k["kid"] for k in before if k["alg"] == "RS256" and k["status"] == "next")
    after = json.loads(cli("keys", "rotate", "--alg", "RS256", "--json").output)
    statuses = {k["kid"]: k["status"] for k in after}
    assert statuses[next_rs] == "active"
    assert sorted(
        s for k, s in statuses.items() if k in {x["kid"] for x in before if x["alg"] == "RS256"}
    ) == ["active", "retired"]


def test_a_bad_setting_is_reported_without_a_traceback(cli, tmp_path):
    runner = CliRunner()
    result = runner.invoke(
        main,
        ["init"],
        env={"PORTICO_ISSUER": "ftp://nope", "PORTICO_CONFIG": str(tmp_path / "none.toml")},
    )
    assert result.exit_code == 2 and "PORTICO_ISSUER" in result.output


def test_user_list_shows_lockouts(cli):
    import asyncio
    from datetime import timedelta

    from sqlalchemy import update

    from portico.storage.db import Database
    from portico.storage.models import User
    from portico.storage.models.base import utcnow

    cli("init")
    cli("user", "create", "--username", "dora", "--email", "dora@example.org",
        "--password-stdin", stdin="Good-pass-1\n")
    assert json.loads(cli("user", "list", "--json").output)[0]["locked"] is False

    async def lock():
        db = Database(f"sqlite+aiosqlite:///{cli.tmp_path / 'p.db'}")
        async with db.session() as s:
            await s.execute(update(User).values(locked_until=utcnow() + timedelta(minutes=5)))
        await db.dispose()

    asyncio.run(lock())
    assert json.loads(cli("user", "list", "--json").output)[0]["locked"] is True
