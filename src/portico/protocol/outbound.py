"""Outbound connections to addresses a client chose, kept off private networks.

A client names URLs Portico fetches or posts to on its own: ``jwks_uri``,
``request_uri``, ``sector_identifier_uri``, ``backchannel_logout_uri``. With dynamic
registration open, anyone can set them, so they must not turn Portico into a probe of
the network it runs in (SSRF): cloud metadata at 169.254.169.254, an admin port on
localhost, a database on 10.0.0.5.

The check happens where the connection is made, not on the URL: the host name is
resolved here, every address it resolves to that is not globally routable is dropped,
and the TCP connection goes to a checked address (TLS still verifies the name). A DNS
answer that changes between a check and the connection (rebinding) has nothing to
exploit. Upstream identity providers, configured by administrators, do not go through
this: an internal Keycloak is a legitimate upstream.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from typing import Any

import httpcore2
import httpx2 as httpx

REFUSED = "refused: "


class NotPublicAddress(httpcore2.ConnectError):
    """The host resolves to no public address (httpx reports it as a ConnectError)."""


def is_public(address: str) -> bool:
    """True for a globally routable address (IPv4-mapped IPv6 judged as IPv4)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class PublicOnlyBackend(httpcore2.AsyncNetworkBackend):
    """httpcore's network backend, connecting only to public addresses."""

    def __init__(self, inner: httpcore2.AsyncNetworkBackend | None = None) -> None:
        self._inner = inner or httpcore2.AnyIOBackend()

    async def connect_tcp(
        self, host: str, port: int, timeout: float | None = None,  # noqa: ASYNC109 (httpcore)
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        try:
            async with asyncio.timeout(timeout):
                found = await asyncio.get_running_loop().getaddrinfo(
                    host, port, type=socket.SOCK_STREAM)
        except (OSError, TimeoutError) as exc:
            raise httpcore2.ConnectError(f"cannot resolve {host}") from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
        public = [a for a in addresses if is_public(a)]
        if not public:
            raise NotPublicAddress(f"{REFUSED}{host} does not resolve to a public address")
        last: Exception | None = None
        for address in public:
            try:
                return await self._inner.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address,
                    socket_options=socket_options)
            except httpcore2.ConnectError as exc:  # try the next address
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None,  # noqa: ASYNC109 (httpcore)
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore2.AsyncNetworkStream:
        raise NotPublicAddress(f"{REFUSED}unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class PublicOnlyTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over ``PublicOnlyBackend``; no proxies from the environment
    (a proxy would make the connection, and the check, somewhere else)."""

    def __init__(self) -> None:
        super().__init__(trust_env=False)
        # httpx takes no network backend: swap it into the pool it built (the one place
        # that reaches inside httpx; tests/protocol/test_outbound.py notices a change).
        self._pool._network_backend = PublicOnlyBackend()


def refusal(exc: BaseException) -> str | None:
    """The public reason when ``exc`` is a refused private address, else None."""
    text = str(exc)
    return text[len(REFUSED):] if text.startswith(REFUSED) else None
