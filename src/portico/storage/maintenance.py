"""The periodic clean-up of rows nobody can use any more (SPEC: sessions, codes, ...
"are cleaned up by a periodic maintenance task that is safe to run on every instance
at once").

Every instance runs the loop; a row in ``leases`` (taken with a conditional UPDATE,
or an INSERT whose race is settled by the primary key) lets one of them run a pass
at a time. That is plain SQL, so it works on SQLite, PostgreSQL and the
PostgreSQL-compatible distributed engines, where advisory locks are missing.

Even without the lease a pass would be safe: rows are chosen by a condition that
only ever becomes more true (expired, revoked, completed), and deleted by id in
small batches, each in its own short transaction, so a concurrent pass merely finds
fewer rows and nothing is counted twice (counts come from the DELETE itself).

Revoked sessions go at once: whatever hangs off a session (Portico's own API tokens)
treats a missing row exactly like a revoked one.

What stays on purpose:

* used authorization codes until they expire: a replayed code must still find its
  row so the tokens it produced can be revoked (RFC 6749 §4.1.2);
* rotated refresh tokens until they expire: reuse of a rotated link revokes its
  family, which needs the row;
* audit events, users, clients and consents: those are records, not leftovers;
* finished invites (accepted, cancelled or expired) for ``Retention.invites`` after
  they finished, so admins can still see what became of an invitation;
* back-channel logout notices until delivered or abandoned, then for
  ``Retention.logout_deliveries`` (pending ones are the delivery worker's business).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from portico.storage.db import Database
from portico.storage.models import (
    AccessToken,
    AuthorizationCode,
    DeviceAuthorization,
    DpopProof,
    Invite,
    Lease,
    LogoutDelivery,
    PendingAuthorization,
    PushedAuthorizationRequest,
    RefreshToken,
    Session,
    SessionClient,
    SigningKey,
    UpstreamLoginFlow,
    UsedAssertion,
)
from portico.storage.models.base import utcnow

log = logging.getLogger("portico.maintenance")

LEASE_NAME = "maintenance"
BATCH_SIZE = 500


@dataclass(frozen=True)
class Retention:
    """How long finished rows that admins look at stay before they go (the server passes
    its settings; the default is the default ``invite_ttl``)."""

    invites: timedelta = timedelta(days=7)
    logout_deliveries: timedelta = timedelta(days=7)


@dataclass(frozen=True)
class Rule:
    """Rows of one table that may go: ``condition(cutoff)`` over the model's primary key.

    ``cutoff`` is now, or ``now - kept(retention)`` for rows kept a while after they
    finished."""

    name: str
    model: Any
    key: Any
    condition: Callable[[datetime], ColumnElement[bool]]
    kept: Callable[[Retention], timedelta] | None = None

    def cutoff(self, now: datetime, retention: Retention) -> datetime:
        return now - self.kept(retention) if self.kept else now


RULES: tuple[Rule, ...] = (
    Rule("sessions", Session, Session.id,
         lambda now: or_(Session.expires_at < now, Session.revoked_at.is_not(None))),
    Rule("authorization_codes", AuthorizationCode, AuthorizationCode.id,
         lambda now: AuthorizationCode.expires_at < now),
    Rule("access_tokens", AccessToken, AccessToken.jti,
         lambda now: AccessToken.expires_at < now),
    Rule("refresh_tokens", RefreshToken, RefreshToken.id,
         lambda now: RefreshToken.expires_at < now),
    Rule("pending_authorizations", PendingAuthorization, PendingAuthorization.id,
         lambda now: or_(PendingAuthorization.expires_at < now,
                         PendingAuthorization.completed_at.is_not(None))),
    # RFC 8628: a device authorization is worthless once its device code expired.
    Rule("device_authorizations", DeviceAuthorization, DeviceAuthorization.id,
         lambda now: DeviceAuthorization.expires_at < now),
    # RFC 9126: a pushed request is single use and short-lived; used or expired, it is dead.
    Rule("pushed_authorization_requests", PushedAuthorizationRequest,
         PushedAuthorizationRequest.id,
         lambda now: or_(PushedAuthorizationRequest.expires_at < now,
                         PushedAuthorizationRequest.used_at.is_not(None))),
    Rule("used_assertions", UsedAssertion, UsedAssertion.jti_hash,
         lambda now: UsedAssertion.expires_at < now),
    # RFC 9449 §11.1: a proof past its iat window is refused anyway; its jti can go.
    Rule("dpop_proofs", DpopProof, DpopProof.jti_hash,
         lambda now: DpopProof.expires_at < now),
    Rule("signing_keys", SigningKey, SigningKey.kid,
         lambda now: (SigningKey.status == "retired") & (SigningKey.expires_at < now)),
    # A consumed upstream login flow is never needed again: its state is single use.
    Rule("upstream_login_flows", UpstreamLoginFlow, UpstreamLoginFlow.id,
         lambda now: or_(UpstreamLoginFlow.expires_at < now,
                         UpstreamLoginFlow.consumed_at.is_not(None))),
    Rule("invites", Invite, Invite.id,
         lambda cutoff: or_(Invite.expires_at < cutoff, Invite.accepted_at < cutoff,
                            Invite.cancelled_at < cutoff),
         kept=lambda retention: retention.invites),
    # Which clients took part in a session matters until the session row is gone.
    Rule("session_clients", SessionClient, SessionClient.session_id,
         lambda now: ~exists().where(Session.id == SessionClient.session_id)),
    # Delivered or abandoned logout notices stay a while for admins to look at.
    Rule("logout_deliveries", LogoutDelivery, LogoutDelivery.id,
         lambda cutoff: or_(LogoutDelivery.delivered_at < cutoff,
                            LogoutDelivery.abandoned_at < cutoff),
         kept=lambda retention: retention.logout_deliveries),
)


def new_holder() -> str:
    """A name for this process in the lease row (host, pid and a random suffix)."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}:{secrets.token_hex(4)}"[:64]


