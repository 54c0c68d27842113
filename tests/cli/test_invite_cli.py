"""``portico invite create|list|cancel|link``: the forms operators' scripts use."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli.conftest import Cli, instance_with_alice


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return instance_with_alice(tmp_path)


def test_create_prints_the_link_and_list_shows_the_invite(cli):
    made = json.loads(cli("invite", "create", "--org", "default", "--email", "Bob@Example.org",
                          "--role", "admin", "--json").output)
    assert made["email"] == "bob@example.org" and made["role"] == "admin"
    assert made["organization"] == "default" and made["status"] == "pending"
    assert made["link"].startswith("https://id.example.com/invite/")
    assert made["emailed"] is False
    human = cli("invite", "create", "--org", "default", "--email", "carol@example.org").output
    assert "invited carol@example.org to default as member" in human
    assert "https://id.example.com/invite/" in human

    listed = json.loads(cli("invite", "list", "--json").output)
    assert [r["email"] for r in listed] == ["carol@example.org", "bob@example.org"]
    assert all("link" not in r for r in listed)
    assert made["link"].rsplit("/", 1)[1] not in cli("invite", "list").output
    only = json.loads(cli("invite", "list", "--org", "default", "--status", "pending",
                          "--json").output)
    assert len(only) == 2


def test_link_and_cancel(cli):
    made = json.loads(cli("invite", "create", "--org", "default", "--email", "d@example.org",
                          "--json").output)
    assert cli("invite", "link", made["id"]).output.strip() == made["link"]
    assert json.loads(cli("invite", "link", made["id"], "--json").output)["link"] == made["link"]
    assert f"cancelled {made['id']}" in cli("invite", "cancel", made["id"]).output
    gone = cli("invite", "link", made["id"], ok=False)
    assert "cancelled" in gone.output
    listed = json.loads(cli("invite", "list", "--status", "cancelled", "--json").output)
    assert [r["id"] for r in listed] == [made["id"]]


def test_mistakes_are_clear_errors(cli):
    cli("invite", "create", "--org", "default", "--email", "e@example.org")
    dup = cli("invite", "create", "--org", "default", "--email", "e@example.org", ok=False)
    assert "already invited" in dup.output
    member = cli("invite", "create", "--org", "default", "--email", "alice@example.org",
                 ok=False)
    assert "already a member" in member.output
    unknown = cli("invite", "create", "--org", "nope", "--email", "f@example.org", ok=False)
    assert "no such organization" in unknown.output
    bad = cli("invite", "create", "--org", "default", "--email", "not-an-email", ok=False)
    assert "invalid email" in bad.output
    assert "No such invite" in cli("invite", "cancel", "0" * 32, ok=False).output
    assert "Traceback" not in bad.output + unknown.output
