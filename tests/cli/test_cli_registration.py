"""``portico registration token create|list|revoke``: the forms operators' scripts use."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli.conftest import Cli, instance_with_alice


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return instance_with_alice(tmp_path)


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
