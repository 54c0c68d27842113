"""What the logout tests share: a real HTTP listener standing in for a client's
back-channel (and front-channel) logout endpoint, and a signed-in person whose
session a logout-aware client took part in, on every supported database."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from joserfc import jwt
from joserfc.jwk import KeySet
from tests.helpers import REDIRECT, Browser, add_client, add_user, pkce, services_of
from tests.protocol.conftest import RP


@dataclass
class Receiver:
    """A client's logout endpoints on loopback; answers ``status`` after ``delay`` s."""

    url: str = ""
    status: int = 200
    delay: float = 0.0
    hits: list[dict[str, Any]] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)

    @property
    def backchannel_uri(self) -> str:
        return f"{self.url}/backchannel"

    def wait_for(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Block (in a thread) until ``count`` requests arrived; return them."""
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.hits) >= count, timeout)
        return list(self.hits)

    def serve(self) -> ThreadingHTTPServer:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self, body: str) -> None:
                parts = urlsplit(self.path)
                hit = {
                    "method": self.command,
                    "path": parts.path,
                    "query": {k: v[0] for k, v in parse_qs(parts.query).items()},
                    "form": {k: v for k, v in parse_qs(body).items()},
                    "content_type": self.headers.get("Content-Type", ""),
                }
                if receiver.delay:
                    time.sleep(receiver.delay)
                with receiver.arrived:
                    receiver.hits.append(hit)
                    receiver.arrived.notify_all()
                self.send_response(receiver.status)
                if receiver.status in (301, 302, 303, 307):
                    self.send_header("Location", f"{receiver.url}/elsewhere")
                self.send_header("Cache-Control", "no-store")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                self._answer(self.rfile.read(length).decode())

            def do_GET(self) -> None:  # noqa: N802
                self._answer("")

            def log_message(self, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


async def signed_in_rp(app: Any, scope: str = "openid profile email offline_access",
                       **client: Any) -> RP:
    """alice, signed in and consented to a client registered with ``client`` metadata."""
    svc = services_of(app)
    await add_user(svc, name="Alice Liddell", email_verified=True)
    reg = await add_client(svc, first_party=False, **client)
    browser = Browser(app.test_client())
    _, challenge = pkce()
    response = await browser.authorize(
        client_id=reg.client.id, redirect_uri=REDIRECT, response_type="code", scope=scope,
        code_challenge=challenge, code_challenge_method="S256")
    response = await browser.consent(await browser.login(response))
    await browser.follow(response)
    return RP(app, reg.client.id, reg.secret, browser)


async def verify_logout_token(app: Any, token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The header and claims of a logout token, its signature checked against /jwks."""
    jwks = await (await app.test_client().get("/jwks")).get_json()
    decoded = jwt.decode(token, KeySet.import_key_set(jwks), algorithms=["RS256", "ES256", "EdDSA"])
    return dict(decoded.header), dict(decoded.claims)
