"""No secret a test ever used shows up in the audit log or in any log (SPEC, audit:
"Never a password, secret, token or key — only summaries")."""

from __future__ import annotations

import base64
import json
import logging
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from sqlalchemy import text
from tests.conftest import make_settings, start_server
from tests.e2e.browser_login import Browser, params_of
from tests.helpers import pkce

from portico.accounts.api_keys import create_api_key
from portico.accounts.password_change import change_password
from portico.accounts.passwords import PasswordPolicy
from portico.accounts.recovery import generate_recovery_key, recover
from portico.audit.redact import MARKER, redact, scrub_text
from portico.services import build_services
from portico.storage.repositories.users import Users

REDIRECT = "https://rp.example/cb"
PASSWORDS = ["Correct-horse-1", "Wrong-guess-77", "Second-pass-2", "Third-pass-3"]


def test_redact_strips_token_shapes_anywhere() -> None:
    jwt = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2lnbmF0dXJl"
    random43 = "A" * 20 + "-_" + "b" * 21
    details = {
        "note": f"bearer {jwt} and pk_abcdefghijklmnop plus rk_ZYXWVUTSRQPONMLK",
        "nested": {"list": [random43, ("x", f"code={random43}")], "n": 3},
        "password": "hunter2", "client_secret": "s", "user_id": "u1", "auth_method": "basic",
        random43: "name-shaped",
    }
    clean = json.dumps(redact(details))
    for leaked in (jwt, "pk_abcdefghijklmnop", "rk_ZYXWVUTSRQPONMLK", random43, "hunter2"):
        assert leaked not in clean
    assert '"user_id": "u1"' in clean and '"n": 3' in clean and '"auth_method": "basic"' in clean
    assert scrub_text("user:0123456789abcdef0123456789abcdef") == (
        "user:0123456789abcdef0123456789abcdef")  # ids (32 hex) are kept
    assert scrub_text(f"login:{random43}") == f"login:{MARKER}"


def _token(server: Any, client_id: str, secret: str, **form: str) -> dict[str, Any]:
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    response = httpx.post(f"{server.url}/token", data=form,
                          headers={"Authorization": f"Basic {basic}"}, timeout=15)
    return {"status": response.status_code, **response.json()}


