"""``portico registration token create|list|revoke``: the forms operators' scripts use."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from portico.cli import main
from portico.crypto.secretbox import new_master_key_text


@pytest.fixture
def cli(tmp_path):
    env = {
        "PORTICO_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'p.db'}",
        "PORTICO_KEYS_DIR": str(tmp_path / "keys"),
        "PORTICO_SECRET_KEY": new_master_key_text(),
        "PORTICO_ISSUER": "https://id.example.com",
        "PORTICO_BCRYPT_ROUNDS": "4",
        "PORTICO_CONFIG": str(tmp_path / "none.toml"),
    }
    runner = CliRunner()

    def run(*args, stdin=None, ok=True):
        result = runner.invoke(main, list(args), input=stdin, env=env)
        assert (result.exit_code == 0) == ok, result.output
        return result

    run("init")
    run("user", "create", "--username", "alice", "--email", "alice@example.org",
        "--password-stdin", stdin="Correct-horse-1\n")
    return run


def test_create_list_revoke(cli):
    made = json.loads(cli("registration", "token", "create", "--org", "default",
                          "--description", "ci", "--max-uses", "3", "--expires-in", "600",
                          "--json").output)
    assert made["token"].startswith("iat_") and made["status"] == "active"
    assert made["max_uses"] == 3 and made["organization_id"]
    human = cli("registration", "token", "create").output
    assert "shown once" in human and "iat_" in human
    listed = json.loads(cli("registration", "token", "list", "--json").output)
    assert [t["id"] for t in listed][0] == made["id"] and len(listed) == 2
    assert all("token" not in t for t in listed)
    assert "active" in cli("registration", "token", "list", "--org", "default").output
    cli("registration", "token", "revoke", made["id"])
    listed = json.loads(cli("registration", "token", "list", "--json").output)
    assert listed[0]["status"] == "revoked"
    assert "No such registration token" in cli("registration", "token", "revoke", "nope",
                                                ok=False).output
    assert "no such organization" in cli("registration", "token", "create", "--org", "nope",
                                         ok=False).output
    cli("registration", "token", "create", "--max-uses", "0", ok=False)
