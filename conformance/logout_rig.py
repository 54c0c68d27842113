"""What the logout plans need besides the OP: the relying party's own endpoints and
three statically registered clients.

The suite hosts ``/post_logout_redirect``, ``/backchannel_logout`` and
``/frontchannel_logout`` under its test alias; here a small HTTP server on 127.0.0.1
does (``--logout-host``, ``--logout-port``, ``--logout-base`` if the OP must reach
it under another URL) and records every request. The browser never follows the
post-logout redirect (its ``Location`` is read), but the OP POSTs logout tokens to
the back-channel URI and the browser loads the front-channel iframes, so those two
must be reachable.

Clients, as in each plan's configuration (``client``): one per plan, so a plan's
channels never change what another observes.

* ``rp_logout``: ``post_logout_redirect_uris`` = ``BASE/post_logout_redirect``;
* ``backchannel``: the same plus ``backchannel_logout_uri`` = ``BASE/backchannel_logout``
  with ``backchannel_logout_session_required``;
* ``frontchannel``: ``redirect_uris`` = ``BASE/callback`` (Front-Channel Logout §2:
  the logout URI must share scheme, host and port with a redirect URI), the
  post-logout URI and ``frontchannel_logout_uri`` = ``BASE/frontchannel_logout`` with
  ``frontchannel_logout_session_required``.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from conformance.framework import ClientCreds
from conformance.provision import _run as run_cli

KINDS = ("rp_logout", "backchannel", "frontchannel")


@dataclass
class Hit:
    """One request the relying party's endpoints received."""

    method: str
    path: str
    query: dict[str, list[str]]
    form: dict[str, list[str]]
    content_type: str


@dataclass
class LogoutRig:
    """The RP endpoints (a recording HTTP server) and the plans' clients."""

    base_url: str
    clients: dict[str, ClientCreds] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _server: ThreadingHTTPServer | None = None

    def url(self, name: str) -> str:
        return f"{self.base_url}{name}"

    def received(self, path: str, after: int, timeout: float = 10.0) -> list[Hit]:
        """Requests to ``path`` among those after index ``after``, waiting up to
        ``timeout`` seconds for the first one."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [h for h in self.hits[after:] if h.path.endswith("/" + path)]
                left = deadline - time.monotonic()
                if found or left <= 0:
                    return found
                self._cond.wait(left)

    def close(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()


def start(host: str = "127.0.0.1", port: int = 0, base_url: str | None = None) -> LogoutRig:
    """Start the recording server in a daemon thread."""
    rig = LogoutRig("")

    class Handler(BaseHTTPRequestHandler):
        def _record(self, body: str) -> None:
            parts = urlsplit(self.path)
            hit = Hit(self.command, parts.path, parse_qs(parts.query, keep_blank_values=True),
                      parse_qs(body, keep_blank_values=True),
                      self.headers.get("Content-Type", ""))
            with rig._cond:
                rig.hits.append(hit)
                rig._cond.notify_all()
            page = b"<!doctype html><title>RP</title><p>ok</p>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Cache-Control", "no-store")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self._record("")

        def do_POST(self) -> None:  # noqa: N802
            length = int(self.headers.get("Content-Length") or 0)
            self._record(self.rfile.read(min(length, 1 << 20)).decode(errors="replace"))

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            """Quiet."""

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    bound_host, bound_port = server.server_address[:2]
    rig.base_url = (base_url or f"http://{bound_host}:{bound_port}/").rstrip("/") + "/"
    rig._server = server
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return rig


def provision(rig: LogoutRig, redirect_uri: str, command: Sequence[str] | None) -> None:
    """Register the three clients with the ``portico`` CLI (``--provision``)."""
    tag = secrets.token_hex(4)
    post_logout = rig.url("post_logout_redirect")
    extra = {
        "rp_logout": ["--redirect-uri", redirect_uri],
        "backchannel": ["--redirect-uri", redirect_uri,
                        "--backchannel-logout-uri", rig.url("backchannel_logout"),
                        "--backchannel-logout-session-required"],
        "frontchannel": ["--redirect-uri", rig.url("callback"),
                         "--frontchannel-logout-uri", rig.url("frontchannel_logout"),
                         "--frontchannel-logout-session-required"],
    }
    for kind in KINDS:
        args = ["client", "add", "--name", f"OIDF conformance {kind} {tag}",
                "--auth-method", "client_secret_basic", "--grant", "authorization_code",
                "--grant", "refresh_token", "--post-logout-redirect-uri", post_logout,
                *extra[kind], "--json"]
        out = json.loads(run_cli(command, args, stdin=None, env=None, cwd=None))
        rig.clients[kind] = ClientCreds(out["client_id"], out["client_secret"],
                                        "client_secret_basic")


def from_config(rig: LogoutRig, config: dict[str, Any]) -> None:
    """Clients from a plan configuration (``client_rp_logout``, ``client_backchannel``,
    ``client_frontchannel``: ``client_id`` and ``client_secret`` each)."""
    for kind in KINDS:
        entry = config.get(f"client_{kind}")
        if isinstance(entry, dict) and entry.get("client_id") and entry.get("client_secret"):
            rig.clients[kind] = ClientCreds(str(entry["client_id"]), str(entry["client_secret"]),
                                            "client_secret_basic")
