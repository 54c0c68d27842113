"""Client-chosen URLs stay off private networks (protocol/outbound.py): the address
check, where it sits in httpx, the default per issuer, and a refused fetch that never
opens a connection."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from portico.protocol.fetch import Fetcher, FetchError
from portico.protocol.outbound import PublicOnlyBackend, PublicOnlyTransport, is_public
from portico.settings import Settings


@pytest.mark.parametrize("address", [
    "127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1",
    "0.0.0.0", "::1", "fe80::1", "fc00::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
    "224.0.0.1", "255.255.255.255",
])
def test_private_and_special_addresses_are_not_public(address: str) -> None:
    assert not is_public(address)


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111",
                                     "::ffff:8.8.8.8"])
def test_routable_addresses_are_public(address: str) -> None:
    assert is_public(address)


def test_the_transport_connects_through_the_checking_backend() -> None:
    # The backend is swapped into httpx's pool; an httpx upgrade that moves it fails here.
    transport = PublicOnlyTransport()
    assert isinstance(transport._pool._network_backend, PublicOnlyBackend)


def test_by_default_only_a_loopback_issuer_fetches_private_addresses(
    settings: Settings,
) -> None:
    assert settings.fetches_private_addresses  # tests run on a loopback issuer
    public = settings.model_copy(update={"issuer": "https://id.example.com"})
    assert not public.fetches_private_addresses
    assert public.model_copy(update={"fetch_private_addresses": True}).fetches_private_addresses
    assert not settings.model_copy(
        update={"fetch_private_addresses": False}).fetches_private_addresses


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A bare listening socket on loopback, to see whether anything connected."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    sock.settimeout(0.3)
    yield sock
    sock.close()


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
async def test_a_refused_fetch_never_connects(listener: socket.socket, host: str) -> None:
    port = listener.getsockname()[1]
    fetcher = Fetcher(public_only=True)
    try:
        with pytest.raises(FetchError, match="refused: .* does not resolve to a public address"):
            await fetcher.text(f"http://{host}:{port}/jwks")
    finally:
        await fetcher.aclose()
    with pytest.raises(TimeoutError):
        listener.accept()


@pytest.fixture
def document_server() -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


async def test_the_same_fetch_works_where_private_addresses_are_allowed(
    document_server: str,
) -> None:
    fetcher = Fetcher(public_only=False)
    try:
        assert await fetcher.text(f"{document_server}/jwks") == "{}"
    finally:
        await fetcher.aclose()
