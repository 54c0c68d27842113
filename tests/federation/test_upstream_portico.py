"""Signing in through a real second Portico: new people, returning people, the
authorize round trip to a relying party, and the session's authentication facts."""

from __future__ import annotations

import base64

from sqlalchemy import select
from tests.federation.conftest import PASSWORD, Upstream
from tests.federation.support import add_provider, local, query, round_trip
from tests.helpers import REDIRECT, add_client, jwt_claims, pkce, services_of

from portico.storage.models import AuditEvent, FederatedIdentity, Membership, Session, User


async def _user(app, email):
    async with services_of(app).db.session() as s:
        return await s.scalar(select(User).where(User.email == email))


async def test_a_new_person_is_provisioned_and_then_returns_to_the_same_account(
        app, upstream: Upstream):
    provider = await add_provider(app, upstream.provider())
    client = app.test_client()

    first = await round_trip(client, upstream.issuer,
                             "/api/v1/external-auth/upstream/start", "uma", PASSWORD)
    assert first.status_code == 303, await first.get_data(as_text=True)
    assert first.headers["Location"] == "/account"
    assert "portico_session=" in first.headers.get("Set-Cookie", "")
    user = await _user(app, "uma@upstream.example")
    assert user is not None and user.password_hash is None and user.email_verified
    assert user.username == "uma" and user.name == "Uma Upstream"

    again = await round_trip(app.test_client(), upstream.issuer,
                             "/api/v1/external-auth/upstream/start", "uma", PASSWORD)
    assert again.status_code == 303
    async with services_of(app).db.session() as s:
        identities = list(await s.scalars(select(FederatedIdentity)))
        assert [(i.provider_id, i.user_id) for i in identities] == [(provider.id, user.id)]
        sessions = list(await s.scalars(select(Session).where(Session.user_id == user.id)))
        assert len(sessions) == 2 and all(x.amr[0] == "fed" for x in sessions)
        assert await s.scalar(select(Membership.org_id).where(Membership.user_id == user.id))
        events = [(e.action, e.details.get("how")) for e in await s.scalars(
            select(AuditEvent).where(AuditEvent.action == "login.succeeded"))]
    assert events == [("login.succeeded", "signup"), ("login.succeeded", "returning")]


async def test_an_application_gets_a_code_whose_id_token_says_fed(app, upstream: Upstream):
    await add_provider(app, upstream.provider())
    rp = await add_client(services_of(app), first_party=True)
    client = app.test_client()
    verifier, challenge = pkce()
    answer = await client.get(
        "/authorize?" + "&".join(f"{k}={v}" for k, v in {
            "client_id": rp.client.id, "redirect_uri": REDIRECT, "response_type": "code",
            "scope": "openid", "state": "s1", "nonce": "n1", "code_challenge": challenge,
            "code_challenge_method": "S256", "idp": "upstream"}.items()))
    # /authorize parks the request, /login sees idp=upstream and skips the page.
    login = await client.get(local(answer.headers["Location"]))
    assert login.status_code == 303
    start = login.headers["Location"]
    assert start.startswith("/api/v1/external-auth/upstream/start?ticket=")
    done = await round_trip(client, upstream.issuer, start, "uma", PASSWORD)
    assert done.headers["Location"].startswith("/authorize/resume?ticket=")
    final = await client.get(done.headers["Location"])
    params = query(final.headers["Location"])
    assert final.headers["Location"].startswith(REDIRECT) and params["state"] == "s1"
    token = await client.post("/token", form={
        "grant_type": "authorization_code", "code": params["code"], "redirect_uri": REDIRECT,
        "code_verifier": verifier},
        headers={"Authorization": "Basic " + base64.b64encode(
            f"{rp.client.id}:{rp.secret}".encode()).decode()})
    body = await token.get_json()
    assert token.status_code == 200, body
    claims = jwt_claims(body["id_token"])
    assert claims["amr"][0] == "fed" and claims["nonce"] == "n1"


async def test_prompt_login_asks_the_upstream_for_a_fresh_login(app, upstream: Upstream):
    await add_provider(app, upstream.provider())
    rp = await add_client(services_of(app), first_party=True)
    client = app.test_client()
    _, challenge = pkce()
    answer = await client.get(
        f"/authorize?client_id={rp.client.id}&redirect_uri={REDIRECT}&response_type=code"
        f"&scope=openid&code_challenge={challenge}&code_challenge_method=S256"
        "&idp=upstream&prompt=login")
    login = await client.get(local(answer.headers["Location"]))
    begun = await client.get(login.headers["Location"])
    sent = query(begun.headers["Location"])
    assert sent["prompt"] == "login" and sent["max_age"] == "0"
    assert sent["code_challenge_method"] == "S256" and sent["nonce"] and sent["state"]


async def test_the_public_provider_list_shows_buttons_and_nothing_secret(
        app, upstream: Upstream):
    await add_provider(app, upstream.provider())
    await add_provider(app, upstream.provider("other", enabled=False))
    response = await app.test_client().get("/api/v1/external-auth/providers")
    body = await response.get_json()
    assert body == {"items": [{"slug": "upstream", "display_name": "Upstream ID", "icon": None,
                               "kind": "oidc",
                               "start_url": "/api/v1/external-auth/upstream/start"}]}
    page = await (await app.test_client().get("/login")).get_data(as_text=True)
    assert "Sign in with Upstream ID" in page and upstream.client_secret not in page


async def test_start_answers_json_when_asked(app, upstream: Upstream):
    await add_provider(app, upstream.provider())
    response = await app.test_client().post("/api/v1/external-auth/upstream/start",
                                            json={"return_to": "/account/sessions"},
                                            headers={"Accept": "application/json"})
    body = await response.get_json()
    assert response.status_code == 200, body
    assert body["authorization_url"].startswith(upstream.issuer + "/authorize?")
    assert "portico_fed=" in response.headers["Set-Cookie"]


async def test_the_round_trip_works_on_every_database(migrated_database_url, tmp_path,
                                                      upstream: Upstream):
    from tests.conftest import make_settings

    from portico.app import create_app

    quart_app = create_app(make_settings(migrated_database_url, tmp_path))
    async with quart_app.test_app() as app:
        await add_provider(app, upstream.provider())
        for _ in range(2):
            done = await round_trip(app.test_client(), upstream.issuer,
                                    "/api/v1/external-auth/upstream/start", "uma", PASSWORD)
            assert done.status_code == 303, await done.get_data(as_text=True)
        async with services_of(app).db.session() as s:
            assert len(list(await s.scalars(select(User)))) == 1
            assert len(list(await s.scalars(select(FederatedIdentity)))) == 1
