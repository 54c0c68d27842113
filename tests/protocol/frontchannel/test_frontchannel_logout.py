"""OIDC Front-Channel Logout 1.0: the signed-out page renders one iframe per client of
the session with a frontchannel_logout_uri, then continues to the
post_logout_redirect_uri, with or without JavaScript, under a CSP naming only them."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import urlencode

import pytest
from tests.helpers import add_client, csrf_of, jwt_claims, services_of
from tests.protocol.logout_support import signed_in_rp

from portico.errors import ValidationFailed

FC = "https://rp.example/fc"


def iframes(html: str) -> list[str]:
    return [unescape(src) for src in re.findall(r'<iframe src="([^"]*)"', html)]


async def end_session(rp, id_token: str, **extra: str):
    query = {"id_token_hint": id_token, "post_logout_redirect_uri": "https://rp.example/bye",
             "state": "s-2", **extra}
    return await rp.browser.client.get("/end_session?" + urlencode(query))


async def test_the_page_loads_the_iframe_with_iss_and_sid_then_continues(app):
    rp = await signed_in_rp(app, frontchannel_logout_uri=FC,
                            frontchannel_logout_session_required=True)
    tokens = await rp.tokens()
    sid = jwt_claims(tokens["id_token"])["sid"]

    response = await end_session(rp, tokens["id_token"])

    assert response.status_code == 200
    html = await response.get_data(as_text=True)
    assert iframes(html) == [f"{FC}?{urlencode({'iss': 'http://127.0.0.1:8000', 'sid': sid})}"]
    assert 'title="Signing out of Test RP"' in html
    # Without JavaScript: a Refresh header and a link; with it: a nonce'd script.
    assert response.headers["Refresh"] == "3;url=https://rp.example/bye?state=s-2"
    assert 'href="https://rp.example/bye?state=s-2"' in html
    csp = response.headers["Content-Security-Policy"]
    assert "frame-src https://rp.example;" in csp
    nonce = re.search(r"script-src 'nonce-([^']+)'", csp).group(1)
    assert f'<script nonce="{nonce}">' in html
    assert "frame-ancestors 'none'" in csp
    # And the person is signed out.
    again = await rp.browser.authorize(**rp.params(prompt="none"))
    assert "error=login_required" in again.headers["Location"]


async def test_without_session_required_the_uri_is_used_as_registered(app):
    rp = await signed_in_rp(app, frontchannel_logout_uri=FC + "?app=notes")
    tokens = await rp.tokens()
    html = await (await end_session(rp, tokens["id_token"])).get_data(as_text=True)
    assert iframes(html) == [FC + "?app=notes"]


async def test_registered_query_parameters_are_kept_beside_iss_and_sid(app):
    rp = await signed_in_rp(app, frontchannel_logout_uri=FC + "?app=notes",
                            frontchannel_logout_session_required=True)
    tokens = await rp.tokens()
    html = await (await end_session(rp, tokens["id_token"])).get_data(as_text=True)
    [src] = iframes(html)
    assert src.startswith(FC + "?app=notes&iss=") and "&sid=" in src


async def test_every_client_of_the_session_gets_its_iframe(app):
    rp = await signed_in_rp(app, frontchannel_logout_uri=FC)
    svc = services_of(app)
    other = await add_client(svc, name="Other RP", redirect_uris=["https://other.example/cb"],
                             frontchannel_logout_uri="https://other.example/logout")
    plain = await add_client(svc, name="Plain RP")
    tokens = await rp.tokens()
    for client in (other.client, plain.client):
        consent = await rp.browser.follow(await rp.browser.authorize(**rp.params(
            client_id=client.id, redirect_uri=client.redirect_uris[0])))
        done = await rp.browser.follow(await rp.browser.consent(consent))
        assert "code=" in done.headers["Location"]
    response = await end_session(rp, tokens["id_token"])
    html = await response.get_data(as_text=True)
    assert set(iframes(html)) == {FC, "https://other.example/logout"}
    assert "frame-src https://rp.example https://other.example;" in \
        response.headers["Content-Security-Policy"]


async def test_signing_out_at_portico_renders_the_iframes_without_redirecting(app):
    rp = await signed_in_rp(app, frontchannel_logout_uri=FC)
    await rp.tokens()
    page = await rp.browser.client.get("/logout")
    response = await rp.browser.client.post(
        "/logout", form={"csrf_token": csrf_of(await page.get_data(as_text=True))})
    html = await response.get_data(as_text=True)
    assert response.status_code == 200 and iframes(html) == [FC]
    assert "Refresh" not in response.headers and "<script" not in html
    assert "You are signed out" in html


async def test_without_front_channel_clients_the_browser_is_redirected_at_once(app):
    rp = await signed_in_rp(app)
    tokens = await rp.tokens()
    response = await end_session(rp, tokens["id_token"])
    assert response.status_code == 302
    other_page = await rp.browser.client.get("/login")
    assert "frame-src" not in other_page.headers["Content-Security-Policy"]


@pytest.mark.parametrize(("fields", "at_fault"), [
    ({"frontchannel_logout_uri": "https://elsewhere.example/fc"}, "frontchannel_logout_uri"),
    ({"frontchannel_logout_uri": "https://rp.example:8443/fc"}, "frontchannel_logout_uri"),
    ({"frontchannel_logout_uri": "https://rp.example/fc#x"}, "frontchannel_logout_uri"),
    ({"backchannel_logout_uri": "http://rp.example/bc"}, "backchannel_logout_uri"),
    ({"backchannel_logout_uri": "https://rp.example/bc#frag"}, "backchannel_logout_uri"),
    ({"backchannel_logout_uri": "https://user:pw@rp.example/bc"}, "backchannel_logout_uri"),
    ({"backchannel_logout_uri": "/relative"}, "backchannel_logout_uri"),
])
async def test_logout_uris_are_checked_at_registration(app, fields, at_fault):
    with pytest.raises(ValidationFailed) as caught:
        await add_client(services_of(app), **fields)
    assert at_fault in caught.value.fields
