"""The OIDF logout plans (RP-initiated, back-channel and front-channel logout) against a
real ``portico serve``: ``python -m conformance --provision`` creates the test user and
the three logout clients through the CLI; the runner's own HTTP server plays the
relying party's post-logout, back-channel and front-channel endpoints."""

from __future__ import annotations

from tests.conformance.support import run_plans

PLANS = "rp-logout,backchannel-logout,frontchannel-logout"


def test_logout_plans_pass(tmp_path, sqlite_url, capsys):
    run = run_plans(tmp_path, sqlite_url, PLANS, capsys)
    assert len(run.expected) == 13
    run.check()
