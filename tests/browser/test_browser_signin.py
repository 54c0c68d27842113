"""Signing in to an application in a real browser: login, consent, remembered
consent, login_hint, and errors that do not reveal who has an account."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from tests.browser.support import Portal, RelyingParty, sign_in


def test_sign_in_and_consent_lead_back_to_the_application_with_code_state_and_iss(
    page: Page, portal: Portal, rp: RelyingParty
):
    page.goto(portal.authorize_url(state="s-123"))  # carol has never used Acme Notes

    expect(page).to_have_url(re.compile(r"/login\?ticket="))
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_text("to continue to Acme Notes")).to_be_visible()
    sign_in(page, "carol", portal.users["carol"])

    expect(page).to_have_url(re.compile(r"/consent\?ticket="))
    expect(page.get_by_role("heading")).to_contain_text("Acme Notes wants to access your account")
    expect(page.get_by_text("See your email address")).to_be_visible()
    page.get_by_role("button", name="Allow").click()

    page.wait_for_url(f"{rp.redirect_uri}?**")
    params = rp.last["params"]
    assert params["state"] == "s-123"
    assert params["iss"] == portal.url
    assert len(params["code"]) >= 20
    assert "error" not in params


def test_a_second_authorization_skips_login_and_consent(
    page: Page, portal: Portal, rp: RelyingParty
):
    page.goto(portal.authorize_url(prompt="consent"))
    sign_in(page, "alice", portal.users["alice"])
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{rp.redirect_uri}?**")
    first = rp.last["params"]["code"]

    visited: list[str] = []
    page.on("request", lambda r: visited.append(r.url) if r.is_navigation_request() else None)
    page.goto(portal.authorize_url(state="again"))

    page.wait_for_url(f"{rp.redirect_uri}?**")
    again = rp.last["params"]
    assert again["state"] == "again" and again["code"] != first
    assert not [u for u in visited if "/login" in u or "/consent" in u], visited


def test_login_hint_fills_in_the_username(page: Page, portal: Portal):
    page.goto(portal.authorize_url(login_hint="bob@example.org"))

    expect(page.get_by_label("Username or email")).to_have_value("bob@example.org")
    expect(page.get_by_label("Password")).to_be_focused()


def test_a_wrong_password_and_an_unknown_user_get_the_same_error(page: Page, portal: Portal):
    messages = []
    for username in ("bob", "nobody-by-this-name"):
        page.goto(portal.authorize_url())
        with page.expect_response(lambda r: r.request.method == "POST") as answer:
            sign_in(page, username, "Wrong-password-9")
        assert answer.value.status == 400
        alert = page.get_by_role("alert")
        expect(alert).to_be_visible()
        messages.append(alert.inner_text())
        # The username is kept; the password is not echoed back.
        expect(page.get_by_label("Username or email")).to_have_value(username)
        expect(page.get_by_label("Password")).to_have_value("")
        expect(page.get_by_label("Password")).to_have_attribute("aria-invalid", "true")

    assert messages[0] == messages[1] == "The username or password is incorrect."


def test_form_post_response_mode_submits_itself_with_javascript(
    page: Page, portal: Portal, rp: RelyingParty
):
    page.goto(portal.authorize_url(response_mode="form_post", state="fp", prompt="consent"))
    sign_in(page, "alice", portal.users["alice"])
    page.get_by_role("button", name="Allow").click()

    page.wait_for_url(rp.redirect_uri)
    assert rp.last["method"] == "POST"
    assert rp.last["params"]["state"] == "fp" and rp.last["params"]["iss"] == portal.url
    assert rp.last["params"]["code"]
