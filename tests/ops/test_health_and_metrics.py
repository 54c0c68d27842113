"""/healthz, /readyz and /metrics, in process: what a load balancer and Prometheus see."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from tests.conftest import free_port, make_settings
from tests.helpers import PASSWORD, add_client, add_user, services_of

from portico.app import create_app
from portico.settings import Settings


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a Prometheus text exposition, keyed by name and labels."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def scrape(app: Any) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    response = await app.test_client().get("/metrics")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    return samples(await response.get_data(as_text=True))


def value(scraped: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str,
          **labels: str) -> float:
    return scraped.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
async def tuned_app(settings: Settings) -> AsyncIterator[Any]:
    """The app with a low lockout threshold and a tight login rate limit."""
    tuned = settings.model_copy(update={"max_login_attempts": 2, "rate_limit_account": "4/minute"})
    quart_app = create_app(tuned)
    async with quart_app.test_app() as test_app:
        yield test_app


async def test_healthz_is_up_and_never_cached(app: Any) -> None:
    response = await app.test_client().get("/healthz")
    assert response.status_code == 200
    assert await response.get_json() == {"status": "ok"}
    assert response.headers["Cache-Control"] == "no-store"


async def test_readyz_reports_every_check(app: Any) -> None:
    response = await app.test_client().get("/readyz")
    body = await response.get_json()
    assert response.status_code == 200, body
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "migrations", "signing_keys"}
    assert response.headers["Cache-Control"] == "no-store"


async def test_readyz_fails_when_the_database_is_unreachable(tmp_path: Path) -> None:
    # Nothing listens on this port: the app starts (no lifespan), but cannot be ready.
    url = f"postgresql+asyncpg://portico@127.0.0.1:{free_port()}/portico"
    quart_app = create_app(make_settings(url, tmp_path))
    client = quart_app.test_client()
    assert (await client.get("/healthz")).status_code == 200  # liveness needs no database
    response = await client.get("/readyz")
    body = await response.get_json()
    assert response.status_code == 503
    assert body["status"] == "unavailable" and body["failed"] == ["database"]
    assert body["checks"]["database"]["ok"] is False and body["checks"]["database"]["error"]
    assert body["checks"]["signing_keys"]["error"].startswith("skipped")
    assert response.headers["Cache-Control"] == "no-store"
    assert "portico@" not in str(body)  # no connection string in the answer
    await quart_app.extensions["portico"].db.dispose()


async def test_readyz_fails_when_the_schema_is_behind(app: Any) -> None:
    from sqlalchemy import text

    svc = services_of(app)
    async with svc.db.engine.begin() as conn:
        await conn.execute(text("UPDATE alembic_version SET version_num = 'older'"))
    response = await app.test_client().get("/readyz")
    body = await response.get_json()
    assert response.status_code == 503 and body["failed"] == ["migrations"]
    assert "older" in body["checks"]["migrations"]["error"]


async def test_probes_are_not_rate_limited(tuned_app: Any) -> None:
    client = tuned_app.test_client()
    for _ in range(30):
        assert (await client.get("/healthz")).status_code == 200


async def test_metrics_text_parses_and_counts_requests(app: Any) -> None:
    client = app.test_client()
    before = await scrape(app)
    await client.get("/jwks")
    await client.get("/no/such/page")
    after = await scrape(app)
    name = "portico_http_requests_total"
    assert value(after, name, endpoint="/jwks", method="GET", status="2xx") == (
        value(before, name, endpoint="/jwks", method="GET", status="2xx") + 1
    )
    assert value(after, name, endpoint="<unmatched>", method="GET", status="4xx") >= 1
    assert value(after, "portico_http_request_duration_seconds_count",
                 endpoint="/jwks", method="GET") >= 1
    # The raw path never becomes a label value.
    assert not any(("endpoint", "/no/such/page") in labels for _, labels in after)


async def test_logins_lockouts_and_rate_limits_are_counted(tuned_app: Any) -> None:
    svc = services_of(tuned_app)
    await add_user(svc, "carol")
    client = tuned_app.test_client()
    before = await scrape(tuned_app)
    ok = await client.post("/api/v1/auth/login", json={"username": "carol", "password": PASSWORD})
    assert ok.status_code == 200
    for _ in range(2):
        wrong = {"username": "carol", "password": "Wrong-password-1"}
        assert (await client.post("/api/v1/auth/login", json=wrong)).status_code == 401
    unknown = {"username": "nobody", "password": "Wrong-password-1"}
    assert (await client.post("/api/v1/auth/login", json=unknown)).status_code == 401
    statuses = []
    for _ in range(6):
        again = {"username": "dave", "password": "Wrong-password-1"}
        statuses.append((await client.post("/api/v1/auth/login", json=again)).status_code)
    assert 429 in statuses
    after = await scrape(tuned_app)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("portico_logins_total", outcome="success") == 1
    assert moved("portico_logins_total", outcome="password") == 2
    assert moved("portico_logins_total", outcome="unknown_user") >= 1
    assert moved("portico_lockouts_total") == 1
    assert moved("portico_rate_limited_requests_total", rule="account") >= 1


async def test_tokens_are_counted_by_grant_type(app: Any) -> None:
    svc = services_of(app)
    client_row = await add_client(svc, grant_types=["client_credentials"], redirect_uris=[])
    before = await scrape(app)
    response = await app.test_client().post(
        "/token",
        form={"grant_type": "client_credentials"},
        auth=(client_row.client.id, client_row.secret or ""),
    )
    assert response.status_code == 200, await response.get_json()
    refused = await app.test_client().post(
        "/token", form={"grant_type": "client_credentials"}, auth=(client_row.client.id, "x"))
    assert refused.status_code == 401
    after = await scrape(app)
    name = "portico_tokens_issued_total"
    assert value(after, name, grant_type="client_credentials") == (
        value(before, name, grant_type="client_credentials") + 1
    )


async def test_metrics_can_be_turned_off(settings: Settings) -> None:
    quart_app = create_app(settings.model_copy(update={"metrics_enabled": False}))
    async with quart_app.test_app() as test_app:
        assert (await test_app.test_client().get("/metrics")).status_code == 404
        assert (await test_app.test_client().get("/healthz")).status_code == 200
