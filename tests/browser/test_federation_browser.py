"""Signing in to an application through an upstream provider, in a real browser:
an admin adds the upstream with the CLI and tests it, then a person clicks "Sign in
with …" — as a new user, then as a returning one — through a second Portico and
through panva's oidc-provider (when node is present).

The servers here are this module's own (a downstream Portico and its upstreams), so
the shared portal's login page never grows buttons other tests do not expect.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect
from tests.browser.support import RelyingParty, sign_in
from tests.conftest import REPO, LiveServer, free_port, node_cache_lock, start_server

PASSWORD = "Upstream-pass-1"
NODE_DIR = REPO / "tests" / ".cache" / "node"
PANVA_JS = REPO / "tests" / "federation" / "oidc_provider_upstream.mjs"
PANVA_SECRET = "oidc-provider-secret-0123456789-abcdef"


@dataclass
class World:
    downstream: LiveServer
    upstream: LiveServer
    client_id: str
    panva: subprocess.Popen[bytes] | None = None
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def authorize_url(self, rp: RelyingParty, state: str) -> str:
        return f"{self.downstream.url}/authorize?" + urlencode({
            "client_id": self.client_id, "redirect_uri": rp.redirect_uri,
            "response_type": "code", "scope": "openid email profile", "state": state})

    def users(self) -> list[dict]:
        return json.loads(self.downstream.cli("user", "list", "--json").stdout)


def _seed_upstream(upstream: LiveServer, callback: str) -> tuple[str, str]:
    from portico.accounts.passwords import PasswordPolicy
    from portico.accounts.users import create_user
    from portico.clients import register_client
    from portico.services import build_services
    from portico.settings import Settings

    env = upstream.env

    async def seed() -> tuple[str, str]:
        svc = build_services(Settings(
            issuer=env["PORTICO_ISSUER"], database_url=env["PORTICO_DATABASE_URL"],
            keys_dir=env["PORTICO_KEYS_DIR"], secret_key=env["PORTICO_SECRET_KEY"],
            insecure_cookies=True, bcrypt_rounds=4))
        try:
            await create_user(svc.db, username="uma", email="uma@upstream.example",
                              password=PASSWORD, policy=PasswordPolicy(), rounds=4,
                              email_verified=True, name="Uma Upstream")
            reg = await register_client(svc.db, name="Downstream", first_party=True,
                                        redirect_uris=[callback])
            assert reg.secret
            return reg.client.id, reg.secret
        finally:
            await svc.fetcher.aclose()
            await svc.db.dispose()

    return asyncio.run(seed())


def _start_panva(downstream: LiveServer) -> tuple[subprocess.Popen[bytes], str] | None:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        return None
    with node_cache_lock():  # xdist workers share the folder
        if not (NODE_DIR / "node_modules" / "oidc-provider").exists():
            subprocess.run([npm, "install", "--prefix", str(NODE_DIR), "--no-audit", "--no-fund",
                            "oidc-provider@9"], check=True, capture_output=True, timeout=300)
    port = free_port()
    env = {**os.environ, "PORT": str(port), "CLIENT_ID": "portico",
           "CLIENT_SECRET": PANVA_SECRET, "PACKAGE_JSON": str(NODE_DIR / "package.json"),
           "REDIRECT_URIS": f"{downstream.url}/api/v1/external-auth/panva/callback"}
    process = subprocess.Popen([node, str(PANVA_JS)], env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    issuer = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            if httpx.get(f"{issuer}/.well-known/openid-configuration").status_code == 200:
                return process, issuer
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("oidc-provider did not start")


def _build(base: Path, rp: RelyingParty) -> World:
    downstream = start_server(base / "down", f"sqlite+aiosqlite:///{base / 'down.db'}")
    upstream = start_server(base / "up", f"sqlite+aiosqlite:///{base / 'up.db'}")
    world = World(downstream, upstream, "", processes=[downstream.process, upstream.process])
    client_id, secret = _seed_upstream(
        upstream, f"{downstream.url}/api/v1/external-auth/upstream/callback")
    # What an admin does (docs/federation.md): add the upstream with the CLI, test it.
    downstream.cli("provider", "add", "--slug", "upstream", "--kind", "oidc",
                   "--issuer", upstream.url, "--client-id", client_id,
                   "--client-secret-stdin", "--allow-signup", "--display-name", "Upstream ID",
                   stdin=secret + "\n")
    downstream.cli("provider", "test", "upstream")
    started = _start_panva(downstream)
    if started is not None:
        world.panva, issuer = started
        world.processes.append(world.panva)
        downstream.cli("provider", "add", "--slug", "panva", "--kind", "oidc", "--issuer",
                       issuer, "--client-id", "portico", "--client-secret-stdin",
                       "--allow-signup", "--display-name", "Panva OP",
                       stdin=PANVA_SECRET + "\n")
        downstream.cli("provider", "test", "panva")
    added = downstream.cli("client", "add", "--name", "Acme Notes", "--redirect-uri",
                           rp.redirect_uri, "--json")
    world.client_id = json.loads(added.stdout)["client_id"]
    return world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, _rp_server: RelyingParty) -> Iterator[World]:
    base = tmp_path_factory.mktemp("federation")
    (base / "down").mkdir()
    (base / "up").mkdir()
    # In a thread of its own: Playwright's sync API owns this thread's event loop.
    with ThreadPoolExecutor(1) as pool:
        built = pool.submit(_build, base, _rp_server).result()
    yield built
    for process in built.processes:
        process.terminate()
    for process in built.processes:
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()


def _through_portico_upstream(page: Page, world: World, rp: RelyingParty, state: str,
                              consent: bool) -> None:
    page.goto(world.authorize_url(rp, state))
    page.get_by_role("link", name="Sign in with Upstream ID").click()
    page.wait_for_url(f"{world.upstream.url}/login?**")
    sign_in(page, "uma", PASSWORD)
    if consent:
        page.wait_for_url(f"{world.downstream.url}/consent?**")
        expect(page.get_by_role("heading")).to_contain_text("Acme Notes")
        page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{rp.redirect_uri}?**")
    assert rp.last["params"]["state"] == state and rp.last["params"]["code"]


def test_a_new_then_returning_person_signs_in_through_another_portico(
        new_context: Callable[..., BrowserContext], world: World, rp: RelyingParty):
    first = new_context().new_page()
    _through_portico_upstream(first, world, rp, "first", consent=True)
    assert [(u["username"], u["email"]) for u in world.users()] == [
        ("uma", "uma@upstream.example")]

    again = new_context().new_page()  # another browser: signs in upstream again
    _through_portico_upstream(again, world, rp, "again", consent=False)
    assert len(world.users()) == 1


def test_a_person_signs_in_through_oidc_provider(
        new_context: Callable[..., BrowserContext], world: World, rp: RelyingParty):
    if world.panva is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail("node is missing (CI=true)")
        pytest.skip("node is not installed")
    for state, consent in (("panva-1", True), ("panva-2", False)):
        page = new_context().new_page()
        # oidc-provider's development pages @import a web font; nothing leaves loopback.
        page.route(re.compile(r"^https://"), lambda route: route.abort())
        page.goto(world.authorize_url(rp, state))
        page.get_by_role("link", name="Sign in with Panva OP").click()
        page.locator("input[name=login]").fill("erin")
        page.locator("input[name=password]").fill("anything")
        page.get_by_role("button", name="Sign-in").click()
        page.get_by_role("button", name="Continue").click()
        if consent:
            page.wait_for_url(f"{world.downstream.url}/consent?**")
            page.get_by_role("button", name="Allow").click()
        page.wait_for_url(f"{rp.redirect_uri}?**")
        assert rp.last["params"]["state"] == state
    emails = [u["email"] for u in world.users()]
    assert emails.count("erin@oidc-provider.example") == 1


def test_the_federation_pages_are_accessible(
        a11y_context: BrowserContext, assert_accessible: Callable[[Page], None],
        world: World, rp: RelyingParty):
    page = a11y_context.new_page()
    page.goto(world.authorize_url(rp, "a11y"))
    expect(page.get_by_role("link", name="Sign in with Upstream ID")).to_be_visible()
    assert_accessible(page)  # the login page with its provider buttons

    page.goto(f"{world.downstream.url}/api/v1/external-auth/upstream/callback?state=forged")
    expect(page.get_by_role("heading", name="Signing in with Upstream ID did not work"))\
        .to_be_visible()
    assert_accessible(page)

    _through_portico_upstream(page, world, rp, "a11y", consent=False)
    page.goto(f"{world.downstream.url}/account/links")
    expect(page.get_by_role("button", name="Unlink Upstream ID")).to_be_visible()
    assert_accessible(page)
