"""A client's rotated jwks_uri keys are picked up at once, without letting unknown
``kid`` values make Portico refetch on every request."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from portico.protocol import fetch
from portico.protocol.fetch import Fetcher


class JwksServer:
    """Serves whatever ``keys`` holds and counts the fetches."""

    def __init__(self) -> None:
        self.kids = ["k1"]
        self.hits = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                owner.hits += 1
                body = json.dumps({"keys": [{"kty": "oct", "kid": k} for k in owner.kids]})
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body.encode())

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/jwks"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


@pytest.fixture
def server() -> Iterator[JwksServer]:
    s = JwksServer()
    yield s
    s.httpd.shutdown()


def kids(jwks: dict[str, Any]) -> list[str]:
    return [k["kid"] for k in jwks["keys"]]


async def test_a_known_kid_is_served_from_the_cache(server):
    fetcher = Fetcher()
    try:
        await fetcher.jwks(server.url, kid="k1")
        await fetcher.jwks(server.url, kid="k1")
        await fetcher.jwks(server.url)
    finally:
        await fetcher.aclose()
    assert server.hits == 1


async def test_a_new_kid_refetches_at_once_then_waits_for_the_cooldown(server, monkeypatch):
    fetcher = Fetcher()
    try:
        await fetcher.jwks(server.url, kid="k1")
        server.kids = ["k2"]  # the client rotated
        assert kids(await fetcher.jwks(server.url, kid="k2")) == ["k2"]
        assert server.hits == 2
        # Made-up kids cannot make Portico fetch again within the cooldown...
        for _ in range(5):
            await fetcher.jwks(server.url, kid="nonsense")
        assert server.hits == 2
        # ...but once it has passed, one more refetch is allowed.
        monkeypatch.setattr(fetch, "KID_REFETCH_COOLDOWN", 0.0)
        await fetcher.jwks(server.url, kid="nonsense")
        assert server.hits == 3
    finally:
        await fetcher.aclose()
