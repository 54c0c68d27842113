"""The hosted pages work with JavaScript turned off."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from tests.browser.support import Portal, RelyingParty, sign_in


@pytest.fixture
def page(new_context: Callable[..., BrowserContext]) -> Page:
    return new_context(java_script_enabled=False).new_page()


def test_login_and_consent_work_without_javascript(page: Page, portal: Portal, rp: RelyingParty):
    page.goto(portal.authorize_url(prompt="consent", state="no-js"))
    sign_in(page, "alice", portal.users["alice"])
    page.get_by_role("button", name="Allow").click()

    page.wait_for_url(f"{rp.redirect_uri}?**")
    assert rp.last["params"]["state"] == "no-js" and rp.last["params"]["code"]


def test_form_post_shows_a_visible_continue_button_without_javascript(
    page: Page, portal: Portal, rp: RelyingParty
):
    page.goto(portal.authorize_url(response_mode="form_post", prompt="consent", state="fp"))
    sign_in(page, "alice", portal.users["alice"])
    page.get_by_role("button", name="Allow").click()

    expect(page.get_by_role("heading")).to_contain_text("Returning to the application")
    continue_button = page.locator("noscript").get_by_role("button", name="Continue")
    expect(continue_button).to_be_visible()
    assert rp.hits == []
    continue_button.click()

    page.wait_for_url(rp.redirect_uri)
    assert rp.last["method"] == "POST"
    params = rp.last["params"]
    assert params["state"] == "fp" and params["iss"] == portal.url and params["code"]
