"""CSRF and clickjacking: forms only count when this site's own page sent them, and
no other site may frame the pages."""

from __future__ import annotations

import html

import pytest
from playwright.sync_api import Page, expect
from tests.browser.support import (
    Portal,
    RelyingParty,
    log_in,
    reach_consent,
    sign_in,
    signed_in_as,
)


def attacker_page(rp: RelyingParty, path: str, body: str) -> str:
    """Publish ``body`` on another site (localhost vs Portico's 127.0.0.1); its URL."""
    rp.pages[path] = f"<!doctype html><html lang=en><title>Win!</title>{body}</html>"
    return rp.other_site + path


@pytest.mark.parametrize(
    "tamper",
    [
        "e => e.remove()",
        "e => { e.value = 'f'.repeat(64) }",
    ],
    ids=["without a token", "with a wrong token"],
)
def test_a_login_form_without_a_valid_csrf_token_is_refused(
    page: Page, portal: Portal, tamper: str
):
    page.goto(f"{portal.url}/login")
    page.locator("input[name=csrf_token]").evaluate(tamper)
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        sign_in(page, "alice", portal.users["alice"])

    assert answer.value.status == 403
    expect(page.get_by_role("heading", name="Not allowed")).to_be_visible()
    expect(page.get_by_role("alert")).to_contain_text("The form expired")
    assert signed_in_as(page, portal) is None


@pytest.mark.parametrize("path", ["/login", "/logout"])
def test_a_form_posted_from_another_site_is_refused(
    page: Page, portal: Portal, rp: RelyingParty, path: str
):
    log_in(page, portal, "bob")
    page.goto(f"{portal.url}/login")
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    password = portal.users["alice"]
    prize = attacker_page(
        rp,
        "/prize",
        f"""<form method="post" action="{html.escape(portal.url + path)}">
              <input type="hidden" name="csrf_token" value="{token}">
              <input type="hidden" name="username" value="alice">
              <input type="hidden" name="password" value="{password}">
              <input type="hidden" name="confirm" value="yes">
              <button>Claim your prize</button>
            </form>""",
    )
    page.goto(prize)
    with page.expect_response(f"{portal.url}{path}") as answer:
        page.get_by_role("button", name="Claim your prize").click()

    assert answer.value.status == 403
    # The browser said where the form came from (Sec-Fetch-Site: cross-site) and that alone
    # got it refused; the valid-looking token did not help.
    expect(page.get_by_role("alert")).to_contain_text("cannot be submitted from another site")
    assert signed_in_as(page, portal) == "bob"  # neither signed out nor switched to alice


def test_pages_forbid_framing(page: Page, portal: Portal):
    seen = {}
    for path in ("/", "/login", "/logout", "/setup", "/consent?ticket=nope", "/end_session"):
        answer = page.goto(f"{portal.url}{path}")
        assert answer is not None
        seen[path] = answer.all_headers()
    reach_consent(page, portal)
    answer = page.reload()
    assert answer is not None
    seen["consent"] = answer.all_headers()

    for path, headers in seen.items():
        assert headers.get("x-frame-options") == "DENY", path
        assert "frame-ancestors 'none'" in headers.get("content-security-policy", ""), path


def test_another_site_framing_the_login_page_shows_nothing(
    page: Page, portal: Portal, rp: RelyingParty
):
    frame_page = attacker_page(
        rp, "/frame", f'<h1>Free stuff</h1><iframe src="{portal.url}/login" title="x"></iframe>'
    )
    with page.expect_response(f"{portal.url}/login") as framed:
        page.goto(frame_page)

    assert framed.value.status == 200  # the server answered; the browser refused to show it
    frame = page.frame_locator("iframe")
    expect(page.get_by_role("heading", name="Free stuff")).to_be_visible()
    expect(frame.get_by_label("Password")).to_have_count(0)
    expect(frame.get_by_role("button", name="Sign in")).to_have_count(0)
    assert all(portal.url not in f.url for f in page.frames[1:]), [f.url for f in page.frames]
