"""``portico client add --org`` and ``portico audit tail`` filters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.cli.conftest import Cli, cli_runner

WEB = ("--name", "App", "--redirect-uri", "https://app.example/cb")


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    run = cli_runner(tmp_path)
    run("init")
    run("admin", "create", "--username", "root", "--email", "root@example.org",
        "--password-stdin", stdin="Admin-pass-1\n")
    return run


def test_client_add_with_an_organization(cli):
    mine = json.loads(cli("client", "add", *WEB, "--org", "default", "--json").output)
    instance = json.loads(cli("client", "add", *WEB, "--json").output)
    listed = {c["client_id"]: c for c in json.loads(cli("client", "list", "--json").output)}
    assert listed[mine["client_id"]]["org_id"] and listed[instance["client_id"]]["org_id"] is None
    tail = json.loads(cli("audit", "tail", "--action", "client.*", "--json").output)
    assert [e["action"] for e in tail] == ["client.created", "client.created"]
    assert tail[0]["org_id"] == listed[mine["client_id"]]["org_id"]
    assert mine["client_secret"] not in json.dumps(tail)


def test_an_unknown_organization_is_a_clean_error(cli):
    result = cli("client", "add", *WEB, "--org", "nope", ok=False)
    assert result.exit_code == 1 and "no such organization" in result.output
    assert "Traceback" not in result.output
    assert json.loads(cli("client", "list", "--json").output) == []


def test_bad_metadata_names_the_field(cli):
    result = cli("client", "add", "--name", "App", "--redirect-uri", "http://app.example/cb",
                 ok=False)
    assert result.exit_code == 1 and "redirect_uris.0" in result.output


def test_client_remove_is_audited_and_spares_the_built_in_client(cli):
    made = json.loads(cli("client", "add", *WEB, "--json").output)
    assert "removed" in cli("client", "remove", made["client_id"]).output
    again = cli("client", "remove", made["client_id"], ok=False)
    assert again.exit_code == 1 and "No such client" in again.output
    builtin = cli("client", "remove", "portico", ok=False)
    assert builtin.exit_code == 1 and "cannot be removed" in builtin.output
    tail = json.loads(cli("audit", "tail", "--action", "client.removed", "--json").output)
    assert [e["details"]["via"] for e in tail] == ["cli"]


def test_audit_tail_filters_by_organization_and_outcome(cli):
    cli("client", "add", *WEB, "--org", "default")
    cli("client", "add", *WEB)
    by_org = json.loads(cli("audit", "tail", "--org", "default", "--json").output)
    assert {e["org_id"] for e in by_org} == {by_org[0]["org_id"]}
    assert "client.created" in [e["action"] for e in by_org]
    assert json.loads(cli("audit", "tail", "--outcome", "failure", "--json").output) == []
    unknown = cli("audit", "tail", "--org", "nope", ok=False)
    assert unknown.exit_code == 1 and "no such organization" in unknown.output


def test_client_add_can_require_par_and_dpop(cli):
    made = json.loads(cli("client", "add", *WEB, "--require-par", "--dpop-bound",
                          "--json").output)
    plain = json.loads(cli("client", "add", *WEB, "--json").output)
    shown = json.loads(cli("client", "show", made["client_id"], "--json").output)
    assert shown["require_pushed_authorization_requests"] is True
    assert shown["dpop_bound_access_tokens"] is True
    other = json.loads(cli("client", "show", plain["client_id"], "--json").output)
    assert other["require_pushed_authorization_requests"] is False
