"""Keyboard only: sign in and approve with Tab and Enter, always seeing where focus is."""

from __future__ import annotations

from playwright.sync_api import Page, expect
from tests.browser.support import Portal, RelyingParty, assert_focus_ring


def tab_to(page: Page, name: str, limit: int = 8) -> None:
    """Press Tab until the control named ``name`` has focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.textContent.trim()") == name:
            return
    raise AssertionError(f"{name!r} cannot be reached with Tab")


def test_the_login_form_can_be_completed_with_tab_and_enter_and_focus_is_visible(
    page: Page, portal: Portal, rp: RelyingParty
):
    page.goto(portal.authorize_url(prompt="login consent", state="keys"))

    username = page.get_by_label("Username or email")
    expect(username).to_be_focused()  # autofocus: typing can start at once
    assert_focus_ring(username)
    page.keyboard.type("alice")
    page.keyboard.press("Tab")

    password = page.get_by_label("Password")
    expect(password).to_be_focused()
    assert_focus_ring(password)
    page.keyboard.type(portal.users["alice"])
    page.keyboard.press("Tab")

    sign_in = page.get_by_role("button", name="Sign in")
    expect(sign_in).to_be_focused()
    assert_focus_ring(sign_in)
    page.keyboard.press("Enter")

    expect(page.get_by_role("button", name="Allow")).to_be_visible()
    tab_to(page, "Allow")
    assert_focus_ring(page.get_by_role("button", name="Allow"))
    page.keyboard.press("Enter")

    page.wait_for_url(f"{rp.redirect_uri}?**")
    assert rp.last["params"]["state"] == "keys"


def test_the_skip_link_appears_on_focus_and_jumps_to_the_content(page: Page, portal: Portal):
    page.goto(f"{portal.url}/")  # no autofocus here: Tab starts at the top
    page.keyboard.press("Tab")

    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    expect(skip).to_be_in_viewport()
    assert_focus_ring(skip)
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()
