"""Outbound fetches the protocol needs (request_uri, a client's jwks_uri), bounded in
size and time so a hostile URL cannot stall or flood the server."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx2 as httpx


class FetchError(Exception):
    """The resource could not be fetched or was not acceptable; message is public."""


class Fetcher:
    """A shared async HTTP client with small per-resource caches for JWKS."""

    def __init__(self, timeout: float = 5.0, max_bytes: int = 65536) -> None:
        self.client = httpx.AsyncClient(timeout=timeout, follow_redirects=False)
        self.max_bytes = max_bytes
        self._jwks: dict[str, tuple[float, dict[str, Any]]] = {}

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
            raise FetchError(f"fetching failed ({type(exc).__name__})") from None
        return body.decode("utf-8", errors="replace")

    async def jwks(self, url: str, refresh: bool = False) -> dict[str, Any]:
        """A client's JWKS, cached for five minutes (refetched on demand)."""
        cached = self._jwks.get(url)
        if cached and not refresh and time.monotonic() - cached[0] < 300:
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
        await self.client.aclose()
