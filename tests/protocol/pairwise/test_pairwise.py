"""Pairwise subject identifiers (OIDC Core §8.1): one stable ``sub`` per sector, the
same in the ID token, userinfo, the access token and introspection, different for
another sector, and recognised again in an ``id_token_hint``."""

from __future__ import annotations

import base64
from typing import Any

from tests.helpers import Browser, add_client, add_user, jwt_claims, pkce, query_of, services_of

from portico.protocol.subjects import pairwise_key, pairwise_subject, sector_of, subject_for
from portico.services import master_key
from portico.storage.models import Client

SCOPE = "openid profile offline_access"


class Party:
    """A registered client and the browser that signs alice in for it."""

    def __init__(self, app: Any, client: Client, secret: str, browser: Browser) -> None:
        self.app, self.client, self.secret, self.browser = app, client, secret, browser

    def basic(self) -> dict[str, str]:
        raw = f"{self.client.id}:{self.secret}".encode()
        return {"Authorization": "Basic " + base64.b64encode(raw).decode()}

    async def authorize(self, **extra: str) -> Any:
        verifier, challenge = pkce()
        self.verifier = verifier
        params = dict(client_id=self.client.id, redirect_uri=self.client.redirect_uris[0],
                      response_type="code", scope=SCOPE, state="s", nonce="n",
                      code_challenge=challenge, code_challenge_method="S256", **extra)
        return await self.browser.follow(await self.browser.authorize(**params))

    async def tokens(self, **extra: str) -> dict[str, Any]:
        response = await self.authorize(**extra)
        if "code" not in query_of(response.headers.get("Location", "")):
            response = await self.browser.follow(await self.browser.consent(response))
        code = query_of(response.headers["Location"])["code"]
        answer = await self.app.test_client().post("/token", headers=self.basic(), form={
            "grant_type": "authorization_code", "code": code,
            "redirect_uri": self.client.redirect_uris[0], "code_verifier": self.verifier})
        body = await answer.get_json()
        assert answer.status_code == 200, body
        return body


async def party(app: Any, browser: Browser, redirect: str, **metadata: Any) -> Party:
    reg = await add_client(services_of(app), redirect_uris=[redirect], first_party=False,
                           metadata=metadata or None)
    return Party(app, reg.client, reg.secret or "", browser)


async def signed_in(app: Any) -> tuple[Any, Browser]:
    user = await add_user(services_of(app), email_verified=True)
    browser = Browser(app.test_client())
    return user, browser


async def test_a_pairwise_client_sees_one_stable_sub_everywhere(app):
    alice, browser = await signed_in(app)
    rp = await party(app, browser, "https://photos.example/cb", subject_type="pairwise")
    response = await rp.authorize()
    response = await browser.follow(await browser.consent(await browser.login(response)))
    assert "code" in query_of(response.headers["Location"])
    first = await rp.tokens()
    sub = jwt_claims(first["id_token"])["sub"]
    assert sub != alice.id and len(sub) == 43
    assert jwt_claims(first["access_token"])["sub"] == sub
    info = await app.test_client().get(
        "/userinfo", headers={"Authorization": f"Bearer {first['access_token']}"})
    assert (await info.get_json())["sub"] == sub
    introspected = await (await app.test_client().post(
        "/introspect", headers=rp.basic(), form={"token": first["access_token"]})).get_json()
    assert introspected["active"] and introspected["sub"] == sub
    assert "username" not in introspected  # it would undo the pairwise identifier
    refreshed = await (await app.test_client().post("/token", headers=rp.basic(), form={
        "grant_type": "refresh_token", "refresh_token": first["refresh_token"]})).get_json()
    assert jwt_claims(refreshed["id_token"])["sub"] == sub
    second = await rp.tokens()
    assert jwt_claims(second["id_token"])["sub"] == sub  # stable


async def test_sectors_decide_who_shares_a_sub(app):
    alice, browser = await signed_in(app)
    photos = await party(app, browser, "https://photos.example/cb", subject_type="pairwise")
    photos_too = await party(app, browser, "https://photos.example/other",
                             subject_type="pairwise")
    mail = await party(app, browser, "https://mail.example/cb", subject_type="pairwise")
    public = await party(app, browser, "https://public.example/cb")
    response = await photos.authorize()
    await browser.follow(await browser.consent(await browser.login(response)))
    subs = {name: jwt_claims((await rp.tokens())["id_token"])["sub"]
            for name, rp in (("photos", photos), ("photos_too", photos_too), ("mail", mail),
                             ("public", public))}
    assert subs["photos"] == subs["photos_too"]
    assert subs["mail"] != subs["photos"]
    assert subs["public"] == alice.id


async def test_an_id_token_hint_with_a_pairwise_sub_identifies_the_user(app):
    _, browser = await signed_in(app)
    rp = await party(app, browser, "https://photos.example/cb", subject_type="pairwise")
    response = await rp.authorize()
    await browser.follow(await browser.consent(await browser.login(response)))
    id_token = (await rp.tokens())["id_token"]
    silent = await rp.authorize(prompt="none", id_token_hint=id_token)
    assert "code" in query_of(silent.headers["Location"]), silent.headers["Location"]

    # Someone else's hint: the person signed in is not the one hinted at.
    await add_user(services_of(app), "bob")
    other_browser = Browser(app.test_client())
    other = Party(app, rp.client, rp.secret, other_browser)
    response = await other.authorize()
    response = await other_browser.login(response, username="bob")
    await other_browser.follow(await other_browser.consent(response))
    refused = await other.authorize(prompt="none", id_token_hint=id_token)
    assert query_of(refused.headers["Location"])["error"] == "login_required"


def test_the_pairwise_sub_is_derived_from_the_master_key_only():
    client = Client(id="c1", name="x", subject_type="pairwise",
                    redirect_uris=["https://photos.example/cb"], sector_identifier_uri=None)
    key = pairwise_key(b"k" * 32)
    assert subject_for(client, "u1", key) == pairwise_subject(key, "photos.example", "u1")
    assert subject_for(client, "u1", key) == subject_for(client, "u1", pairwise_key(b"k" * 32))
    assert subject_for(client, "u1", key) != subject_for(client, "u1", pairwise_key(b"j" * 32))
    assert subject_for(client, "u1", key) != subject_for(client, "u2", key)
    client.subject_type = "public"
    assert subject_for(client, "u1", key) == "u1"
    assert sector_of("https://sector.example/s.json", ["https://a.example/cb"]) == \
        "sector.example"
    assert sector_of(None, ["https://a.example/1", "https://b.example/2"]) is None


async def test_two_apps_with_one_master_key_agree(app, settings, tmp_path):
    """Another instance (same master key, same database) computes the same subs."""
    from portico.app import create_app

    await add_user(services_of(app))
    reg = await add_client(services_of(app), redirect_uris=["https://photos.example/cb"],
                           metadata={"subject_type": "pairwise"})
    other = create_app(settings)
    async with app.app.app_context():
        here = subject_for(reg.client, "u1")
    async with other.app_context():
        there = subject_for(reg.client, "u1")
    assert here == there == pairwise_subject(pairwise_key(master_key(settings)),
                                             "photos.example", "u1")
