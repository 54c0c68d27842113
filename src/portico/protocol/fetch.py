"""Outbound fetches the protocol needs (request_uri, a client's jwks_uri), bounded in
size and time so a hostile URL cannot stall or flood the server, and kept to public
addresses unless the deployment allows otherwise (protocol/outbound.py)."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx2 as httpx

from portico.protocol.outbound import PublicOnlyTransport, refusal


class FetchError(Exception):
    """The resource could not be fetched or was not acceptable; message is public."""


# A kid missing from a cached JWKS triggers a refetch (the client rotated its keys), but
# at most this often per URL, so unknown kids cannot make Portico hammer a server.
KID_REFETCH_COOLDOWN = 10.0
JWKS_CACHE_SECONDS = 300.0


def _has_kid(jwks: dict[str, Any], kid: str) -> bool:
    return any(isinstance(k, dict) and k.get("kid") == kid for k in jwks.get("keys", []))


class Fetcher:
    """A shared async HTTP client with small per-resource caches for JWKS.

    The cache is only a cache: every instance fetches for itself and may hold a
    different age of the same document."""

    def __init__(self, timeout: float = 5.0, max_bytes: int = 65536, *,
                 public_only: bool = False) -> None:
        self._timeout = timeout
        self._public_only = public_only
        self._client: httpx.AsyncClient | None = None
        self.max_bytes = max_bytes
        self._jwks: dict[str, tuple[float, dict[str, Any]]] = {}
        self._kid_refetched: dict[str, float] = {}

    @property
    def client(self) -> httpx.AsyncClient:
        """Made on first use: its TLS context and CA bundle cost ~4 MiB of memory, which
        a server whose clients never need an outbound fetch should not carry."""
        if self._client is None:
            transport = PublicOnlyTransport() if self._public_only else None
            self._client = httpx.AsyncClient(timeout=self._timeout, follow_redirects=False,
                                             transport=transport)
        return self._client

    async def text(self, url: str, max_bytes: int | None = None) -> str:
        """GET ``url`` and return its body, refusing anything too large."""
        limit = max_bytes or self.max_bytes
        if not url.startswith(("https://", "http://")):
            raise FetchError("only http(s) URLs can be fetched")
        try:
            async with self.client.stream("GET", url) as response:
                if response.status_code != 200:
                    raise FetchError(f"fetching returned HTTP {response.status_code}")
                body = b""
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > limit:
                        raise FetchError("the fetched document is too large")
        except httpx.HTTPError as exc:
            reason = refusal(exc)
            if reason is not None:
                raise FetchError(f"fetching was refused: {reason}") from None
            raise FetchError(f"fetching failed ({type(exc).__name__})") from None
        return body.decode("utf-8", errors="replace")

    async def jwks(self, url: str, refresh: bool = False, kid: str | None = None
                   ) -> dict[str, Any]:
        """A client's JWKS, cached for five minutes; refetched sooner when asked to, or
        when it lacks ``kid`` (key rotation) — at most once per ``KID_REFETCH_COOLDOWN``."""
        now = time.monotonic()
        cached = self._jwks.get(url)
        if cached and not refresh:
            rotated = kid is not None and not _has_kid(cached[1], kid)
            if rotated and now - self._kid_refetched.get(url, -KID_REFETCH_COOLDOWN) \
                    >= KID_REFETCH_COOLDOWN:
                self._kid_refetched[url] = now
            elif now - cached[0] < JWKS_CACHE_SECONDS:
                return cached[1]
        try:
            data = json.loads(await self.text(url))
        except ValueError:
            raise FetchError("the JWKS is not valid JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("keys"), list):
            raise FetchError("the JWKS has no keys array")
        self._jwks[url] = (time.monotonic(), data)
        return data

    async def aclose(self) -> None:
        """Close pooled connections."""
        if self._client is not None:
            await self._client.aclose()
