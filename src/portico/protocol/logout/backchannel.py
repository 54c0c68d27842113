"""Sending queued back-channel logout notices (OIDC Back-Channel Logout 1.0 §2.5–§2.8).

One notice is one ``logout_deliveries`` row. To send it a process first *claims* it
(a conditional UPDATE that also counts the attempt and leases the row for a while),
then signs a fresh Logout Token, POSTs it outside any transaction, and records the
outcome in a short transaction of its own, with an audit event when the notice was
delivered or given up on. Nothing replayable is stored: the token exists only on the
wire.

§2.8: the RP answers 200 on success, and "OPs should be prepared to also process a
204 No Content response as a successful response". Anything else (another status, a
redirect, which is never followed, a timeout, a refused connection) is retried after
a growing pause until ``backchannel_logout_retry_for`` has passed since the session
ended; then the notice is abandoned.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx2 as httpx
from sqlalchemy.ext.asyncio import AsyncSession

from portico.audit.recorder import record
from portico.crypto.signing_keys import LoadedKeys
from portico.protocol.fetch import Fetcher
from portico.protocol.logout.logout_token import logout_token
from portico.protocol.outbound import refusal
from portico.protocol.subjects import subject_for
from portico.settings import Settings
from portico.storage.db import Database
from portico.storage.models.base import utcnow
from portico.storage.repositories.logout import Claimed, LogoutDeliveries

log = logging.getLogger("portico.logout")

SUCCESS = (200, 204)
# Pause before attempt n+1 after n failed ones; the last value repeats.
BACKOFF = (10, 30, 60, 300, 900, 3600)
LEASE = timedelta(seconds=120)
BATCH = 50
PARALLEL = 8


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after the ``attempts``-th failed attempt."""
    return timedelta(seconds=BACKOFF[min(max(attempts, 1), len(BACKOFF)) - 1])


@dataclass
class Courier:
    """What sending notices needs; one per process, shared by the worker and pages."""

    db: Database
    settings: Settings
    load_keys: Callable[[], Awaitable[LoadedKeys]]
    fetcher: Fetcher  # its HTTP client, made on first use
    # Pairwise subjects (OIDC Core §8.1) are computed outside any request.
    subject_key: bytes = field(repr=False)
    tasks: set[asyncio.Task[int]] = field(default_factory=set)

    async def deliver(self, only: Iterable[str] | None = None, *, limit: int = BATCH) -> int:
        """Send every due notice (or the due ones among ``only``); how many were sent."""
        now = utcnow()
        async with self.db.session() as session:
            due = await LogoutDeliveries(session).due(now, limit, only)
        if not due:
            return 0
        gate = asyncio.Semaphore(PARALLEL)

        async def one(delivery_id: str, seen: datetime) -> bool:
            async with gate:
                return await self._attempt(delivery_id, seen)

        sent = await asyncio.gather(*(one(i, t) for i, t in due))
        return sum(sent)

    def deliver_in_background(self, only: Iterable[str]) -> asyncio.Task[int]:
        """Start sending ``only`` now without waiting (kept referenced until done)."""
        task = asyncio.create_task(self.deliver(list(only)), name="portico-logout-delivery")
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def settle(self, ids: list[str]) -> None:
        """Send ``ids`` now and wait until each has had its first attempt. A page signing
        someone out bounds this with ``asyncio.timeout``, so clients end their sessions
        before the browser comes back to them but a slow one never hangs the page; the
        sending itself is shielded and carries on."""
        if not ids:
            return
        await asyncio.shield(self.deliver_in_background(ids))
        # Another process may have claimed some first: wait for their outcome too.
        while await self._unattempted(ids):  # noqa: ASYNC110 - rows another process owns
            await asyncio.sleep(0.05)

    async def _unattempted(self, ids: list[str]) -> bool:
        async with self.db.session() as session:
            repo = LogoutDeliveries(session)
            for delivery_id in ids:
                row = await repo.get(delivery_id)
                if row is not None and row.delivered_at is None and row.abandoned_at is None \
                        and row.last_error is None:
                    return True
        return False

    async def _attempt(self, delivery_id: str, seen: datetime) -> bool:
        async with self.db.session() as session:
            claimed = await LogoutDeliveries(session).claim(delivery_id, seen, LEASE)
        if claimed is None:
            return False
        error = await self._post(claimed)
        async with self.db.session() as session:
            await self._record(session, claimed, error)
        return error is None

    async def _post(self, claimed: Claimed) -> str | None:
        """POST the notice; None on success, else a short reason (no token, no URL)."""
        client, row = claimed.client, claimed.delivery
        uri = client.backchannel_logout_uri
        if not uri:
            return "the client no longer has a backchannel_logout_uri"
        try:
            keys = await self.load_keys()
            token = logout_token(
                keys,
                alg=client.id_token_signed_response_alg,
                issuer=self.settings.issuer,
                client_id=client.id,
                subject=subject_for(client, row.user_id, self.subject_key),
                sid=row.session_id,
            )
        except (KeyError, ValueError) as exc:
            log.warning("cannot sign a logout token for client %s: %s", client.id,
                        type(exc).__name__)
            return f"cannot sign the logout token ({type(exc).__name__})"
        try:
            # §2.5: a form POST of logout_token; redirects are not followed.
            async with self.fetcher.client.stream(
                "POST", uri, data={"logout_token": token},
                headers={"Accept": "application/json, text/plain, */*"},
                timeout=self.settings.backchannel_logout_timeout,
            ) as response:
                status = response.status_code
        except httpx.TimeoutException as exc:
            return f"timed out ({type(exc).__name__})"
        except httpx.HTTPError as exc:
            reason = refusal(exc)
            return f"refused: {reason}" if reason else f"request failed ({type(exc).__name__})"
        return None if status in SUCCESS else f"HTTP {status}"

    async def _record(self, session: AsyncSession, claimed: Claimed, error: str | None
                      ) -> None:
        row, client = claimed.delivery, claimed.client
        repo = LogoutDeliveries(session)
        details = {"session_id": row.session_id, "user_id": row.user_id,
                   "attempts": row.attempts}
        if error is None:
            await repo.delivered(row.id)
            await record(session, "logout.backchannel_delivered", org_id=client.org_id,
                         target=f"client:{client.id}", **details)
            return
        give_up_at = row.created_at + timedelta(seconds=self.settings.backchannel_logout_retry_for)
        retry_at = utcnow() + retry_delay(row.attempts)
        if retry_at > give_up_at:
            await repo.failed(row.id, error, None)
            await record(session, "logout.backchannel_abandoned", outcome="failure",
                         org_id=client.org_id, target=f"client:{client.id}",
                         error=error, **details)
            log.warning("back-channel logout to client %s abandoned after %d attempts: %s",
                        client.id, row.attempts, error)
            return
        await repo.failed(row.id, error, retry_at)
        log.info("back-channel logout to client %s failed (attempt %d): %s; retrying",
                 client.id, row.attempts, error)
