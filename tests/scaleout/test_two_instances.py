"""Two real ``portico serve`` processes on one PostgreSQL: any request may land on
either, and nothing a person or an operator does on one is missed by the other.

Both instances share the issuer (instance A's URL, as behind one load balancer), the
database and the master key; each is called by its own URL. Skipped without
PORTICO_TEST_DATABASE_URL; under CI=true a missing database is a failure.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from tests.conftest import PG_URL, LiveServer, PgDatabase, PgTemplates, start_server
from tests.e2e.browser_login import EMAIL, PASSWORD, USERNAME, Browser, callback_of, params_of

from portico.crypto.secretbox import new_master_key_text
from portico.crypto.signing_keys import CACHE_SECONDS

if not PG_URL:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("PORTICO_TEST_DATABASE_URL is not set (CI=true, so this is an error)",
                    pytrace=False)
    pytest.skip("needs PORTICO_TEST_DATABASE_URL (PostgreSQL)", allow_module_level=True)

REDIRECT_URI = "https://rp.example/callback"
LOGOUT_URI = "https://rp.example/signed-out"
MAX_ATTEMPTS = 3


@dataclass
class Pair:
    """Instance A and instance B of one deployment, and a registered client."""

    a: LiveServer
    b: LiveServer
    database_url: str
    client: dict[str, Any]

    @property
    def issuer(self) -> str:
        return self.a.url


def stop(*servers: LiveServer) -> None:
    for server in servers:
        server.process.terminate()
    for server in servers:
        try:
            server.process.wait(15)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory, pg_templates: PgTemplates) -> Iterator[Pair]:
    # The schema is a migrated template's copy; test_two_workers_on_one_machine below runs
    # the operator's `portico db upgrade` first.
    pg = pg_templates.clone("migrated")
    url = pg.url
    key = new_master_key_text()
    shared = dict(PORTICO_SECRET_KEY=key, PORTICO_MAX_LOGIN_ATTEMPTS=str(MAX_ATTEMPTS),
                  PORTICO_MAINTENANCE_INTERVAL="1")
    started: list[LiveServer] = []
    try:
        a = start_server(tmp_path_factory.mktemp("a"), url, migrated=True, **shared)
        started.append(a)
        b = start_server(tmp_path_factory.mktemp("b"), url, migrated=True, PORTICO_ISSUER=a.url,
                         **shared)
        started.append(b)
        a.cli("user", "create", "--username", USERNAME, "--email", EMAIL, "--password-stdin",
              stdin=f"{PASSWORD}\n")
        done = a.cli("client", "add", "--name", "Scale-out RP", "--redirect-uri", REDIRECT_URI,
                     "--post-logout-redirect-uri", LOGOUT_URI, "--first-party", "--json")
        yield Pair(a, b, url, json.loads(done.stdout))
    finally:
        stop(*started)
        for server in started:
            log = server.log.read_text(errors="replace")
            assert "Traceback" not in log, f"{server.url} logged an error:\n{log[-4000:]}"
            assert "maintenance pass failed" not in log, log[-4000:]
        pg.drop()


def jwt_header(token: str) -> dict[str, Any]:
    head = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))


def authorize_url(pair: Pair, base: str, **extra: str) -> str:
    verifier = "v" * 50
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    query = {
        "response_type": "code",
        "client_id": pair.client["client_id"],
        "redirect_uri": REDIRECT_URI,
        "scope": "openid profile email offline_access",
        "state": secrets.token_urlsafe(8),
        "nonce": secrets.token_urlsafe(8),
        "code_challenge": challenge.rstrip(b"=").decode(),
        "code_challenge_method": "S256",
        **extra,
    }
    return f"{base}/authorize?{urlencode(query)}"


def token_request(pair: Pair, base: str, **form: str) -> httpx.Response:
    auth = (pair.client["client_id"], pair.client["client_secret"])
    return httpx.post(f"{base}/token", data=form, auth=auth, timeout=15)


def sign_in_on_a_and_redeem_on_b(pair: Pair, browser: Browser) -> dict[str, Any]:
    """The code flow with the browser on A and the token request on B."""
    callback = callback_of(browser.sign_in(authorize_url(pair, pair.a.url)))
    code = params_of(callback)["code"]
    response = token_request(pair, pair.b.url, grant_type="authorization_code", code=code,
                             redirect_uri=REDIRECT_URI, code_verifier="v" * 50)
    assert response.status_code == 200, response.text
    return response.json()


def test_code_on_a_token_on_b_userinfo_on_a(pair: Pair) -> None:
    with Browser(pair.issuer) as browser:
        tokens = sign_in_on_a_and_redeem_on_b(pair, browser)
    info = httpx.get(f"{pair.a.url}/userinfo", timeout=15,
                     headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert info.status_code == 200, info.text
    assert info.json()["email"] == EMAIL
    # Either instance's /jwks verifies the ID token B signed.
    kid = jwt_header(tokens["id_token"])["kid"]
    for server in (pair.a, pair.b):
        assert kid in {k["kid"] for k in httpx.get(f"{server.url}/jwks").json()["keys"]}


def test_refresh_on_b_then_reuse_on_a_kills_the_family(pair: Pair) -> None:
    with Browser(pair.issuer) as browser:
        tokens = sign_in_on_a_and_redeem_on_b(pair, browser)
    first = tokens["refresh_token"]
    rotated = token_request(pair, pair.b.url, grant_type="refresh_token", refresh_token=first)
    assert rotated.status_code == 200, rotated.text
    second = rotated.json()["refresh_token"]
    assert second != first
    reused = token_request(pair, pair.a.url, grant_type="refresh_token", refresh_token=first)
    assert reused.status_code == 400 and reused.json()["error"] == "invalid_grant"
    # The whole family is dead, on both instances.
    for server in (pair.a, pair.b):
        later = token_request(pair, server.url, grant_type="refresh_token", refresh_token=second)
        assert later.status_code == 400 and later.json()["error"] == "invalid_grant"


def test_logout_on_b_ends_the_session_on_a(pair: Pair) -> None:
    with Browser(pair.issuer) as browser:
        tokens = sign_in_on_a_and_redeem_on_b(pair, browser)
        cookie = browser.http.cookies.get("portico_session")
        assert cookie
        # A browser keeps cookies per host; behind a load balancer both instances are one
        # host. Here they are two, so carry the cookie over by hand.
        with httpx.Client(timeout=15, follow_redirects=False) as on_b:
            on_b.cookies.set("portico_session", cookie)
            query = urlencode({"id_token_hint": tokens["id_token"],
                               "post_logout_redirect_uri": LOGOUT_URI})
            out = on_b.get(f"{pair.b.url}/end_session?{query}")
            assert out.status_code in (302, 303), out.text
            assert out.headers["location"].startswith(LOGOUT_URI)
        # Back on A with the same cookie: nobody is signed in any more.
        silent = browser.http.get(authorize_url(pair, pair.a.url, prompt="none"))
        assert silent.is_redirect
        assert params_of(silent.headers["location"]).get("error") == "login_required"


def test_failed_logins_on_both_count_toward_one_lockout(pair: Pair) -> None:
    name = "mallory"
    pair.a.cli("user", "create", "--username", name, "--email", "m@example.org",
               "--password-stdin", stdin=f"{PASSWORD}\n")
    wrong = {"username": name, "password": "Not-the-password-1"}
    servers = [pair.a, pair.b]
    for attempt in range(MAX_ATTEMPTS):
        server = servers[attempt % 2]
        response = httpx.post(f"{server.url}/api/v1/auth/login", json=wrong, timeout=15)
        assert response.status_code == 401
    # Neither instance would have locked on its own count (A saw 2, B saw 1), yet both
    # now refuse the right password.
    right = {"username": name, "password": PASSWORD}
    for server in servers:
        response = httpx.post(f"{server.url}/api/v1/auth/login", json=right, timeout=15)
        assert response.status_code == 401, response.text
    # Exactly one lockout happened in the deployment (on A, which saw the third failure).
    locks = sum(lockouts(server) for server in servers)
    assert locks == 1, locks


def lockouts(server: LiveServer) -> float:
    from prometheus_client.parser import text_string_to_metric_families

    text = httpx.get(f"{server.url}/metrics", timeout=10).text
    return sum(s.value for f in text_string_to_metric_families(text) for s in f.samples
               if s.name == "portico_lockouts_total")


def test_key_rotated_through_a_signs_on_b_and_verifies_on_both(pair: Pair) -> None:
    with Browser(pair.issuer) as browser:
        tokens = sign_in_on_a_and_redeem_on_b(pair, browser)
        old_kid = jwt_header(tokens["id_token"])["kid"]
        pair.a.cli("keys", "rotate", "--alg", "RS256")
        rotated_at = time.monotonic()
        deadline = rotated_at + CACHE_SECONDS + 5
        new_kid = old_kid
        while new_kid == old_kid:
            assert time.monotonic() < deadline, "B still signs with the old key"
            time.sleep(0.5)
            tokens = sign_in_on_a_and_redeem_on_b(pair, browser)
            new_kid = jwt_header(tokens["id_token"])["kid"]
    assert time.monotonic() - rotated_at <= CACHE_SECONDS + 5
    for server in (pair.a, pair.b):
        kids = {k["kid"] for k in httpx.get(f"{server.url}/jwks").json()["keys"]}
        # The new signer is published, and the retired one still is (tokens it signed live on).
        assert {new_kid, old_kid} <= kids, server.url
    info = httpx.get(f"{pair.a.url}/userinfo", timeout=15,
                     headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert info.status_code == 200, info.text


def test_client_removed_on_a_is_refused_by_b_at_once(pair: Pair) -> None:
    done = pair.a.cli("client", "add", "--name", "Short-lived", "--redirect-uri", REDIRECT_URI,
                      "--grant", "client_credentials", "--json")
    doomed = json.loads(done.stdout)
    auth = (doomed["client_id"], doomed["client_secret"])
    before = httpx.post(f"{pair.b.url}/token", data={"grant_type": "client_credentials"},
                        auth=auth, timeout=15)
    assert before.status_code == 200, before.text
    pair.a.cli("client", "remove", doomed["client_id"])
    after = httpx.post(f"{pair.b.url}/token", data={"grant_type": "client_credentials"},
                       auth=auth, timeout=15)
    assert after.status_code == 401 and after.json()["error"] == "invalid_client"


def test_maintenance_runs_concurrently_without_errors(pair: Pair) -> None:
    def run_once() -> dict[str, Any]:
        done = subprocess.run([sys.executable, "-m", "portico", "maintenance", "run", "--json"],
                              env=pair.a.env, cwd=pair.a.env["PORTICO_TEST_CWD"],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)

    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda _: run_once(), range(2)))
    for result in results:
        assert isinstance(result["ran"], bool) and isinstance(result["deleted"], dict)
    # Both servers run the loop every second too: give them a few passes side by side.
    time.sleep(3)
    for server in (pair.a, pair.b):
        assert server.process.poll() is None
        assert httpx.get(f"{server.url}/readyz", timeout=10).status_code == 200


def test_readiness_and_metrics_on_both(pair: Pair) -> None:
    for server in (pair.a, pair.b):
        ready = httpx.get(f"{server.url}/readyz", timeout=10)
        assert ready.status_code == 200, ready.text
        assert "portico_http_requests_total" in httpx.get(f"{server.url}/metrics").text


def test_two_workers_on_one_machine(tmp_path: Path) -> None:
    pg = PgDatabase()
    url = pg.create()
    server = start_server(tmp_path, url, serve_args=("--workers", "2"))
    try:
        pair = Pair(server, server, url, {})
        server.cli("user", "create", "--username", USERNAME, "--email", EMAIL,
                   "--password-stdin", stdin=f"{PASSWORD}\n")
        done = server.cli("client", "add", "--name", "RP", "--redirect-uri", REDIRECT_URI,
                          "--first-party", "--json")
        pair.client = json.loads(done.stdout)
        for _ in range(3):
            # Fresh connections each time, so requests spread over both workers.
            with Browser(server.url) as browser:
                tokens = sign_in_on_a_and_redeem_on_b(pair, browser)
            refreshed = token_request(pair, server.url, grant_type="refresh_token",
                                      refresh_token=tokens["refresh_token"])
            assert refreshed.status_code == 200, refreshed.text
        # Which worker accepts a connection is the kernel's choice (an idle machine often
        # gives every connection to the same one), so spreading is not asserted; what
        # must hold is that every flow works and the metrics add up across workers.
        metrics = httpx.get(f"{server.url}/metrics").text
        assert 'portico_tokens_issued_total{grant_type="refresh_token"} 3.0' in metrics
    finally:
        stop(server)
        pg.drop()
