"""The OIDF Implicit, Hybrid and Form Post OP plans against a real ``portico serve``.

One server per plan, one ``python -m conformance --provision --plan …`` subprocess (it
registers the test user and clients with the response types the plan needs, through
the CLI). Each plan runs every variant the OIDF plan has (``--plan "hybrid[code
token]"`` would run one). The two modules that only
wait (``oidcc-codereuse-30seconds`` sleeps 30 s; the Basic plan's test runs it) are
skipped here to keep each plan well under a minute; everything else must pass.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from tests.conftest import REPO, start_server

SLOW = ["oidcc-codereuse-30seconds"]
ALLOWED_SKIPS = {"oidcc-idtoken-unsigned"}
# The variants each OIDF plan is run with (``--plan`` takes them one by one).
VARIANTS = {
    "implicit": {"implicit[id_token]", "implicit[id_token token]"},
    "hybrid": {"hybrid[code id_token]", "hybrid[code token]", "hybrid[code id_token token]"},
    "formpost": {"formpost[form_post]"},
}


def run_plan(tmp_path: Path, sqlite_url: str, plan: str, skip: list[str]) -> tuple[dict, str]:
    server = start_server(tmp_path, sqlite_url)
    try:
        env = dict(server.env, PYTHONPATH=str(REPO))
        report = tmp_path / "conformance.json"
        args = [sys.executable, "-m", "conformance", "--issuer", server.url, "--provision",
                "--plan", plan, "--report", str(report)]
        for name in skip:
            args += ["--skip", name]
        proc = subprocess.run(args, env=env, cwd=tmp_path, capture_output=True, text=True,
                              timeout=600, check=False)
    finally:
        server.process.terminate()
        try:
            server.process.wait(10)
        except subprocess.TimeoutExpired:
            server.process.kill()
    assert report.exists(), f"no report (exit {proc.returncode}):\n{proc.stderr}"
    return json.loads(report.read_text()), proc.stdout


@pytest.mark.parametrize("plan", sorted(VARIANTS))
def test_front_channel_plans_pass(tmp_path, sqlite_url, capsys, plan):
    report, table = run_plan(tmp_path, sqlite_url, plan, SLOW)
    with capsys.disabled():
        print("\n" + table)
    results = report["modules"]
    assert {r["plan"] for r in results} == VARIANTS[plan]
    failed = {f"{r['plan']} {r['name']}": r["failures"] for r in results
              if r["status"] == "FAIL"}
    assert not failed, json.dumps(failed, indent=2)
    skipped = {r["name"] for r in results if r["status"] == "SKIPPED"}
    assert skipped <= ALLOWED_SKIPS, skipped
    for variant in VARIANTS[plan]:
        names = [r["name"] for r in results if r["plan"] == variant]
        assert SLOW[0] not in names and len(names) == len(set(names))
        returns = variant.partition("[")[2].rstrip("]").split()
        assert ("oidcc-ensure-request-without-nonce-fails" in names) == ("id_token" in returns)
        assert ("oidcc-codereuse" in names) == ("code" in returns or returns == ["form_post"])
