"""Signing out: the /logout confirmation, and RP-initiated logout (/end_session)
that asks first without an id_token_hint and never goes to an unregistered URI."""

from __future__ import annotations

from urllib.parse import urlencode

from playwright.sync_api import Page, expect
from tests.browser.support import Portal, RelyingParty, log_in, signed_in_as


def test_the_logout_page_asks_and_then_signs_out(page: Page, portal: Portal):
    log_in(page, portal)
    page.goto(f"{portal.url}/logout")

    expect(page.get_by_role("heading", name="Sign out?")).to_be_visible()
    expect(page.locator("main")).to_contain_text("You are signed in as alice")
    page.get_by_role("button", name="Sign out").click()

    expect(page.get_by_role("heading", name="You are signed out")).to_be_visible()
    assert signed_in_as(page, portal) is None
    page.goto(portal.authorize_url())
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_end_session_without_a_hint_asks_first_then_returns_to_the_registered_uri(
    page: Page, portal: Portal, rp: RelyingParty
):
    log_in(page, portal)
    query = {
        "client_id": portal.client_id,
        "post_logout_redirect_uri": rp.logout_uri,
        "state": "bye-1",
    }
    page.goto(f"{portal.url}/end_session?{urlencode(query)}")

    expect(page.get_by_role("heading", name="Sign out?")).to_be_visible()
    expect(page.locator("main")).to_contain_text("leaving Acme Notes")
    assert rp.hits == []
    page.get_by_role("button", name="Sign out").click()

    page.wait_for_url(f"{rp.logout_uri}?**")
    assert rp.last["path"] == "/bye" and rp.last["params"] == {"state": "bye-1"}
    assert signed_in_as(page, portal) is None


def test_end_session_never_redirects_to_an_unregistered_uri(
    page: Page, portal: Portal, rp: RelyingParty
):
    log_in(page, portal)
    unregistered = f"{rp.url}/elsewhere"
    for query in (
        {"client_id": portal.client_id, "post_logout_redirect_uri": unregistered},
        {"post_logout_redirect_uri": unregistered},
        {"post_logout_redirect_uri": rp.logout_uri},  # registered, but for whom?
    ):
        answer = page.goto(f"{portal.url}/end_session?{urlencode(query)}")
        assert answer is not None and answer.status == 400, query
        expect(page.get_by_role("alert")).to_contain_text("post_logout_redirect_uri")
        expect(page.get_by_role("button", name="Sign out")).to_have_count(0)

    assert rp.hits == []
    assert signed_in_as(page, portal) == "alice"
