"""Real-browser tests of the hosted pages: Debian's chromium driven by Playwright
(pytest-playwright's fixtures) against real ``portico serve`` processes.

Chromium is never downloaded (``playwright install`` is not used): the system
binary is launched. When it is missing the tests are skipped, or fail under CI=true.
Servers are shared per session because starting one takes seconds; every test gets
its own browser context, so cookies never leak between tests.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    BrowserType,
    Page,
    Playwright,
    expect,
    sync_playwright,
)
from tests.browser.support import WCAG_TAGS, Portal, RelyingParty, rp_handler
from tests.conftest import REPO, LiveServer, node_cache_lock, start_server
from tests.helpers import PASSWORD

from portico.accounts.passwords import PasswordPolicy
from portico.accounts.users import create_user
from portico.clients import register_client
from portico.services import build_services
from portico.settings import Settings

HERE = Path(__file__).resolve().parent
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE_DIR = REPO / "tests" / ".cache" / "node"
AXE_JS = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"

expect.set_options(timeout=5_000)


def _missing(what: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} (CI=true, so this is an error rather than a skip)")
    pytest.skip(what)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Launch Debian's chromium, headless, with no background network chatter."""
    executable = shutil.which("chromium")
    if executable is None:
        _missing(
            "chromium is not installed: run `apt-get install -y --no-install-recommends "
            "chromium` (or scripts/test_prereqs.py as root)"
        )
    return {
        **browser_type_launch_args,
        "executable_path": executable,
        "headless": browser_type_launch_args.get("headless", True),
        "args": CHROMIUM_ARGS,
    }


# Playwright's sync API marks this thread's event loop as running between its calls, so
# while it is alive no other test may call asyncio.run() or run an async test. It is
# therefore stopped as soon as the next test is not a browser test, and started again
# by the next browser test: under pytest-xdist a worker interleaves browser files with
# others, and pytest-playwright's session-scoped fixtures would then hand out a stopped
# Playwright ("Event loop is closed"). The fixtures below that hold Playwright objects
# are function-scoped views of the live instance in _ALIVE.
_ALIVE: dict[str, Any] = {}


def _stop_playwright() -> None:
    browser = _ALIVE.pop("browser", None)
    pw = _ALIVE.pop("playwright", None)
    if browser is not None and pw is not None:
        browser.close()
    if pw is not None:
        pw.stop()


@pytest.fixture
def playwright(_pw_api_request_contexts: Any) -> Playwright:
    """The live Playwright, started when the run of browser tests it serves began."""
    if "playwright" not in _ALIVE:
        started = sync_playwright().start()
        if _pw_api_request_contexts is not None:  # --tracing: as pytest-playwright does
            _pw_api_request_contexts.instrument(started)
        _ALIVE["playwright"] = started
    return _ALIVE["playwright"]


@pytest.fixture
def browser_type(playwright: Playwright, browser_name: str) -> BrowserType:
    return getattr(playwright, browser_name)


@pytest.fixture
def launch_browser(
    browser_type_launch_args: dict[str, Any], browser_type: BrowserType
) -> Callable[..., Browser]:
    def launch(**kwargs: Any) -> Browser:
        return browser_type.launch(**{**browser_type_launch_args, **kwargs})

    return launch


@pytest.fixture
def browser(launch_browser: Callable[..., Browser]) -> Browser:
    """The live chromium, shared by the run of browser tests; each test has its own context."""
    if "browser" not in _ALIVE:
        _ALIVE["browser"] = launch_browser()
    return _ALIVE["browser"]


@pytest.fixture
def browser_context_args(
    pytestconfig: pytest.Config,
    playwright: Playwright,
    device: str | None,
    base_url: str | None,
    _pw_artifacts_folder: Any,
) -> dict[str, Any]:
    """pytest-playwright's, function-scoped because it reads the (restartable) Playwright."""
    args: dict[str, Any] = {}
    if device:
        args.update(playwright.devices[device])
    if base_url:
        args["base_url"] = base_url
    if pytestconfig.getoption("--video") in ("on", "retain-on-failure"):
        args["record_video_dir"] = _pw_artifacts_folder.name
    return args


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    yield
    if nextitem is None or HERE not in nextitem.path.parents:
        _stop_playwright()


@pytest.fixture
def new_context(new_context: Callable[..., BrowserContext]) -> Callable[..., BrowserContext]:
    """pytest-playwright's contexts, failing fast: pages here answer in milliseconds."""

    def make(**kwargs: Any) -> BrowserContext:
        made = new_context(**kwargs)
        made.set_default_timeout(5_000)
        return made

    return make


# --- the relying party and the servers ----------------------------------------------------


@pytest.fixture(scope="session")
def _rp_server() -> Iterator[RelyingParty]:
    http = ThreadingHTTPServer(("127.0.0.1", 0), rp_handler(rp := RelyingParty("")))
    rp.url = f"http://127.0.0.1:{http.server_address[1]}"
    threading.Thread(target=http.serve_forever, daemon=True).start()
    yield rp
    http.shutdown()
    http.server_close()


@pytest.fixture
def rp(_rp_server: RelyingParty) -> RelyingParty:
    """The relying party, with what earlier tests delivered forgotten."""
    _rp_server.hits.clear()
    _rp_server.pages.clear()
    return _rp_server


def _stop(server: LiveServer) -> None:
    server.process.terminate()
    try:
        server.process.wait(10)
    except subprocess.TimeoutExpired:
        server.process.kill()


def _serve(base: Path) -> LiveServer:
    return start_server(base, f"sqlite+aiosqlite:///{base / 'portico.db'}")


