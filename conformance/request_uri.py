"""A small HTTP server that hosts request objects for ``request_uri`` (OIDC Core §6.2),
like the suite's ``handleRequestUriRequest``. It listens on 127.0.0.1 by default; the
client must have the server's base URL registered as an allowed request_uri prefix
(``portico client add … --request-uri http://127.0.0.1:PORT/``)."""

from __future__ import annotations

import secrets
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class RequestObjectServer:
    """Serves each published object at its own random path."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, base_url: str | None = None):
        self._objects: dict[str, str] = {}
        objects = self._objects

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                body = objects.get(self.path.split("?")[0].rsplit("/", 1)[-1])
                if body is None:
                    self.send_error(404)
                    return
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/oauth-authz-req+jwt")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
                """Quiet."""

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.server.daemon_threads = True
        bound_host, bound_port = self.server.server_address[:2]
        self.base_url = (base_url or f"http://{bound_host}:{bound_port}/").rstrip("/") + "/"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> RequestObjectServer:
        self._thread.start()
        return self

    def publish(self, request_object: str) -> str:
        """Host ``request_object``; return its URL."""
        name = secrets.token_urlsafe(16)
        self._objects[name] = request_object
        return f"{self.base_url}{name}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
