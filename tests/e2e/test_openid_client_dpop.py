"""panva's openid-client (npm, v6) as a public client using DPoP against a real Portico
server that requires DPoP nonces: a DPoP-bound code flow (``dpop_jkt``), UserInfo with
the DPoP scheme, and refresh with a key-bound refresh token (RFC 9449 §5, §7, §8-10)."""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.conftest import LiveServer, start_server
from tests.e2e.browser_login import EMAIL, PASSWORD, USERNAME, Browser, callback_of
from tests.e2e.test_openid_client_rp import STEP_TIMEOUT, NodeRP, openid_client_prefix

SCRIPT = Path(__file__).with_name("openid_client_dpop.mjs")
REDIRECT_URI = "https://rp.example/callback"

__all__ = ["openid_client_prefix"]


class DpopRP(NodeRP):
    """The DPoP script as a subprocess, spoken to like ``NodeRP``."""

    def __init__(self, prefix: Path, log: Path) -> None:
        self.log = log
        self.process = subprocess.Popen(
            [shutil.which("node") or "node", str(SCRIPT)],
            env={**os.environ, "OPENID_CLIENT_PREFIX": str(prefix)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log.open("w"),
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()


@pytest.fixture
def nonce_server(tmp_path: Path, sqlite_url: str) -> Iterator[LiveServer]:
    """A real Portico that requires server-provided DPoP nonces."""
    server = start_server(tmp_path, sqlite_url, PORTICO_DPOP_REQUIRE_NONCE="true")
    server.cli("user", "create", "--username", USERNAME, "--email", EMAIL, "--password-stdin",
               stdin=f"{PASSWORD}\n")
    yield server
    server.process.terminate()
    try:
        server.process.wait(10)
    except subprocess.TimeoutExpired:
        server.process.kill()


def test_openid_client_completes_a_dpop_bound_flow(nonce_server, openid_client_prefix, tmp_path):
    registered = json.loads(nonce_server.cli(
        "client", "add", "--name", "openid-client DPoP", "--redirect-uri", REDIRECT_URI,
        "--auth-method", "none", "--first-party", "--json").stdout)
    rp = DpopRP(openid_client_prefix, tmp_path / "node.log")
    try:
        rp.send({"issuer": nonce_server.url, "client_id": registered["client_id"],
                 "redirect_uri": REDIRECT_URI})
        with Browser(nonce_server.url) as person:
            visit = rp.receive()["visit"]
            rp.send({"location": callback_of(person.sign_in(visit))})
        message = rp.receive()
        assert rp.process.wait(STEP_TIMEOUT) == 0
    finally:
        rp.close()
    results = message["done"]

    assert "ES256" in results["dpop_algs"]
    # openid-client normalises token_type to lower case.
    assert results["token"] == {"token_type": "dpop", "has_refresh_token": True}
    assert results["userinfo"]["email"] == EMAIL
    assert results["bearer_error"] == "invalid_token"
    assert results["other_key_refresh_error"] == "invalid_grant"
    assert results["refresh"]["rotated"] is True
    assert results["refresh"]["token_type"].lower() == "dpop"
    assert results["refresh"]["userinfo_sub"] == results["userinfo"]["sub"]
    assert results["cnf"] == {"jkt": results["jkt"]}
