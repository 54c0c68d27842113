"""panva's oidc-provider (npm) as the upstream: discovery, PKCE, RFC 9207 ``iss``,
userinfo, a new person then a returning one, and the admin test. Runs when ``node``
is present (CI has it); oidc-provider is installed into tests/.cache/node."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest
from sqlalchemy import select
from tests.conftest import REPO, free_port, node_cache_lock
from tests.e2e.browser_login import forms_of
from tests.federation.support import DOWNSTREAM, add_provider, local
from tests.helpers import services_of

from portico.storage.models import FederatedIdentity, Session, User

NODE_DIR = REPO / "tests" / ".cache" / "node"
HERE = Path(__file__).resolve().parent
CLIENT_ID, CLIENT_SECRET = "portico", "oidc-provider-secret-0123456789-abcdef"
SLUG = "panva"


def _missing(what: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} (CI=true)")
    pytest.skip(what)


@pytest.fixture(scope="module")
def panva() -> Iterator[str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        _missing("node is not installed")
    with node_cache_lock():  # xdist workers share the folder
        if not (NODE_DIR / "node_modules" / "oidc-provider").exists():
            NODE_DIR.mkdir(parents=True, exist_ok=True)
            done = subprocess.run([npm, "install", "--prefix", str(NODE_DIR), "--no-audit",
                                   "--no-fund", "oidc-provider@9"], capture_output=True,
                                  text=True, timeout=300)
            if done.returncode != 0:
                _missing(f"npm could not install oidc-provider:\n{done.stderr[-2000:]}")
    port = free_port()
    env = {**os.environ, "PORT": str(port), "CLIENT_ID": CLIENT_ID,
           "CLIENT_SECRET": CLIENT_SECRET, "PACKAGE_JSON": str(NODE_DIR / "package.json"),
           "REDIRECT_URIS": f"{DOWNSTREAM}/api/v1/external-auth/{SLUG}/callback"}
    process = subprocess.Popen([node, str(HERE / "oidc_provider_upstream.mjs")], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    issuer = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise RuntimeError(process.stdout.read().decode() if process.stdout else "")
            try:
                if httpx.get(f"{issuer}/.well-known/openid-configuration").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        yield issuer
    finally:
        process.terminate()
        process.wait(10)


def _sign_in_at_panva(url: str, login: str) -> str:
    """Walk oidc-provider's development login and consent; the callback URL."""
    with httpx.Client(follow_redirects=False, timeout=10) as http:
        response = http.get(url)
        for _ in range(12):
            if response.is_redirect:
                target = urljoin(str(response.url), response.headers["location"])
                if target.startswith(DOWNSTREAM):
                    return target
                response = http.get(target)
                continue
            form = next(f for f in forms_of(response.text) if f.method == "post")
            data = dict(form.fields)
            if "login" in data or 'name="login"' in response.text:
                data.update(login=login, password="anything")
            response = http.post(urljoin(str(response.url), form.action), data=data)
    raise AssertionError("oidc-provider never sent the browser back")


def _body(panva: str) -> dict:
    return {"slug": SLUG, "display_name": "Panva OP", "kind": "oidc", "issuer": panva,
            "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "allow_signup": True}


async def _round_trip(app, login: str):
    client = app.test_client()
    begun = await client.get(f"/api/v1/external-auth/{SLUG}/start")
    assert begun.status_code == 302, await begun.get_data(as_text=True)
    callback = await asyncio.to_thread(_sign_in_at_panva, begun.headers["Location"], login)
    assert "iss=" in callback  # RFC 9207: oidc-provider names itself in the response
    return await client.get(local(callback))


async def test_a_new_then_returning_person_through_oidc_provider(app, panva: str):
    await add_provider(app, _body(panva))
    first = await _round_trip(app, "dana")
    assert first.status_code == 303, await first.get_data(as_text=True)
    second = await _round_trip(app, "dana")
    assert second.status_code == 303
    async with services_of(app).db.session() as s:
        users = list(await s.scalars(select(User)))
        identities = list(await s.scalars(select(FederatedIdentity)))
        sessions = list(await s.scalars(select(Session)))
    assert [(u.username, u.email, u.email_verified, u.name) for u in users] == [
        ("dana", "dana@oidc-provider.example", True, "Dana Panva")]
    assert [i.subject for i in identities] == ["dana"]
    assert len(sessions) == 2 and all(x.amr[0] == "fed" for x in sessions)


async def test_the_admin_test_passes_against_oidc_provider(app, panva: str):
    from portico.federation.kinds import get_kind
    from portico.federation.probe import run_probe
    from portico.federation.providers import provider_config

    row = await add_provider(app, _body(panva))
    svc = services_of(app)
    connector = get_kind("oidc").factory(provider_config(row, svc.box, 10.0))
    checks = await run_probe(connector, f"{DOWNSTREAM}/api/v1/external-auth/{SLUG}/callback")
    by_name = {c.name: c for c in checks}
    assert all(c.ok is not False for c in checks), checks
    assert by_name["client_credentials"].ok is True
