"""Dynamic registration fixtures: open registration on every supported database, a
small HTTP server for the documents a client publishes (sector identifier, JWKS), and
helpers to register over HTTP."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from tests.conftest import on_database

from portico.settings import Settings

REGISTER = "/connect/register"


@pytest.fixture
def settings(settings: Settings, keyed_database_url: str) -> Settings:
    """Open registration, on SQLite or PostgreSQL (each copied from a template)."""
    return on_database(settings, keyed_database_url, client_registration="open")


class Documents:
    """JSON documents served over real HTTP on 127.0.0.1, at ``url(name)``."""

    def __init__(self) -> None:
        self.docs: dict[str, Any] = {}
        docs = self.docs

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                name = self.path.lstrip("/")
                if name not in docs:
                    self.send_error(404)
                    return
                body = json.dumps(docs[name]).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def publish(self, name: str, doc: Any) -> str:
        self.docs[name] = doc
        return f"{self.base}/{name}"


@pytest.fixture
def documents() -> Iterator[Documents]:
    served = Documents()
    yield served
    served.server.shutdown()
    served.server.server_close()


async def register(app: Any, body: Any, token: str | None = None) -> tuple[int, dict[str, Any]]:
    """POST ``body`` to the registration endpoint; (status, JSON answer)."""
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await app.test_client().post(REGISTER, json=body, headers=headers)
    return response.status_code, await response.get_json()


def configure(app: Any, **update: Any) -> None:
    """Change settings of a running test app, as a restart with new configuration would
    (the admin policy layer re-applies its overrides on top)."""
    from tests.helpers import services_of

    svc = services_of(app)
    svc.policy.base = svc.policy.base.model_copy(update=update)
    svc.policy._effective = svc.policy.base.model_copy(update=svc.policy._overrides)
    svc.settings = svc.bridge.settings = svc.policy._effective
