"""A hostile upstream: every broken ID token is refused, audited with its reason, and
signs nobody in; a slow or failing token endpoint gets a page, never a 500."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from tests.federation.hostile import CLIENT_ID, CLIENT_SECRET, Hostile, hostile_server
from tests.federation.support import add_provider, query
from tests.helpers import services_of

from portico.storage.models import AuditEvent, Session, User

START = "/api/v1/external-auth/hostile/start"


@pytest.fixture(scope="module")
def hostile() -> Iterator[Hostile]:
    with hostile_server() as h:
        yield h


async def _provider(app, hostile: Hostile, **overrides):
    body = {"slug": "hostile", "display_name": "Hostile IdP", "kind": "oidc",
            "issuer": hostile.url, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET,
            "allow_signup": True, "options": {"fetch_userinfo": False}}
    body.update(overrides)
    return await add_provider(app, body)


async def _attempt(app, hostile: Hostile, mode: str, start: str = START):
    hostile.mode = mode
    client = app.test_client()
    begun = await client.get(start)
    if begun.status_code != 302:
        return begun
    sent = query(begun.headers["Location"])
    hostile.nonce = sent["nonce"]
    return await client.get(f"/api/v1/external-auth/hostile/callback?code=c0de"
                            f"&state={sent['state']}")


async def _state(app) -> tuple[int, int, list[str]]:
    async with services_of(app).db.session() as s:
        users = await s.scalar(select(func.count()).select_from(User))
        sessions = await s.scalar(select(func.count()).select_from(Session))
        reasons = [e.details.get("reason") for e in await s.scalars(
            select(AuditEvent).where(AuditEvent.action == "login.failed"))]
    return users, sessions, reasons


async def test_a_well_behaved_answer_signs_in_with_its_acr_amr_and_auth_time(app, hostile):
    await _provider(app, hostile)
    answer = await _attempt(app, hostile, "good")
    assert answer.status_code == 303, await answer.get_data(as_text=True)
    async with services_of(app).db.session() as s:
        session = await s.scalar(select(Session))
    assert session.amr == ["fed", "pwd", "otp"] and session.acr == "urn:hostile:loa:2"
    assert (session.created_at - session.auth_time).total_seconds() >= 4
    sent = hostile.token_requests[-1]
    assert sent["code"] == "c0de" and len(sent["code_verifier"]) >= 43


@pytest.mark.parametrize("mode", [
    "wrong_iss", "wrong_aud", "extra_aud_no_azp", "wrong_nonce", "expired", "future_iat",
    "alg_none", "hs256_with_public_key", "bad_signature", "unknown_kid", "wrong_at_hash",
    "no_id_token",
])
async def test_a_bad_id_token_is_refused(app, hostile, mode):
    await _provider(app, hostile)
    answer = await _attempt(app, hostile, mode)
    html = await answer.get_data(as_text=True)
    assert answer.status_code == 400, html
    assert "Hostile IdP" in html
    assert await _state(app) == (0, 0, ["invalid_id_token"])


@pytest.mark.parametrize(("mode", "status", "reason"), [
    ("advertise_none", 502, "unsupported_alg"),
    ("discovery_issuer", 502, "issuer_mismatch"),
    ("token_error", 400, "token_error"),
    ("server_error", 502, "upstream_http_error"),
])
async def test_a_broken_upstream_gets_a_page_and_an_audit_reason(app, hostile, mode, status,
                                                                 reason):
    await _provider(app, hostile)
    answer = await _attempt(app, hostile, mode)
    assert answer.status_code == status, await answer.get_data(as_text=True)
    assert await _state(app) == (0, 0, [reason])


async def test_a_slow_upstream_times_out(settings, hostile):
    from tests.api.conftest import app_with

    async with app_with(settings, upstream_timeout=1.0) as app:
        await _provider(app, hostile)
        answer = await _attempt(app, hostile, "slow")
        assert answer.status_code == 504
        assert "did not answer in time" in await answer.get_data(as_text=True)
        assert await _state(app) == (0, 0, ["timeout"])


async def test_a_fresh_login_that_is_not_fresh_is_refused(app, hostile):
    from tests.helpers import REDIRECT, add_client, pkce

    await _provider(app, hostile)
    rp = await add_client(services_of(app), first_party=True)
    client = app.test_client()
    _, challenge = pkce()
    parked = await client.get(
        f"/authorize?client_id={rp.client.id}&redirect_uri={REDIRECT}&response_type=code"
        f"&scope=openid&code_challenge={challenge}&code_challenge_method=S256"
        "&idp=hostile&max_age=0")
    login = await client.get(parked.headers["Location"].removeprefix("http://127.0.0.1:8000"))
    answer = await _attempt_with(client, hostile, "stale_auth_time", login.headers["Location"])
    assert answer.status_code == 400
    assert await _state(app) == (0, 0, ["stale_login"])


async def _attempt_with(client, hostile: Hostile, mode: str, start: str):
    hostile.mode = mode
    begun = await client.get(start)
    sent = query(begun.headers["Location"])
    assert sent["prompt"] == "login"
    hostile.nonce = sent["nonce"]
    return await client.get(f"/api/v1/external-auth/hostile/callback?code=c0de"
                            f"&state={sent['state']}")
