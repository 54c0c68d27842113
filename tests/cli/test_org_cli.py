"""``portico org …`` and ``portico user update|disable|enable|delete``: the real command
in a subprocess, as operators' scripts run it, under the same rules as the admin API.
(The set-up, ``init`` and ``user create``, runs in-process: tests/cli/test_cli.py
covers those commands.)"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from tests.cli_runner import run_cli

from portico.storage.db import Database
from portico.storage.models import AuditEvent

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def portico(tmp_path: Path) -> Run:
    """``portico ARGS`` against a fresh initialised instance; ``code`` is the exit code
    expected (0 unless said)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTICO_")}
    env.update(PORTICO_DATABASE_URL=f"sqlite+aiosqlite:///{tmp_path / 'p.db'}",
               PORTICO_KEYS_DIR=str(tmp_path / "keys"), PORTICO_BCRYPT_ROUNDS="4",
               PORTICO_CONFIG=str(tmp_path / "none.toml"))

    def run(*args: str, stdin: str | None = None, code: int = 0) -> subprocess.CompletedProcess:
        result = subprocess.run([sys.executable, "-m", "portico", *args], env=env, input=stdin,
                                capture_output=True, text=True, cwd=tmp_path, timeout=120)
        assert result.returncode == code, result.stdout + result.stderr
        assert "Traceback" not in result.stderr, result.stderr
        return result

    def setup(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return run_cli(args, env=env, cwd=tmp_path, stdin=stdin)

    setup("init")
    run.url = env["PORTICO_DATABASE_URL"]  # type: ignore[attr-defined]
    run.setup = setup  # type: ignore[attr-defined]
    return run


def out(result: subprocess.CompletedProcess[str]) -> Any:
    return json.loads(result.stdout)


def add_person(portico: Run, name: str) -> str:
    created = portico.setup("user", "create", "--username", name, "--email", f"{name}@example.org",
                      "--password-stdin", "--json", stdin="Correct-horse-1\n")
    return out(created)["id"]


def audit(url: str, prefix: str) -> list[AuditEvent]:
    async def read() -> list[AuditEvent]:
        db = Database(url)
        try:
            async with db.session() as session:
                rows = await session.execute(select(AuditEvent).where(
                    AuditEvent.action.startswith(prefix)).order_by(AuditEvent.id))
                return list(rows.scalars())
        finally:
            await db.dispose()

    return asyncio.run(read())


def test_org_lifecycle(portico: Run):
    ann, mia = add_person(portico, "ann"), add_person(portico, "mia")
    created = out(portico("org", "create", "--name", "Acme", "--owner", "ann", "--json"))
    assert (created["slug"], created["owner"], created["member_count"]) == ("acme", "ann", 1)
    taken = portico("org", "create", "--name", "Other", "--slug", "acme", code=1)
    assert "slug is taken" in taken.stderr

    added = out(portico("org", "add-member", "acme", "--username", "mia", "--json"))
    assert added == {"org": "acme", "user_id": mia, "username": "mia", "role": "member"}
    members = out(portico("org", "members", "acme", "--json"))
    assert [(m["username"], m["role"], m["is_owner"]) for m in members] == [
        ("ann", "admin", True), ("mia", "member", False)]
    assert "mia is now admin in acme" in portico(
        "org", "set-role", "acme", "--username", "mia", "--role", "admin").stdout
    owner = portico("org", "set-role", "acme", "--username", "ann", "--role", "member", code=1)
    assert "transfer ownership first" in owner.stderr

    assert out(portico("org", "transfer", "acme", "--username", "mia", "--json"))["role"] \
        == "admin"
    shown = out(portico("org", "show", "acme", "--json"))
    assert (shown["owner"], shown["admin_count"], shown["member_count"]) == ("mia", 2, 2)
    assert "removed ann from acme" in portico(
        "org", "remove-member", "acme", "--username", ann).stdout  # by id works too
    refused = portico("org", "remove-member", "acme", "--username", "mia", code=1)
    assert "owner cannot be removed" in refused.stderr

    listed = out(portico("org", "list", "--json"))
    assert [(o["slug"], o["member_count"]) for o in listed] == [("default", 2), ("acme", 1)]
    assert "no organization nope" in portico("org", "show", "nope", code=1).stderr
    assert "no user zed" in portico("org", "add-member", "acme", "--username", "zed",
                                    code=1).stderr

    events = audit(portico.url, "org.") + audit(portico.url, "membership.")
    assert sorted(e.action for e in events) == [
        "membership.added", "membership.removed", "membership.role_changed",
        "org.created", "org.ownership_transferred"]
    assert all(e.actor_id is None for e in events)
    assert {e.org_id for e in events} == {created["id"]}


def test_user_update_disable_enable_delete(portico: Run):
    dora = add_person(portico, "dora")
    add_person(portico, "eve")
    updated = out(portico("user", "update", "dora", "--email", "Dora2@Example.org",
                          "--name", "Dora D", "--json"))
    assert (updated["email"], updated["name"], updated["email_verified"]) == (
        "dora2@example.org", "Dora D", False)
    assert "nothing to change" in portico("user", "update", "dora", code=2).stderr
    taken = portico("user", "update", "dora", "--username", "EVE", code=1)
    assert "already in use" in taken.stderr
    bad = portico("user", "update", "dora", "--email", "nope", code=1)
    assert "email" in bad.stderr

    assert out(portico("user", "disable", "dora", "--json"))["disabled"] is True
    assert "enabled dora" in portico("user", "enable", dora).stdout
    listed = {u["username"]: u for u in out(portico("user", "list", "--json"))}
    assert listed["dora"]["disabled"] is False

    assert "--yes" in portico("user", "delete", "dora", code=2).stderr
    assert out(portico("user", "delete", "dora", "--yes", "--json")) == {
        "id": dora, "username": "dora", "deleted": True}
    assert "dora" not in {u["username"] for u in out(portico("user", "list", "--json"))}

    portico("admin", "create", "--username", "root", "--email", "root@example.org",
            "--password-stdin", stdin="Correct-horse-1\n")
    owner = portico("user", "delete", "root", "--yes", code=1)
    assert "transfer ownership first" in owner.stderr

    events = [e for e in audit(portico.url, "user.") if e.target == f"user:{dora}"]
    assert [e.action for e in events] == [
        "user.created_from_cli", "user.updated", "user.disabled", "user.enabled",
        "user.deleted"]
    assert all(e.actor_id is None and e.details["via"] == "cli" for e in events[1:])
    assert events[1].details["changed"] == ["email", "name"]
