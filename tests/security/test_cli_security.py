"""`portico user unlock` and `portico audit tail` (SPEC §5: human output, --json)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from portico.accounts.signin import LockoutPolicy, lock_state, verify_credentials
from portico.cli import main
from portico.errors import InvalidCredentials
from portico.storage.db import Database


@pytest.fixture
def cli(tmp_path: Path) -> Any:
    env = {
        "PORTICO_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'p.db'}",
        "PORTICO_KEYS_DIR": str(tmp_path / "keys"),
        "PORTICO_BCRYPT_ROUNDS": "4",
        "PORTICO_CONFIG": str(tmp_path / "none.toml"),
    }
    runner = CliRunner()

    def run(*args: str, stdin: str | None = None, ok: bool = True) -> Any:
        result = runner.invoke(main, list(args), input=stdin, env=env)
        if ok:
            assert result.exit_code == 0, result.output
        return result

    run("init")
    run.url = env["PORTICO_DATABASE_URL"]  # type: ignore[attr-defined]
    return run


def _lock(url: str, login: str) -> tuple[int, bool]:
    async def go() -> tuple[int, bool]:
        db = Database(url)
        try:
            for _ in range(5):
                with pytest.raises(InvalidCredentials):
                    await verify_credentials(db, login, "Wrong-pass-1", LockoutPolicy(rounds=4),
                                             ip="203.0.113.5")
            from portico.storage.repositories.users import Users

            async with db.session() as session:
                user = await Users(session).find_by_login(login, f"{login}@example.org")
            assert user is not None
            return await lock_state(db, user.id)
        finally:
            await db.dispose()

    return asyncio.run(go())


def test_user_unlock_by_username_or_id(cli: Any) -> None:
    created = json.loads(cli("user", "create", "--username", "carol", "--email",
                             "carol@example.org", "--password-stdin", "--json",
                             stdin="Correct-horse-1\n").output)
    assert _lock(cli.url, "carol") == (5, True)
    out = json.loads(cli("user", "unlock", "carol", "--json").output)
    assert out == {"id": created["id"], "username": "carol", "unlocked": True}
    assert _lock(cli.url, "carol") == (5, True)
    assert "unlocked carol" in cli("user", "unlock", created["id"]).output
    missing = cli("user", "unlock", "nobody", ok=False)
    assert missing.exit_code == 1 and "no user nobody" in missing.output
    tail = json.loads(cli("audit", "tail", "--action", "account.unlocked", "--json").output)
    assert [e["target"] for e in tail] == [f"user:{created['id']}"] * 2


def test_audit_tail_filters_and_limits(cli: Any) -> None:
    cli("user", "create", "--username", "dave", "--email", "dave@example.org",
        "--password-stdin", stdin="Correct-horse-1\n")
    _lock(cli.url, "dave")
    events = json.loads(cli("audit", "tail", "--limit", "3", "--json").output)
    assert len(events) == 3
    assert [e["id"] for e in events] == sorted(e["id"] for e in events)  # oldest first
    failed = json.loads(cli("audit", "tail", "--action", "login.failed", "--json").output)
    assert len(failed) == 5 and {e["details"]["reason"] for e in failed} == {"password"}
    assert all(e["ip"] == "203.0.113.5" for e in failed)
    human = cli("audit", "tail", "-n", "50").output
    assert "account.locked" in human and "reason=password" in human
    assert cli("audit", "tail", "--action", "nothing.here").output.strip() == "no events"
