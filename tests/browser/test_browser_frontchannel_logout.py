"""Front-channel logout in a real browser: signing out loads each client's
frontchannel_logout_uri in a hidden iframe (with iss and sid), then returns to the
post_logout_redirect_uri with state, with JavaScript or without; the page passes axe."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from urllib.parse import urlencode

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from tests.browser.support import Portal, RelyingParty, sign_in, signed_in_as


@pytest.fixture(scope="session")
def fc_client(portal: Portal) -> str:
    """A client of the portal's relying party with a front-channel logout URI."""
    rp = portal.rp
    made = portal.server.cli(
        "client", "add", "--name", "Acme Wiki", "--redirect-uri", rp.redirect_uri,
        "--post-logout-redirect-uri", rp.logout_uri,
        "--frontchannel-logout-uri", f"{rp.url}/fc", "--frontchannel-logout-session-required",
        "--json")
    return json.loads(made.stdout)["client_id"]


def sign_in_to(page: Page, portal: Portal, client_id: str) -> None:
    """Sign in through the client (consenting), ending at its redirect URI."""
    page.goto(portal.authorize_url(client_id=client_id, prompt="login consent"))
    sign_in(page, "alice", portal.users["alice"])
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{portal.rp.redirect_uri}?**")


def front_channel_hits(rp: RelyingParty) -> list[dict]:
    return [h for h in rp.hits if h["path"] == "/fc"]


def end_session(page: Page, portal: Portal, client_id: str) -> None:
    query = {"client_id": client_id, "post_logout_redirect_uri": portal.rp.logout_uri,
             "state": "bye-fc"}
    page.goto(f"{portal.url}/end_session?{urlencode(query)}")
    page.get_by_role("button", name="Sign out").click()


def test_the_iframe_is_loaded_then_the_browser_returns_to_the_client(
    page: Page, portal: Portal, rp: RelyingParty, fc_client: str
):
    sign_in_to(page, portal, fc_client)
    end_session(page, portal, fc_client)

    page.wait_for_url(f"{rp.logout_uri}?**")
    assert rp.last["path"] == "/bye" and rp.last["params"] == {"state": "bye-fc"}
    [hit] = front_channel_hits(rp)
    assert hit["params"]["iss"] == portal.url and len(hit["params"]["sid"]) > 10
    assert signed_in_as(page, portal) is None


def test_without_javascript_the_page_still_moves_on(
    new_context: Callable[..., BrowserContext], portal: Portal, rp: RelyingParty,
    fc_client: str
):
    page = new_context(java_script_enabled=False).new_page()
    sign_in_to(page, portal, fc_client)
    started = time.monotonic()
    end_session(page, portal, fc_client)

    expect(page.get_by_role("heading", name="You are signed out")).to_be_visible()
    expect(page.get_by_role("link", name="Continue")).to_be_visible()
    page.wait_for_url(f"{rp.logout_uri}?**", timeout=10_000)  # the Refresh header
    assert time.monotonic() - started >= 2
    assert rp.last["params"] == {"state": "bye-fc"}
    assert len(front_channel_hits(rp)) == 1


def test_the_signed_out_page_with_iframes_is_accessible(
    a11y_context: BrowserContext, portal: Portal, rp: RelyingParty, fc_client: str,
    assert_accessible: Callable[[Page], None]
):
    page = a11y_context.new_page()
    sign_in_to(page, portal, fc_client)
    page.goto(f"{portal.url}/logout")  # no post-logout redirect: the page stays
    page.get_by_role("button", name="Sign out").click()

    expect(page.get_by_role("heading", name="You are signed out")).to_be_visible()
    expect(page.get_by_role("status")).to_contain_text("Signing you out of 1 application")
    expect(page.locator("iframe[data-logout]")).to_have_count(1)
    assert_accessible(page)
    assert len(front_channel_hits(rp)) == 1
