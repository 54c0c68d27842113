"""Prometheus metrics: every counter Portico keeps, and ``/metrics`` to read them.

All instrumentation lives here; the rest of the code calls one small function where a
thing happens (``after_request`` for HTTP, the audit recorder for logins and lockouts,
the token route for issued tokens, the rate limiter for refusals).

Labels are bounded on purpose: the endpoint is the *route rule* (``/account/sessions/<id>``,
never the raw path), methods and grant types outside a known list become ``other``, so a
scanner cannot blow up the series count.

Several Hypercorn workers: each is its own process with its own counters. When
``PROMETHEUS_MULTIPROC_DIR`` is set, prometheus-client writes every process's values to
memory-mapped files there and ``/metrics`` adds them up, so whichever worker answers the
scrape reports the whole instance. ``portico serve --workers N`` (N > 1) creates and
removes such a directory itself. The variable must be set before ``prometheus_client`` is
imported, which is why the worker processes (spawned fresh) see it and nothing here reads
it at request time except to choose the collector.

Counts that come from the audit log are taken *after the transaction commits*: a
transaction retried after a serialization failure, or rolled back, counts nothing.
"""

from __future__ import annotations

import os
import time
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from quart import Blueprint, Quart, Response, g, request
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session as OrmSession

REQUESTS = Counter(
    "portico_http_requests",
    "HTTP requests answered, by route rule, method and status class.",
    ["endpoint", "method", "status"],
)
LATENCY = Histogram(
    "portico_http_request_duration_seconds",
    "Time from the start of request handling to the response, by route rule and method.",
    ["endpoint", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
LOGINS = Counter(
    "portico_logins",
    "Password sign-ins, by outcome: success, or the failure reason "
    "(password, unknown_user, disabled, locked).",
    ["outcome"],
)
TOKENS = Counter(
    "portico_tokens_issued",
    "Successful token-endpoint answers, by grant type.",
    ["grant_type"],
)
LOCKOUTS = Counter("portico_lockouts", "Accounts locked after too many failed sign-ins.")
RATE_LIMITED = Counter(
    "portico_rate_limited_requests",
    "Requests refused with 429 by a rate-limit rule (login, account, sensitive, token).",
    ["rule"],
)

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
GRANT_TYPES = frozenset({
    "authorization_code",
    "refresh_token",
    "client_credentials",
    "urn:ietf:params:oauth:grant-type:jwt-bearer",
    "urn:ietf:params:oauth:grant-type:device_code",
    "urn:ietf:params:oauth:grant-type:token-exchange",
})
STATUS_CLASSES = {n: f"{n}xx" for n in range(1, 6)}
LOGIN_FAILURES = frozenset({"password", "unknown_user", "disabled", "locked"})

bp = Blueprint("metrics", __name__)


# --- HTTP ---------------------------------------------------------------------------


async def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def observe(rule: str, method: str, status: int, seconds: float | None) -> None:
    """Count one answered request (and its duration, when known)."""
    method = method if method in METHODS else "other"
    REQUESTS.labels(rule, method, STATUS_CLASSES.get(status // 100, "other")).inc()
    if seconds is not None:
        LATENCY.labels(rule, method).observe(seconds)


async def _observe(response: Response) -> Response:
    rule = request.url_rule.rule if request.url_rule is not None else "<unmatched>"
    started = g.get("metrics_started")
    observe(rule, request.method, response.status_code,
            None if started is None else time.perf_counter() - started)
    return response


def install(app: Quart, *, serve_endpoint: bool) -> None:
    """Time and count every request; serve ``/metrics`` when ``serve_endpoint``.

    Call before other ``before_request`` hooks so their time is measured too.
    """
    app.before_request(_start_timer)
    app.after_request(_observe)
    if serve_endpoint:
        app.register_blueprint(bp)


def render() -> tuple[bytes, str]:
    """The exposition text for this process, or for all workers in multiprocess mode."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST


@bp.get("/metrics")
async def metrics() -> Response:
    """Prometheus text format. Counts only: no user names, client ids or addresses."""
    body, content_type = render()
    response = Response(body, content_type=content_type)
    response.headers["Cache-Control"] = "no-store"
    return response


# --- events -------------------------------------------------------------------------


def token_issued(grant_type: str | None) -> None:
    """The token endpoint answered 200 for ``grant_type``."""
    TOKENS.labels(grant_type if grant_type in GRANT_TYPES else "other").inc()


def rate_limited(rule: str) -> None:
    """A rate-limit rule refused a request."""
    RATE_LIMITED.labels(rule).inc()


_PENDING = "portico.metrics.pending"


def audited(session: AsyncSession, action: str, outcome: str, details: dict[str, Any]) -> None:
    """Called by the audit recorder for every event; counts the ones that are metrics
    once ``session``'s transaction commits."""
    if action == "login.succeeded":
        child: Any = LOGINS.labels("success")
    elif action == "login.failed":
        reason = details.get("reason")
        child = LOGINS.labels(reason if reason in LOGIN_FAILURES else "failure")
    elif action == "account.locked":
        child = LOCKOUTS
    else:
        return
    session.sync_session.info.setdefault(_PENDING, []).append(child)


@event.listens_for(OrmSession, "after_commit")
def _committed(session: OrmSession) -> None:
    for child in session.info.pop(_PENDING, ()):
        child.inc()


@event.listens_for(OrmSession, "after_transaction_end")
def _ended(session: OrmSession, transaction: Any) -> None:
    # Runs after ``after_commit`` on success; after a rollback it drops what was pending.
    if transaction.parent is None:
        session.info.pop(_PENDING, None)
