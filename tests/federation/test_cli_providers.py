"""``portico provider add|list|test|remove`` with SPEC §5's exact flags, against the
real upstream Portico; the secret goes in on stdin and never comes out."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from tests.federation.conftest import Upstream

from portico.cli import main


@pytest.fixture
def cli(tmp_path):
    env = {
        "PORTICO_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'p.db'}",
        "PORTICO_KEYS_DIR": str(tmp_path / "keys"),
        "PORTICO_CONFIG": str(tmp_path / "none.toml"),
        "PORTICO_ISSUER": "http://127.0.0.1:8000",
    }
    runner = CliRunner()

    def run(*args, stdin=None, code=0):
        result = runner.invoke(main, list(args), input=stdin, env=env)
        assert result.exit_code == code, result.output
        return result

    run("init")
    return run


def test_add_list_test_and_remove_a_provider(cli, upstream: Upstream):
    added = cli("provider", "add", "--slug", "upstream", "--kind", "oidc",
                "--issuer", upstream.issuer, "--client-id", upstream.client_id,
                "--client-secret-stdin", "--scope", "openid email", "--scope", "profile",
                "--allow-signup", "--trust-email-for-linking", "--json",
                stdin=upstream.client_secret + "\n")
    view = json.loads(added.output)
    assert view["scopes"] == ["openid", "email", "profile"] and view["allow_signup"] is True
    assert view["trust_email_for_linking"] is True and view["has_client_secret"] is True
    assert view["callback_url"] == "http://127.0.0.1:8000/api/v1/external-auth/upstream/callback"

    listed = json.loads(cli("provider", "list", "--json").output)
    assert [p["slug"] for p in listed] == ["upstream"]
    report = json.loads(cli("provider", "test", "upstream", "--json").output)
    assert report["ok"] is True, report
    human = cli("provider", "test", "upstream").output
    assert "ok   client_credentials" in human
    for output in (added.output, json.dumps(listed), json.dumps(report), human):
        assert upstream.client_secret not in output

    assert cli("provider", "remove", "upstream").output.strip() == "removed upstream"
    assert json.loads(cli("provider", "list", "--json").output) == []


def test_a_failing_test_exits_non_zero_and_bad_input_is_explained(cli):
    cli("provider", "add", "--slug", "gone", "--kind", "oidc", "--issuer",
        "http://127.0.0.1:9", "--client-id", "x")
    failed = cli("provider", "test", "gone", code=1)
    assert "FAIL discovery" in failed.output
    bad = cli("provider", "add", "--slug", "nope", "--kind", "oidc", "--client-id", "x", code=1)
    assert "issuer" in bad.output
    cli("provider", "add", "--slug", "nope", "--kind", "saml", "--client-id", "x", code=2)
    cli("provider", "remove", "missing", code=1)
