"""Running one or more OIDF plans of Portico's conformance runner against a real
``portico serve`` and judging the report, the same way for every plan's test."""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from tests.cli_runner import run_cli
from tests.conftest import REPO, start_server


@dataclass
class PlanRun:
    """What ``python -m conformance`` listed, answered and reported."""

    expected: list[str]
    proc: subprocess.CompletedProcess[str]
    report: dict[str, Any]
    env: dict[str, str]  # the server's environment and directory, for CLI calls after
    cwd: Path

    def cli(self, *args: str) -> str:
        """``portico …`` against the (stopped) server's database; its stdout."""
        return run_cli(args, env=self.env, cwd=self.cwd).stdout

    @property
    def modules(self) -> dict[str, dict[str, Any]]:
        return {r["name"]: r for r in self.report["modules"]}

    def notes(self) -> str:
        return " ".join(n for r in self.report["modules"] for n in r["notes"])

    def check(self, *, known_failures: dict[str, str] | None = None,
              allowed_skips: dict[str, str] | None = None, max_seconds: float = 60) -> None:
        """Every listed module ran; nothing failed but the known failures (each with the
        words it is known by), nothing skipped but the allowed skips; in time."""
        known_failures = known_failures or {}
        by_name = self.modules
        assert list(by_name) == self.expected
        failed = {n: r["failures"] for n, r in by_name.items() if r["status"] == "FAIL"}
        for name, words in known_failures.items():
            assert words in " ".join(
                failed.pop(name, ["(it passed: drop it from the known failures)"]))
        assert not failed, json.dumps(failed, indent=2)
        skipped = {n: r["reason"] for n, r in by_name.items() if r["status"] == "SKIPPED"}
        assert set(skipped) <= set(allowed_skips or {}), skipped
        assert self.proc.returncode == (1 if known_failures else 0), self.proc.stderr
        assert self.report["seconds"] < max_seconds


def run_plans(tmp_path: Path, database_url: str, plans: str, capsys: pytest.CaptureFixture[str],
              *, migrated: bool = False, portico_command: str | None = None,
              **server_env: str) -> PlanRun:
    """Serve Portico with ``server_env``, provision through the CLI and run ``plans``.

    ``migrated``: the database already has the schema (see ``start_server``).
    ``portico_command``: how the runner runs the CLI (``--portico-command``); by default
    it runs Portico's CLI in its own process."""
    server = start_server(tmp_path, database_url, migrated=migrated, **server_env)
    report = tmp_path / "report.json"
    try:
        env = dict(server.env, PYTHONPATH=str(REPO))  # type: ignore[arg-type]
        listing = subprocess.run(
            [sys.executable, "-m", "conformance", "--list", "--plan", plans],
            env=env, cwd=tmp_path, capture_output=True, text=True, check=True)
        expected = [line.split()[0] for line in listing.stdout.splitlines() if line.strip()]
        command = ["--portico-command", portico_command] if portico_command else []
        proc = subprocess.run(
            [sys.executable, "-m", "conformance", "--issuer", server.url, "--provision",
             *command, "--plan", plans, "--report", str(report)],
            env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False)
    finally:
        server.process.terminate()
        try:
            server.process.wait(10)
        except subprocess.TimeoutExpired:
            server.process.kill()
    with capsys.disabled():
        print("\n" + proc.stdout)
        if proc.returncode not in (0, 1):
            print(proc.stderr, file=sys.stderr)
    assert report.exists(), f"no report (exit {proc.returncode}):\n{proc.stderr}"
    return PlanRun(expected, proc, json.loads(report.read_text()), env, tmp_path)
