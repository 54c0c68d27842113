"""``portico user reset-password``: a temporary password, shown once, that must be changed."""

from __future__ import annotations

import asyncio
import json

from click.testing import CliRunner

from portico.accounts.passwords import PasswordPolicy
from portico.cli import main
from portico.services import build_services
from portico.settings import load_settings
from portico.storage.repositories.users import Users


def test_reset_password_prints_a_temporary_password_once(tmp_path, monkeypatch):
    env = {
        "PORTICO_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'p.db'}",
        "PORTICO_KEYS_DIR": str(tmp_path / "keys"),
        "PORTICO_BCRYPT_ROUNDS": "4",
        "PORTICO_CONFIG": str(tmp_path / "none.toml"),
    }
    runner = CliRunner()

    def run(*args: str, stdin: str | None = None, code: int = 0) -> str:
        result = runner.invoke(main, list(args), input=stdin, env=env)
        assert result.exit_code == code, result.output
        return result.output

    run("init")
    created = json.loads(run("user", "create", "--username", "Dana", "--email", "dana@example.org",
                             "--password-stdin", "--json", stdin="Dana-pass-1\n"))
    out = json.loads(run("user", "reset-password", "dana", "--json"))
    assert out["id"] == created["id"] and out["must_change_password"] is True
    assert not PasswordPolicy().problems(out["temporary_password"])
    human = run("user", "reset-password", created["id"])
    assert "shown only this once" in human and out["temporary_password"] not in human
    assert "no user nobody" in run("user", "reset-password", "nobody", code=1)

    for key, value in env.items():
        monkeypatch.setenv(key, value)

    async def flagged() -> bool:
        svc = build_services(load_settings())
        try:
            async with svc.db.session() as session:
                return (await Users(session).get(created["id"])).must_change_password
        finally:
            await svc.fetcher.aclose()
            await svc.db.dispose()

    assert asyncio.run(flagged())