async def test_no_secret_reaches_the_audit_log_or_the_logs(
    tmp_path: Path, sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server = start_server(tmp_path, sqlite_url, PORTICO_LOG_LEVEL="debug")
    secrets_used: list[str] = list(PASSWORDS)
    try:
        server.cli("user", "create", "--username", "alice", "--email", "alice@example.org",
                   "--password-stdin", stdin=PASSWORDS[0] + "\n")
        added = json.loads(server.cli(
            "client", "add", "--name", "RP", "--redirect-uri", REDIRECT, "--grant",
            "authorization_code", "--grant", "refresh_token", "--json").stdout)
        client_id, client_secret = added["client_id"], added["client_secret"]
        secrets_used.append(client_secret)

        def authorize_url() -> tuple[str, str]:
            verifier, challenge = pkce()
            query = urlencode({"client_id": client_id, "redirect_uri": REDIRECT,
                               "response_type": "code", "scope": "openid offline_access",
                               "prompt": "consent", "code_challenge": challenge,
                               "code_challenge_method": "S256", "state": "st"})
            return f"{server.url}/authorize?{query}", verifier

        # A wrong password, then the right one, through the hosted pages.
        with Browser(server.url) as browser:
            url, _ = authorize_url()
            refused = browser.sign_in(url, password=PASSWORDS[1])
            assert refused.status_code == 400
        with Browser(server.url) as browser:
            url, verifier = authorize_url()
            callback = browser.sign_in(url, password=PASSWORDS[0])
            cookies = [c.value for c in browser.http.cookies.jar]
        secrets_used += [c for c in cookies if len(c) >= 20]
        code = params_of(callback.headers["location"])["code"]
        secrets_used.append(code)
        tokens = _token(server, client_id, client_secret, grant_type="authorization_code",
                        code=code, redirect_uri=REDIRECT, code_verifier=verifier)
        assert tokens["status"] == 200, tokens
        secrets_used += [tokens["access_token"], tokens["id_token"], tokens["refresh_token"]]
        # Wrong secrets and replays take the error paths, which log too.
        assert _token(server, client_id, client_secret + "x",
                      grant_type="refresh_token",
                      refresh_token=tokens["refresh_token"])["status"] == 401
        refreshed = _token(server, client_id, client_secret, grant_type="refresh_token",
                           refresh_token=tokens["refresh_token"])
        assert refreshed["status"] == 200, refreshed
        secrets_used += [refreshed["access_token"], refreshed["refresh_token"]]
        async with httpx.AsyncClient(timeout=15) as http:
            info = await http.get(f"{server.url}/userinfo",
                                  headers={"Authorization": f"Bearer {refreshed['access_token']}"})
        assert info.status_code == 200
        # A replayed code revokes what it produced (and is refused).
        replay = _token(server, client_id, client_secret, grant_type="authorization_code",
                        code=code, redirect_uri=REDIRECT, code_verifier=verifier)
        assert replay["status"] == 400

        # API key, recovery key (generated and used), password change: the services
        # write to the same database, and the server sees the API key in use.
        settings = make_settings(sqlite_url, tmp_path,
                                 secret_key=server.env["PORTICO_SECRET_KEY"])
        svc = build_services(settings)
        try:
            async with svc.db.session() as session:
                user = await Users(session).find_by_login("alice", "alice@example.org")
            assert user is not None
            key = await create_api_key(svc.db, user, "ci", "read", None, ip="127.0.0.1")
            secrets_used.append(key.secret)
            async with httpx.AsyncClient(timeout=15) as http:
                me = await http.get(f"{server.url}/api/v1/auth/me",
                                    headers={"Authorization": f"Bearer {key.secret}"})
                assert me.status_code == 200, me.text
                bad = await http.get(f"{server.url}/api/v1/auth/me",
                                     headers={"Authorization": f"Bearer {key.secret}x"})
                assert bad.status_code == 401
            recovery = await generate_recovery_key(svc.db, user, ip="127.0.0.1")
            secrets_used.append(recovery)
            await recover(svc.db, recovery, PASSWORDS[2], PasswordPolicy(), rounds=4,
                          ip="127.0.0.1")
            async with svc.db.session() as session:
                user = await Users(session).get(user.id)
            assert user is not None
            await change_password(svc.db, user, PASSWORDS[2], PASSWORDS[3], PasswordPolicy(),
                                  rounds=4, ip="127.0.0.1")
            async with svc.db.session() as session:
                rows = (await session.execute(text("SELECT * FROM audit_events"))).all()
        finally:
            await svc.fetcher.aclose()
            await svc.db.dispose()
    finally:
        server.process.terminate()
        try:
            server.process.wait(10)
        except subprocess.TimeoutExpired:
            server.process.kill()

    actions = {row._mapping["action"] for row in rows}
    assert {"login.failed", "login.succeeded", "api_key.created", "recovery_key.generated",
            "password.recovered", "password.changed"} <= actions, actions
    audit_text = "\n".join(json.dumps(dict(row._mapping), default=str) for row in rows)
    server_log = server.log.read_text(errors="replace")
    assert "POST /token" in server_log and "GET /authorize" in server_log  # captured
    # Portico's own records (and its libraries'); the test's HTTP client logs URLs it built.
    log_text = "\n".join(
        f"{r.name} {r.getMessage()} {r.exc_text or ''}" for r in caplog.records
        if not r.name.startswith(("httpx", "httpcore"))
    )
    for secret in secrets_used:
        assert len(secret) >= 8
        assert secret not in audit_text, f"a secret reached the audit log: {secret[:6]}…"
        assert secret not in server_log, f"a secret reached the server log: {secret[:6]}…"
        assert secret not in log_text, f"a secret reached a log record: {secret[:6]}…"