async def _seed(server: LiveServer, people: dict[str, str], rp: RelyingParty) -> str:
    """Create an administrator, the people and the client; return the client id.

    Done in-process against the server's database: four CLI runs would cost seconds."""
    env = server.env
    svc = build_services(
        Settings(
            issuer=env["PORTICO_ISSUER"],
            database_url=env["PORTICO_DATABASE_URL"],
            keys_dir=env["PORTICO_KEYS_DIR"],
            secret_key=env["PORTICO_SECRET_KEY"],
            insecure_cookies=True,
            bcrypt_rounds=4,
        )
    )
    try:
        for name, password in people.items():
            await create_user(
                svc.db,
                username=name,
                email=f"{name}@example.org",
                password=password,
                policy=PasswordPolicy(),
                role="admin" if name == "root" else "member",
                rounds=4,
            )
        registered = await register_client(
            svc.db,
            name="Acme Notes",
            redirect_uris=[rp.redirect_uri],
            post_logout_redirect_uris=[rp.logout_uri],
        )
        return registered.client.id
    finally:
        await svc.fetcher.aclose()
        await svc.db.dispose()


PEOPLE = {"root": "Admin-pass-1", "alice": PASSWORD, "bob": PASSWORD, "carol": PASSWORD}


def _portal(base: Path, rp: RelyingParty) -> Portal:
    server = _serve(base)
    try:
        client_id = asyncio.run(_seed(server, PEOPLE, rp))
    except BaseException:
        _stop(server)
        raise
    return Portal(server, rp, client_id, PEOPLE)


@pytest.fixture(scope="session", autouse=True)
def _boot(
    browser_type_launch_args: dict[str, Any],  # first: no servers when there is no chromium
    tmp_path_factory: pytest.TempPathFactory,
    _rp_server: RelyingParty,
) -> Iterator[dict[str, Future[Any]]]:
    """Start every server at once, in the background, while chromium launches.

    Each takes seconds (migrations, keys); one after the other they would dominate
    the run. Threads of their own also keep asyncio.run away from the thread whose
    event loop Playwright's sync API owns."""
    # Folders first, here: tmp_path_factory is not thread-safe.
    portal, fresh, to_set_up = (tmp_path_factory.mktemp(n) for n in ("portal", "fresh", "setup"))
    pool = ThreadPoolExecutor(3)
    booting: dict[str, Future[Any]] = {
        "portal": pool.submit(_portal, portal, _rp_server),
        "fresh": pool.submit(_serve, fresh),
        "to_set_up": pool.submit(_serve, to_set_up),
    }
    pool.shutdown(wait=False)
    yield booting
    for future in booting.values():
        try:
            started = future.result()
        except Exception:  # it never started; the test that needed it has said why
            continue
        _stop(started.server if isinstance(started, Portal) else started)


@pytest.fixture(scope="session")
def portal(_boot: dict[str, Future[Any]]) -> Portal:
    """A server with an administrator (root), alice, bob and carol, and a confidential client.

    carol is kept for the one test that needs a person who never consented; bob for
    failed sign-ins, so that alice, who signs in everywhere, is never locked out."""
    return _boot["portal"].result()


@pytest.fixture(scope="session")
def fresh(_boot: dict[str, Future[Any]]) -> LiveServer:
    """A server nobody has set up. Tests using it must not create an administrator."""
    return _boot["fresh"].result()


@pytest.fixture(scope="session")
def to_set_up(_boot: dict[str, Future[Any]]) -> LiveServer:
    """Another server nobody has set up, for the one test that sets it up."""
    return _boot["to_set_up"].result()


# --- axe-core -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's browser bundle, installed from npm into tests/.cache/node when absent."""
    with node_cache_lock():
        if not AXE_JS.exists():
            npm = shutil.which("npm")
            if npm is None:
                _missing("npm is not installed, so axe-core cannot be fetched")
            AXE_DIR.mkdir(parents=True, exist_ok=True)
            done = subprocess.run(
                [npm, "install", "--prefix", str(AXE_DIR), "--no-audit", "--no-fund", "axe-core@4"],
                capture_output=True,
                text=True,
                timeout=180,
            )
            if done.returncode != 0 or not AXE_JS.exists():
                _missing(f"npm could not install axe-core:\n{done.stderr[-2000:]}")
    return AXE_JS.read_text()


AxeCheck = Callable[[Page], None]


@pytest.fixture
def a11y_context(new_context: Callable[..., BrowserContext]) -> BrowserContext:
    """A context that may inject axe-core despite the pages' strict CSP."""
    return new_context(bypass_csp=True)


@pytest.fixture
def assert_accessible(axe_source: str) -> AxeCheck:
    """Run axe-core on the current page in light and dark mode; fail on any violation."""

    def check(page: Page) -> None:
        page.wait_for_load_state("load")
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.add_script_tag(content=axe_source)
        problems: list[str] = []
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            result = page.evaluate(
                """async (tags) => {
                    const r = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
                    return r.violations.map(v => ({
                        id: v.id, help: v.help,
                        nodes: v.nodes.map(n => n.target.join(' ') + ': ' + n.failureSummary),
                    }));
                }""",
                WCAG_TAGS,
            )
            for v in result:
                nodes = "\n      ".join(v["nodes"])
                problems.append(f"[{scheme}] {v['id']}: {v['help']}\n      {nodes}")
        page.emulate_media(color_scheme="light")
        assert not problems, f"axe-core violations on {page.url}:\n" + "\n".join(problems)

    return check
