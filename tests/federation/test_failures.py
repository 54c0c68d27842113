"""Round trips that must fail cleanly: replayed or forged state, a callback in another
browser, a provider disabled mid-flow, an upstream that is down or says no."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select
from tests.conftest import free_port
from tests.federation.conftest import PASSWORD, Upstream
from tests.federation.support import add_provider, local, upstream_sign_in
from tests.helpers import services_of

from portico.federation.providers import update_provider
from portico.storage.models import AuditEvent, Session, User

START = "/api/v1/external-auth/upstream/start"


async def _reasons(app) -> list[str]:
    async with services_of(app).db.session() as s:
        rows = await s.scalars(select(AuditEvent).where(AuditEvent.action == "login.failed"))
        return [e.details.get("reason") for e in rows]


async def _callback(app, client, upstream: Upstream, username: str = "uma") -> str:
    begun = await client.get(START)
    assert begun.status_code == 302
    return local(await asyncio.to_thread(upstream_sign_in, upstream.issuer,
                                         begun.headers["Location"], username, PASSWORD))


async def test_a_callback_works_once_and_a_replay_is_refused(app, upstream: Upstream):
    await add_provider(app, upstream.provider())
    client = app.test_client()
    callback = await _callback(app, client, upstream)
    assert (await client.get(callback)).status_code == 303
    replay = await client.get(callback)
    assert replay.status_code == 400
    assert "expired or was already used" in await replay.get_data(as_text=True)
    assert await _reasons(app) == ["bad_state"]


async def test_an_unknown_or_missing_state_is_refused(app, upstream: Upstream):
    await add_provider(app, upstream.provider())
    client = app.test_client()
    for query in ("?code=abc&state=not-a-state", "?code=abc", ""):
        answer = await client.get("/api/v1/external-auth/upstream/callback" + query)
        assert answer.status_code == 400
    assert await _reasons(app) == ["bad_state"] * 3


async def test_a_callback_opened_in_another_browser_signs_nobody_in(app, upstream: Upstream):
    await add_provider(app, upstream.provider())
    callback = await _callback(app, app.test_client(), upstream)
    stranger = app.test_client()
    answer = await stranger.get(callback)
    assert answer.status_code == 400 and "portico_session=" not in answer.headers.get(
        "Set-Cookie", "")
    async with services_of(app).db.session() as s:
        assert await s.scalar(select(func.count()).select_from(Session)) == 0


async def test_a_provider_disabled_mid_flow_stops_the_sign_in(app, upstream: Upstream):
    provider = await add_provider(app, upstream.provider())
    client = app.test_client()
    callback = await _callback(app, client, upstream)
    svc = services_of(app)
    await update_provider(svc.db, svc.box, provider.id, {"enabled": False}, actor_id=None)
    answer = await client.get(callback)
    assert answer.status_code == 404
    assert "not available for sign-in" in await answer.get_data(as_text=True)
    async with svc.db.session() as s:
        assert await s.scalar(select(func.count()).select_from(User)) == 0
    assert await _reasons(app) == ["provider_disabled"]
    assert (await client.get(START)).status_code == 404


async def test_an_unreachable_upstream_gets_a_page_naming_it(app, upstream: Upstream):
    await add_provider(app, upstream.provider(
        issuer=f"http://127.0.0.1:{free_port()}", display_name="Gone IdP"))
    await add_provider(app, upstream.provider("other", display_name="Backup IdP"))
    answer = await app.test_client().get(START)
    html = await answer.get_data(as_text=True)
    assert answer.status_code == 502
    assert "Signing in with Gone IdP did not work" in html and "could not be reached" in html
    assert "Sign in with Backup IdP" in html and 'href="/login"' in html
    assert await _reasons(app) == ["unreachable"]


async def test_an_upstream_error_in_the_callback_is_shown_and_audited(app, upstream: Upstream):
    await add_provider(app, upstream.provider())
    client = app.test_client()
    begun = await client.get(START)
    state = begun.headers["Location"].split("state=")[1].split("&")[0]
    answer = await client.get(f"/api/v1/external-auth/upstream/callback?error=access_denied"
                              f"&state={state}")
    assert answer.status_code == 400
    assert "cancelled or refused" in await answer.get_data(as_text=True)
    assert await _reasons(app) == ["upstream_denied"]


async def test_an_unknown_provider_is_a_404(app):
    answer = await app.test_client().get("/api/v1/external-auth/nope/start")
    assert answer.status_code == 404
    answer = await app.test_client().get("/api/v1/external-auth/nope/start?format=json")
    assert answer.status_code == 404
    assert answer.headers["Content-Type"] == "application/problem+json"
