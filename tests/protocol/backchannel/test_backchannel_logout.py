"""OIDC Back-Channel Logout 1.0: when a session ends, every client that took part in it
and registered a backchannel_logout_uri receives a Logout Token, whatever ended it."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from urllib.parse import urlencode

from joserfc.jws import extract_compact
from sqlalchemy import select, update
from tests.helpers import REDIRECT, add_client, jwt_claims, query_of, services_of
from tests.protocol.logout_support import Receiver, signed_in_rp, verify_logout_token

from portico.accounts.sessions import revoke_other_sessions
from portico.protocol.logout.logout_token import EVENT
from portico.protocol.logout.worker import COURIER
from portico.storage.maintenance import purge
from portico.storage.models import AuditEvent, Client, LogoutDelivery, SessionClient
from portico.storage.models.base import utcnow
from portico.storage.repositories import logout as logout_repo


async def end_session(rp, id_token: str, **extra: str):
    query = {"id_token_hint": id_token, "post_logout_redirect_uri": "https://rp.example/bye",
             "state": "s1", **extra}
    return await rp.browser.client.get("/end_session?" + urlencode(query))


async def deliveries(app) -> list[LogoutDelivery]:
    async with services_of(app).db.session() as session:
        return list((await session.execute(select(LogoutDelivery))).scalars())


async def audit(app, action: str) -> list[AuditEvent]:
    async with services_of(app).db.session() as session:
        stmt = select(AuditEvent).where(AuditEvent.action == action)
        return list((await session.execute(stmt)).scalars())


async def test_signing_out_posts_a_logout_token_before_redirecting(rp, receiver: Receiver):
    tokens = await rp.tokens()
    id_claims = jwt_claims(tokens["id_token"])

    response = await end_session(rp, tokens["id_token"])

    assert response.status_code == 302
    assert response.headers["Location"] == "https://rp.example/bye?state=s1"
    # The page waited for the notice: it has arrived before the browser goes back.
    assert len(receiver.hits) == 1
    hit = receiver.hits[0]
    assert hit["method"] == "POST" and hit["path"] == "/backchannel"
    assert hit["content_type"] == "application/x-www-form-urlencoded"
    assert list(hit["form"]) == ["logout_token"] and len(hit["form"]["logout_token"]) == 1
    header, claims = await verify_logout_token(rp.app, hit["form"]["logout_token"][0])
    assert header["typ"] == "logout+jwt" and header["alg"] == "RS256" and header["kid"]
    assert claims["iss"] == "http://127.0.0.1:8000"
    assert claims["aud"] == rp.client_id
    assert claims["sub"] == id_claims["sub"] and claims["sid"] == id_claims["sid"]
    assert claims["events"] == {EVENT: {}}
    assert 0 < claims["exp"] - claims["iat"] <= 120 and claims["jti"]
    assert "nonce" not in claims
    [row] = await deliveries(rp.app)
    assert row.delivered_at is not None and row.attempts == 1 and row.last_error is None
    [event] = await audit(rp.app, "logout.backchannel_delivered")
    assert event.target == f"client:{rp.client_id}"
    assert event.details["session_id"] == id_claims["sid"]


async def test_the_token_is_signed_with_the_clients_id_token_algorithm(app, receiver: Receiver):
    rp = await signed_in_rp(app, id_token_alg="ES256",
                            backchannel_logout_uri=receiver.backchannel_uri)
    tokens = await rp.tokens()
    await end_session(rp, tokens["id_token"])
    header, _ = await verify_logout_token(app, receiver.hits[0]["form"]["logout_token"][0])
    assert header["alg"] == "ES256" == extract_compact(tokens["id_token"].encode()).headers()["alg"]


async def test_a_pairwise_client_gets_its_own_sub(rp, receiver: Receiver):
    async with services_of(rp.app).db.session() as session:
        await session.execute(update(Client).where(Client.id == rp.client_id)
                              .values(subject_type="pairwise"))
    tokens = await rp.tokens()
    await end_session(rp, tokens["id_token"])
    _, claims = await verify_logout_token(rp.app, receiver.hits[0]["form"]["logout_token"][0])
    sub = jwt_claims(tokens["id_token"])["sub"]
    assert claims["sub"] == sub and len(sub) == 43  # HMAC-based, not the account id


async def test_a_session_ended_elsewhere_reaches_the_client_too(rp, receiver: Receiver):
    """Password resets, admin disables and the account page all end sessions through
    the same two primitives; the worker sends at once after their commit."""
    tokens = await rp.tokens()
    sid = jwt_claims(tokens["id_token"])["sid"]
    user_id = jwt_claims(tokens["id_token"])["sub"]

    async def reset(session):
        return await revoke_other_sessions(session, user_id, keep=None)

    assert await services_of(rp.app).db.run(reset) == 1
    hits = await asyncio.to_thread(receiver.wait_for, 1)
    _, claims = await verify_logout_token(rp.app, hits[0]["form"]["logout_token"][0])
    assert claims["sid"] == sid


async def test_taking_part_is_recorded_once_per_session_and_client(rp, receiver: Receiver):
    await rp.tokens()
    tokens = await rp.tokens()
    async with services_of(rp.app).db.session() as session:
        rows = list((await session.execute(select(SessionClient))).scalars())
    assert [(r.session_id, r.client_id) for r in rows] == [
        (jwt_claims(tokens["id_token"])["sid"], rp.client_id)]
    await end_session(rp, tokens["id_token"])
    assert len(receiver.hits) == 1


async def test_clients_without_a_backchannel_uri_get_nothing(rp, receiver: Receiver):
    other = await add_client(services_of(rp.app), name="Plain RP")
    tokens = await rp.tokens()
    await rp.browser.follow(await rp.browser.authorize(**rp.params(client_id=other.client.id)))
    await end_session(rp, tokens["id_token"])
    assert [r.client_id for r in await deliveries(rp.app)] == [rp.client_id]


async def test_online_grants_end_with_the_session_offline_ones_survive(rp, receiver: Receiver):
    online = await rp.tokens(scope="openid profile")
    offline = await rp.tokens(scope="openid offline_access")
    await end_session(rp, online["id_token"])

    client = rp.app.test_client()
    gone = await client.get("/userinfo",
                            headers={"Authorization": f"Bearer {online['access_token']}"})
    assert gone.status_code == 401
    # OIDC Core §11 / Back-Channel Logout §2.7: offline_access outlives the login.
    refreshed = await rp.token({"grant_type": "refresh_token",
                                "refresh_token": offline["refresh_token"]})
    assert refreshed.status_code == 200, await refreshed.get_json()


async def test_a_failing_client_is_retried_later_then_given_up(rp, receiver: Receiver):
    receiver.status = 500
    tokens = await rp.tokens()
    await end_session(rp, tokens["id_token"])
    [row] = await deliveries(rp.app)
    assert row.delivered_at is None and row.attempts == 1 and row.last_error == "HTTP 500"
    assert row.next_attempt_at > utcnow() + timedelta(seconds=5)
    courier = rp.app.app.extensions[COURIER]
    assert await courier.deliver() == 0  # not due yet: nothing is sent
    assert len(receiver.hits) == 1

    db = services_of(rp.app).db
    async with db.session() as session:  # time passes
        await session.execute(update(LogoutDelivery).values(next_attempt_at=utcnow()))
    receiver.status = 204  # §2.8: 204 No Content is a success too
    assert await courier.deliver() == 1
    [row] = await deliveries(rp.app)
    assert row.delivered_at is not None and row.attempts == 2 and row.last_error is None


async def test_a_notice_is_abandoned_after_the_retry_window(rp, receiver: Receiver):
    receiver.status = 302  # redirects are never followed
    tokens = await rp.tokens()
    await end_session(rp, tokens["id_token"])
    db = services_of(rp.app).db
    async with db.session() as session:
        await session.execute(update(LogoutDelivery).values(
            next_attempt_at=utcnow(), created_at=utcnow() - timedelta(days=2)))
    assert await rp.app.app.extensions[COURIER].deliver() == 0
    [row] = await deliveries(rp.app)
    assert row.abandoned_at is not None and row.last_error == "HTTP 302"
    assert [h["path"] for h in receiver.hits] == ["/backchannel", "/backchannel"]
    [event] = await audit(rp.app, "logout.backchannel_abandoned")
    assert event.outcome == "failure" and event.details["error"] == "HTTP 302"
    token = receiver.hits[0]["form"]["logout_token"][0]
    assert token not in str(event.details) and token not in (row.last_error or "")


async def test_a_slow_client_does_not_hold_the_page(rp, receiver: Receiver):
    receiver.delay = 2.5  # longer than backchannel_logout_timeout (1 s)
    tokens = await rp.tokens()
    loop = asyncio.get_running_loop()
    started = loop.time()
    response = await end_session(rp, tokens["id_token"])
    assert response.status_code == 302 and loop.time() - started < 2.5
    await asyncio.sleep(0.3)
    [row] = await deliveries(rp.app)
    assert row.last_error is not None and row.last_error.startswith("timed out")


async def test_two_senders_never_deliver_the_same_notice_twice(app, receiver: Receiver):
    """Every instance polls; the claim (a conditional UPDATE) lets one of them send."""
    from portico.protocol.logout.backchannel import Courier

    rp = await signed_in_rp(app, backchannel_logout_uri=receiver.backchannel_uri)
    for _ in range(4):
        await rp.tokens()
    db = services_of(app).db
    user_id = jwt_claims((await rp.tokens())["id_token"])["sub"]
    worker_courier = app.app.extensions[COURIER]
    couriers = [Courier(db, worker_courier.settings, worker_courier.load_keys,
                        worker_courier.fetcher, subject_key=worker_courier.subject_key)
                for _ in range(3)]
    # Sessions ended with the wake-up suppressed, so only the racing couriers send.
    saved = set(logout_repo._on_queued)
    logout_repo._on_queued.clear()
    try:
        for _ in range(3):  # three more sessions of alice, each with the client in it
            browser = type(rp.browser)(app.test_client())
            await browser.follow(await browser.login(await browser.authorize(**rp.params())))
        async with db.session() as session:
            sessions = {s for s, in (await session.execute(
                select(SessionClient.session_id))).all()}
        assert len(sessions) == 4

        async def end_all(session):
            return await revoke_other_sessions(session, user_id, keep=None)

        assert await db.run(end_all) == 4
        sent = await asyncio.gather(*(c.deliver() for c in couriers))
    finally:
        logout_repo._on_queued.update(saved)
    assert sum(sent) == 4
    tokens = [h["form"]["logout_token"][0] for h in receiver.hits]
    sids = sorted([(await verify_logout_token(app, t))[1]["sid"] for t in tokens])
    assert sids == sorted(sessions)


async def test_maintenance_forgets_ended_sessions_and_old_notices_only(rp, receiver: Receiver):
    receiver.status = 500
    tokens = await rp.tokens()
    await end_session(rp, tokens["id_token"])  # one pending notice (it failed)
    other = await signed_in_other_session(rp)
    db = services_of(rp.app).db
    async with db.session() as session:
        done = LogoutDelivery(id="old-done", client_id=rp.client_id, user_id="u",
                              session_id="s", created_at=utcnow() - timedelta(days=9),
                              delivered_at=utcnow() - timedelta(days=8))
        recent = LogoutDelivery(id="new-done", client_id=rp.client_id, user_id="u",
                                session_id="s", delivered_at=utcnow())
        session.add_all([done, recent])

    counts = await purge(db)

    assert counts["logout_deliveries"] == 1 and counts["session_clients"] == 1
    remaining = {r.id for r in await deliveries(rp.app)}
    assert "old-done" not in remaining and "new-done" in remaining and len(remaining) == 2
    async with db.session() as session:
        left = [r.session_id for r in (await session.execute(select(SessionClient))).scalars()]
    assert left == [other]


async def signed_in_other_session(rp) -> str:
    """alice signs in again in a second browser, with the client: a live session."""
    browser = type(rp.browser)(rp.app.test_client())
    done = await browser.follow(await browser.login(await browser.authorize(**rp.params())))
    code = query_of(done.headers["Location"])["code"]
    response = await rp.token({"grant_type": "authorization_code", "code": code,
                               "redirect_uri": "https://rp.example/cb",
                               "code_verifier": rp.verifier})
    return jwt_claims((await response.get_json())["id_token"])["sid"]


async def test_deleting_the_account_notifies_its_applications(rp, receiver: Receiver):
    """A deleted person's sessions are revoked before the rows go, not merely cascaded
    away, so their applications hear of it like any other sign-out."""
    from portico.accounts.admin_users import delete_account, host_actor

    tokens = await rp.tokens()
    claims = jwt_claims(tokens["id_token"])
    await delete_account(services_of(rp.app).db, host_actor(), claims["sub"])
    hits = await asyncio.to_thread(receiver.wait_for, 1)
    _, logout = await verify_logout_token(rp.app, hits[0]["form"]["logout_token"][0])
    assert logout["sub"] == claims["sub"] and logout["sid"] == claims["sid"]


async def test_signing_in_again_keeps_the_session_and_logs_nobody_out(rp, receiver: Receiver):
    """prompt=login re-authenticates the same person in place: the sid applications
    hold stays valid, auth_time moves, and no logout notice goes out."""
    first = jwt_claims((await rp.tokens())["id_token"])
    await asyncio.sleep(1.1)  # auth_time has one-second resolution
    response = await rp.browser.authorize(**rp.params(prompt="login"))
    response = await rp.browser.follow(await rp.browser.login(response))
    code = query_of(response.headers["Location"])["code"]
    body = await (await rp.token({"grant_type": "authorization_code", "code": code,
                                  "redirect_uri": REDIRECT,
                                  "code_verifier": rp.verifier})).get_json()
    second = jwt_claims(body["id_token"])
    assert second["sid"] == first["sid"] and second["auth_time"] > first["auth_time"]
    await asyncio.sleep(0.3)
    assert receiver.hits == [] and await deliveries(rp.app) == []
