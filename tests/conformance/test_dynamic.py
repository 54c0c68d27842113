"""The OIDF Dynamic OP plan (``oidcc-dynamic-certification-test-plan``) against a real
``portico serve`` with open dynamic registration: every module registers its own
private_key_jwt client over HTTP, signs the test user in and deregisters the client.
``python -m conformance --provision`` creates the test user through the CLI, here as a
``python -m portico`` subprocess (``--portico-command``; the other plans' tests let the
runner run the CLI in its own process)."""

from __future__ import annotations

import json
import shlex
import sys

from tests.conformance.support import run_plans

# Modules the runner skips, and why (the OIDF modules skip or need a person the same way).
ALLOWED_SKIPS = {
    "oidcc-idtoken-unsigned": "Portico does not offer alg=none ID tokens",
    "oidcc-server-rotate-keys": "the OP's keys are rotated by hand in the suite",
}

# Portico defects this plan finds, asserted so the test notices the fix (none today: a
# jwks_uri missing an assertion's kid is refetched at once, see protocol/fetch.py).
KNOWN_FAILURES: dict[str, str] = {}


def test_dynamic_op_plan_passes(tmp_path, sqlite_url, capsys):
    run = run_plans(tmp_path, sqlite_url, "dynamic-op", capsys,
                    portico_command=shlex.join([sys.executable, "-m", "portico"]),
                    PORTICO_CLIENT_REGISTRATION="open")
    assert "oidcc-registration-sector-bad" in run.expected
    run.check(known_failures=KNOWN_FAILURES, allowed_skips=ALLOWED_SKIPS)
    # Every module deregistered what it registered (RFC 7592 §2.3).
    left = [c["name"] for c in json.loads(run.cli("client", "list", "--json"))
            if c["name"].startswith("oidcc conformance")]
    assert left == []
