"""The loop that sends back-channel logout notices from every instance.

It wakes when a transaction that queued notices commits in this process (an
``after_commit`` hook in ``storage.repositories.logout``), so a logout reaches the
clients at once whichever code path ended the session, and otherwise every
``POLL`` seconds to retry due notices and pick up ones queued by a process that
died before sending them. The wake-up is only a shortcut: the rows are the truth,
and a claim (conditional UPDATE) keeps two instances from sending the same notice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from portico.protocol.logout.backchannel import Courier
from portico.storage.repositories.logout import on_notices_queued

if TYPE_CHECKING:
    from quart import Quart

    from portico.services import Services

log = logging.getLogger("portico.logout")
POLL = 5.0
# Where pages find this process's courier (``app.extensions``).
COURIER = "portico.logout.courier"


class DeliveryWorker:
    """One process's sender; stopped gracefully like the maintenance loop."""

    def __init__(self, courier: Courier, poll: float = POLL) -> None:
        self.courier = courier
        self.poll = poll
        self.wake = asyncio.Event()
        self.stopping = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._unregister = on_notices_queued(self._notify)
        self.task = asyncio.create_task(self._run(), name="portico-logout-worker")

    def _notify(self) -> None:
        # after_commit runs on the event loop's thread; call_soon keeps it thread-safe.
        self._loop.call_soon_threadsafe(self.wake.set)

    async def _run(self) -> None:
        while not self.stopping.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), self.poll)
            self.wake.clear()
            if self.stopping.is_set():
                return
            try:
                while await self.courier.deliver() and not self.stopping.is_set():
                    pass  # a full batch may mean more are due
            except Exception:
                # The database briefly away, ...: never take the server down; retry later.
                log.warning("back-channel logout delivery failed; retrying", exc_info=True)

    async def stop(self, grace: float = 10.0) -> None:
        """Stop waking, let an ongoing pass and page-started sends finish (``grace``)."""
        self._unregister()
        self.stopping.set()
        self.wake.set()
        pending = [self.task, *self.courier.tasks]
        _, late = await asyncio.wait(pending, timeout=grace)
        for task in late:
            task.cancel()
        for task in late:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


def start_worker(app: Quart, svc: Services) -> DeliveryWorker:
    """Start this process's sender and let pages reach its courier (``app.extensions``)."""
    from portico.protocol.subjects import pairwise_key
    from portico.services import master_key

    courier = Courier(svc.db, svc.settings, svc.keys.load, svc.fetcher,
                      subject_key=pairwise_key(master_key(svc.settings)))
    app.extensions[COURIER] = courier
    return DeliveryWorker(courier)