async def acquire_lease(db: Database, holder: str, ttl: int, name: str = LEASE_NAME) -> bool:
    """Take the named lease for ``ttl`` seconds if it is free, expired or already ours."""
    now = utcnow()
    until = now + timedelta(seconds=ttl)

    async def take(session: AsyncSession) -> str:
        result = await session.execute(
            update(Lease)
            .where(Lease.name == name, or_(Lease.expires_at < now, Lease.holder == holder))
            .values(holder=holder, expires_at=until)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount:
            return "taken"
        return "absent" if await session.get(Lease, name) is None else "held"

    outcome = await db.run(take)
    if outcome != "absent":
        return outcome == "taken"
    # No row yet: the first instance to insert it wins; the others hit the primary key.
    try:
        async with db.session() as session:
            session.add(Lease(name=name, holder=holder, expires_at=until))
    except IntegrityError:
        return False
    return True


async def release_lease(db: Database, holder: str, name: str = LEASE_NAME) -> None:
    """Give the lease up early (only if still ours), so the next pass need not wait."""

    async def give_up(session: AsyncSession) -> None:
        await session.execute(
            update(Lease)
            .where(Lease.name == name, Lease.holder == holder)
            .values(expires_at=utcnow() - timedelta(seconds=1))
            .execution_options(synchronize_session=False)
        )

    await db.run(give_up)


async def _purge_rule(db: Database, rule: Rule, cutoff: datetime, batch: int,
                      stop: asyncio.Event | None) -> int:
    deleted = 0
    while stop is None or not stop.is_set():

        async def one_batch(session: AsyncSession) -> tuple[int, int]:
            ids = list(
                (await session.execute(select(rule.key).where(rule.condition(cutoff)).limit(batch)))
                .scalars()
            )
            if not ids:
                return 0, 0
            result = await session.execute(
                delete(rule.model)
                .where(rule.key.in_(ids), rule.condition(cutoff))
                .execution_options(synchronize_session=False)
            )
            return len(ids), int(result.rowcount or 0)

        seen, gone = await db.run(one_batch)
        deleted += gone
        if seen < batch:
            break
    return deleted


async def purge(db: Database, *, now: datetime | None = None, batch: int = BATCH_SIZE,
                stop: asyncio.Event | None = None,
                retention: Retention | None = None) -> dict[str, int]:
    """Delete every leftover row now (or until ``stop`` is set, between batches);
    returns how many rows went, per table."""
    now = now or utcnow()
    kept = retention or Retention()
    return {rule.name: await _purge_rule(db, rule, rule.cutoff(now, kept), batch, stop)
            for rule in RULES}


async def run_pass(db: Database, holder: str | None = None, lease_ttl: int = 300,
                   stop: asyncio.Event | None = None,
                   retention: Retention | None = None) -> dict[str, int] | None:
    """One maintenance pass under the lease; None when another instance is running one."""
    holder = holder or new_holder()
    if not await acquire_lease(db, holder, lease_ttl):
        return None
    try:
        counts = await purge(db, stop=stop, retention=retention)
    finally:
        await release_lease(db, holder)
    if any(counts.values()):
        log.info("maintenance removed %s", ", ".join(f"{n} {t}" for t, n in counts.items() if n))
    return counts


class Background:
    """The periodic loop of one process, stopped gracefully.

    Stopping sets an event instead of cancelling straight away: cancelling a task in
    the middle of a database call can leave a pooled connection (notably aiosqlite's
    worker thread) in a state that later hangs ``engine.dispose()``. A pass between
    batches notices the event at once; only one stuck past ``grace`` is cancelled.
    """

    def __init__(self, db: Database, interval: int,
                 retention: Retention | None = None) -> None:
        self.db = db
        self.interval = interval
        self.retention = retention
        self.stopping = asyncio.Event()
        self.passes = 0
        self.task = asyncio.create_task(self._loop(), name="portico-maintenance")

    async def _loop(self) -> None:
        holder = new_holder()
        while True:
            try:
                await asyncio.wait_for(self.stopping.wait(), self.interval)
                return
            except TimeoutError:
                pass
            try:
                await run_pass(self.db, holder, lease_ttl=max(60, self.interval),
                               stop=self.stopping, retention=self.retention)
                self.passes += 1
            except Exception:
                # A failed pass (database briefly away, ...) must never take the server down.
                log.warning("maintenance pass failed; retrying in %s s", self.interval,
                            exc_info=True)

    async def stop(self, grace: float = 10.0) -> None:
        """Ask the loop to end, wait up to ``grace`` seconds, then cancel it."""
        self.stopping.set()
        try:
            await asyncio.wait_for(asyncio.shield(self.task), grace)
        except TimeoutError:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.task


def start_background(db: Database, interval: int,
                     retention: Retention | None = None) -> Background | None:
    """Start the periodic loop (every ``interval`` seconds; 0 disables it)."""
    if interval <= 0:
        return None
    return Background(db, interval, retention)


async def stop_background(loop: Background | None) -> None:
    """Stop the loop started by ``start_background`` (no-op for None)."""
    if loop is not None:
        await loop.stop()
