"""Finish every request whose body arrived, even when the client hangs up.

Quart cancels a request's handler as soon as the server reports ``http.disconnect``.
A handler cancelled in the middle of a database call can leave that connection in a
transaction nobody owns: aiosqlite's worker thread completes a ``BEGIN IMMEDIATE``
whose awaiting future was cancelled, the pool's rollback is cancelled too, and SQLite's
write lock stays held, so every later writer waits out the busy timeout and fails
("database is locked"). Load generators hang up mid-request all the time, and so do
browsers and RPs that time out.

Once the whole request body has arrived, a disconnect therefore no longer reaches Quart:
the handler runs to its end, commits or rolls back, and its answer goes nowhere (as if
the network had dropped it after the commit, which is no different for the client).
A disconnect before the body is complete is passed on as before: no handler work that
depends on the request has happened yet.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

ASGIReceive = Callable[[], Awaitable[dict[str, Any]]]
ASGISend = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[dict[str, Any], ASGIReceive, ASGISend], Awaitable[None]]


class FinishOnDisconnect:
    """ASGI middleware: hides ``http.disconnect`` once the request body is complete."""

    def __init__(self, inner: ASGIApp) -> None:
        self.inner = inner

    async def __call__(self, scope: dict[str, Any], receive: ASGIReceive,
                       send: ASGISend) -> None:
        if scope["type"] != "http":
            await self.inner(scope, receive, send)
            return
        body_complete = False

        async def guarded() -> dict[str, Any]:
            nonlocal body_complete
            message = await receive()
            if message["type"] == "http.request" and not message.get("more_body", False):
                body_complete = True
            elif message["type"] == "http.disconnect" and body_complete:
                # Quart's reader is cancelled when the handler returns; wait until then.
                await asyncio.Future()
            return message

        await self.inner(scope, guarded, send)
