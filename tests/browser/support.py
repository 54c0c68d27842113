"""What the browser tests share besides fixtures: the relying party that receives
the browser at the end of a flow, the Portico under test, and the steps a person
takes on the hosted pages."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from playwright.sync_api import Locator, Page
from tests.conftest import LiveServer

WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@dataclass
class RelyingParty:
    """A tiny real web server on loopback; records what browsers deliver to it.

    (Playwright's request routing does not see redirects chromium follows itself,
    so the redirect URI is a real listener rather than an intercepted address.)
    Reached as ``localhost`` rather than 127.0.0.1 it is another *site* too, and
    serves the attacker's ``pages``."""

    url: str
    hits: list[dict[str, Any]] = field(default_factory=list)
    pages: dict[str, str] = field(default_factory=dict)

    @property
    def other_site(self) -> str:
        return self.url.replace("127.0.0.1", "localhost")

    @property
    def redirect_uri(self) -> str:
        return f"{self.url}/cb"

    @property
    def logout_uri(self) -> str:
        return f"{self.url}/bye"

    @property
    def last(self) -> dict[str, Any]:
        assert self.hits, "the browser never reached the relying party"
        return self.hits[-1]


def rp_handler(rp: RelyingParty) -> type[BaseHTTPRequestHandler]:
    """A request handler class that records every visit in ``rp.hits``."""

    class Handler(BaseHTTPRequestHandler):
        def _record(self, body: str) -> None:
            url = urlsplit(self.path)
            if self.command == "GET" and url.path in rp.pages:
                self._send(rp.pages[url.path].encode())
                return
            params = {k: v[0] for k, v in parse_qs(url.query).items()}
            params.update({k: v[0] for k, v in parse_qs(body).items()})
            rp.hits.append({"method": self.command, "path": url.path, "params": params})
            self._send(
                b"<!doctype html><title>Acme Notes</title><h1>Welcome back to Acme Notes</h1>"
            )

        def _send(self, page: bytes) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def do_GET(self) -> None:
            if self.path == "/favicon.ico":
                self.send_error(404)
                return
            self._record("")

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self._record(self.rfile.read(length).decode())

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@dataclass
class Portal:
    """A running Portico with people and a client ready for sign-in."""

    server: LiveServer
    rp: RelyingParty
    client_id: str
    users: dict[str, str]  # username -> password

    @property
    def url(self) -> str:
        return self.server.url

    def authorize_url(self, **params: str) -> str:
        query = {
            "client_id": self.client_id,
            "redirect_uri": self.rp.redirect_uri,
            "response_type": "code",
            "scope": "openid profile email",
            "state": secrets.token_urlsafe(8),
            "nonce": secrets.token_urlsafe(8),
        }
        query.update(params)
        return f"{self.url}/authorize?{urlencode(query)}"


# --- what a person does ----------------------------------------------------------------


def sign_in(page: Page, username: str, password: str) -> None:
    """Fill and submit the login form by its labels and button."""
    page.get_by_label("Username or email").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def log_in(page: Page, portal: Portal, username: str = "alice") -> None:
    """Sign in at /login directly (no application involved)."""
    page.goto(f"{portal.url}/login")
    sign_in(page, username, portal.users[username])
    page.wait_for_url(f"{portal.url}/")


def reach_consent(page: Page, portal: Portal, username: str = "alice", **params: str) -> None:
    """Start an authorization request and sign in, stopping at the consent page."""
    page.goto(portal.authorize_url(prompt="login consent", **params))
    sign_in(page, username, portal.users[username])
    page.wait_for_url("**/consent?**")


def signed_in_as(page: Page, portal: Portal) -> str | None:
    """Who the home page says is signed in, in this browser context."""
    page.goto(f"{portal.url}/")
    lead = page.locator("main .lead").inner_text()
    if not lead.startswith("Signed in as "):
        return None
    return lead.removeprefix("Signed in as ").split(" ")[0]


# --- focus and colour ------------------------------------------------------------------


def _luminance(rgb: tuple[float, float, float]) -> float:
    def channel(c: float) -> float:
        c /= 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(a: tuple[float, float, float], b: tuple[float, float, float]) -> float:
    """WCAG contrast ratio of two opaque sRGB colours."""
    hi, lo = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


FOCUS_RING_JS = """el => {
    const rgb = s => (s.match(/[\\d.]+/g) || []).slice(0, 4).map(Number);
    const style = getComputedStyle(el);
    let bg = null;
    for (let n = el.parentElement; n; n = n.parentElement) {
        const c = rgb(getComputedStyle(n).backgroundColor);
        if (c.length === 3 || (c.length === 4 && c[3] > 0)) { bg = c.slice(0, 3); break; }
    }
    return {
        style: style.outlineStyle, width: parseFloat(style.outlineWidth),
        colour: rgb(style.outlineColor).slice(0, 3), background: bg || [255, 255, 255],
        focusVisible: el.matches(':focus-visible'),
    };
}"""


def assert_focus_ring(target: Locator) -> None:
    """The focused element shows an outline of at least 2px with 3:1 contrast
    against what surrounds it (WCAG 2.1 SC 2.4.7 and 1.4.11)."""
    ring = target.evaluate(FOCUS_RING_JS)
    assert ring["focusVisible"], "the element is focused but not :focus-visible"
    assert ring["style"] != "none" and ring["width"] >= 2, ring
    ratio = contrast(tuple(ring["colour"]), tuple(ring["background"]))
    assert ratio >= 3, f"focus ring contrast {ratio:.2f}:1 is below 3:1 ({ring})"
