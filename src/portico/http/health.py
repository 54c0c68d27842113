"""``/healthz`` and ``/readyz``: what a load balancer or orchestrator asks before it
sends traffic.

The two answer different questions. Liveness (``/healthz``) only says the process
answers HTTP; it never touches the database, so a database outage does not make an
orchestrator restart every healthy instance at once. Readiness (``/readyz``) says this
instance can serve a login right now: the database answers, its schema is at the
migration head this code expects (an instance started before ``portico db upgrade`` must
not take traffic), and the signing keys load and open with this instance's master key
(a wrong ``PORTICO_SECRET_KEY`` shows up here rather than on the first token request).

Neither takes a rate-limit hit or a CSRF token, and both say ``Cache-Control: no-store``
so no proxy answers for a dead instance.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from quart import Blueprint, Response, jsonify
from sqlalchemy import text

from portico.crypto.signing_keys import SUPPORTED_ALGS
from portico.http import services

if TYPE_CHECKING:
    from portico.services import Services

bp = Blueprint("health", __name__)
log = logging.getLogger("portico.health")

# Each check gets this long; a hung database must not hang the prober as well.
CHECK_TIMEOUT = 3.0


def _answer(body: dict[str, Any], status: int) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def head_revision() -> str:
    """The newest migration this code ships."""
    from portico.storage.migrate import HEAD

    return HEAD


async def _database(svc: Services) -> None:
    async with svc.db.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))


async def _migrations(svc: Services) -> None:
    from portico.storage.migrate import current_revision

    current, head = await current_revision(svc.db), head_revision()
    if current != head:
        raise RuntimeError(f"schema at {current or 'nothing'}, code expects {head}")


async def _signing_keys(svc: Services) -> None:
    keys = await svc.keys.load()
    missing = [alg for alg in SUPPORTED_ALGS if alg not in keys.signers]
    if missing:
        raise RuntimeError(f"no active key for {', '.join(missing)}")


CHECKS = (("database", _database), ("migrations", _migrations), ("signing_keys", _signing_keys))


@bp.get("/healthz")
async def healthz() -> Response:
    """The process is up and serving HTTP. Deliberately checks nothing else."""
    return _answer({"status": "ok"}, 200)


@bp.get("/readyz")
async def readyz() -> Response:
    """200 when every check passes; 503 naming the failed checks otherwise."""
    svc = services()
    checks: dict[str, dict[str, Any]] = {}
    failed: list[str] = []
    for name, check in CHECKS:
        if failed:
            # Later checks need the database; don't wait out their timeouts as well.
            checks[name] = {"ok": False, "error": f"skipped: {failed[0]} failed"}
            continue
        try:
            await asyncio.wait_for(check(svc), CHECK_TIMEOUT)
            checks[name] = {"ok": True}
        except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
            # The class name and a short message: enough to act on, and no connection
            # string (which may hold a password) because drivers don't put it there.
            detail = str(exc).splitlines()[0][:200] if str(exc) else ""
            error = type(exc).__name__ + (f": {detail}" if detail else "")
            log.warning("readiness check %s failed: %s", name, error)
            checks[name] = {"ok": False, "error": error}
            failed.append(name)
    if failed:
        return _answer({"status": "unavailable", "failed": failed, "checks": checks}, 503)
    return _answer({"status": "ok", "checks": checks}, 200)
