"""The login page and upstream providers: buttons, the idp hint, and home-realm
discovery by email domain (which then completes at the right provider)."""

from __future__ import annotations

import asyncio

from tests.federation.conftest import PASSWORD, Upstream
from tests.federation.support import add_provider, local, query, upstream_sign_in
from tests.helpers import REDIRECT, add_client, csrf_of, pkce, services_of


async def test_a_company_address_without_password_goes_to_its_provider(app, upstream: Upstream):
    await add_provider(app, upstream.provider(email_domains=["corp.example"]))
    client = app.test_client()
    page = await client.get("/login?next=/account/sessions")
    html = await page.get_data(as_text=True)
    assert 'id="sso-hint"' in html
    assert 'href="/api/v1/external-auth/upstream/start?return_to=/account/sessions"' in html
    routed = await client.post("/login", form={"csrf_token": csrf_of(html),
                                               "username": "Wes@Corp.example", "password": "",
                                               "next": "/account/sessions"})
    assert routed.status_code == 303
    start = routed.headers["Location"]
    assert start.startswith("/api/v1/external-auth/upstream/start?")
    assert query(start) == {"login_hint": "Wes@Corp.example", "return_to": "/account/sessions"}
    begun = await client.get(start)
    assert query(begun.headers["Location"])["login_hint"] == "Wes@Corp.example"
    callback = await asyncio.to_thread(upstream_sign_in, upstream.issuer,
                                       begun.headers["Location"], "wes", PASSWORD)
    done = await client.get(local(callback))
    assert done.status_code == 303 and done.headers["Location"] == "/account/sessions"


async def test_other_addresses_and_passwords_keep_the_local_sign_in(app, upstream: Upstream):
    await add_provider(app, upstream.provider(email_domains=["corp.example"]))
    client = app.test_client()
    html = await (await client.get("/login")).get_data(as_text=True)
    for username, password in (("someone@else.example", ""), ("wes@corp.example", "x")):
        answer = await client.post("/login", form={"csrf_token": csrf_of(html),
                                                   "username": username, "password": password})
        assert answer.status_code == 400


async def test_an_unknown_idp_hint_shows_the_login_page_with_its_buttons(app, upstream: Upstream):
    await add_provider(app, upstream.provider())
    rp = await add_client(services_of(app))
    _, challenge = pkce()
    client = app.test_client()
    parked = await client.get(
        f"/authorize?client_id={rp.client.id}&redirect_uri={REDIRECT}&response_type=code"
        f"&scope=openid&code_challenge={challenge}&code_challenge_method=S256&idp=nope")
    page = await client.get(local(parked.headers["Location"]))
    html = await page.get_data(as_text=True)
    assert page.status_code == 200 and "Sign in with Upstream ID" in html
    ticket = query(parked.headers["Location"])["ticket"]
    assert f"/api/v1/external-auth/upstream/start?ticket={ticket}" in html


async def test_without_providers_the_page_is_unchanged(app):
    html = await (await app.test_client().get("/login")).get_data(as_text=True)
    assert "Sign in with" not in html and "sso-hint" not in html
