"""A GitHub-shaped OAuth 2.0 server (Enterprise Server paths) on loopback."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


@dataclass
class FakeGitHub:
    url: str = ""
    verified: bool = True
    token_forms: list[dict[str, str]] = field(default_factory=list)
    auth_headers: list[str] = field(default_factory=list)


def _handler(gh: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _json(self, body: Any, status: int = 200) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            gh.auth_headers.append(self.headers.get("Authorization", ""))
            if self.headers.get("Authorization") != "Bearer gho_token":
                self._json({"message": "Requires authentication"}, 401)
            elif self.path == "/api/v3/user":
                self._json({"id": 4242, "login": "octo", "name": "Octo Cat",
                            "email": "public@elsewhere.example", "avatar_url": "/a.png"})
            elif self.path == "/api/v3/user/emails":
                self._json([{"email": "old@gh.example", "primary": False, "verified": True},
                            {"email": "octo@gh.example", "primary": True,
                             "verified": gh.verified}])
            else:
                self._json({"message": "Not Found"}, 404)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            gh.token_forms.append(form)
            if form.get("code") != "good-code":
                self._json({"error": "bad_verification_code"})
                return
            self._json({"access_token": "gho_token", "token_type": "bearer", "scope": "user"})

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def fake_github() -> Iterator[FakeGitHub]:
    gh = FakeGitHub()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(gh))
    gh.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield gh
    finally:
        server.shutdown()
        server.server_close()
