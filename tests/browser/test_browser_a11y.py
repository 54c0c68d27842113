"""Accessibility: axe-core (WCAG 2.1 A and AA rules) finds nothing on any hosted page,
in light and dark colour schemes."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from tests.browser.support import Portal, log_in, reach_consent, sign_in
from tests.conftest import LiveServer

AxeCheck = Callable[[Page], None]


def login(page: Page, portal: Portal, fresh: LiveServer) -> None:
    page.goto(portal.authorize_url())
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()


def login_with_error(page: Page, portal: Portal, fresh: LiveServer) -> None:
    page.goto(portal.authorize_url())
    sign_in(page, "nobody-here", "Wrong-password-9")
    expect(page.get_by_role("alert")).to_be_visible()


def login_choosing_an_account(page: Page, portal: Portal, fresh: LiveServer) -> None:
    log_in(page, portal)
    page.goto(portal.authorize_url(prompt="select_account"))
    expect(page.get_by_role("button", name="Continue as alice")).to_be_visible()


def consent(page: Page, portal: Portal, fresh: LiveServer) -> None:
    reach_consent(page, portal)


def setup(page: Page, portal: Portal, fresh: LiveServer) -> None:
    page.goto(f"{fresh.url}/setup")
    expect(page.get_by_role("button", name="Create administrator")).to_be_visible()


def setup_with_errors(page: Page, portal: Portal, fresh: LiveServer) -> None:
    page.goto(f"{fresh.url}/setup")
    page.get_by_label("Username").fill("x y")
    page.get_by_label("Email").fill("not-an-email")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_label("Repeat the password").fill("shorter")
    page.get_by_role("button", name="Create administrator").click()
    expect(page.locator(".error").first).to_be_visible()


def setup_with_password_problems(page: Page, portal: Portal, fresh: LiveServer) -> None:
    page.goto(f"{fresh.url}/setup")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Email").fill("admin@example.org")
    page.get_by_label("Password", exact=True).fill("short")
    page.get_by_label("Repeat the password").fill("short")
    page.get_by_role("button", name="Create administrator").click()
    expect(page.get_by_role("alert")).to_contain_text("The password needs")


def logout(page: Page, portal: Portal, fresh: LiveServer) -> None:
    log_in(page, portal)
    page.goto(f"{portal.url}/logout")


def logged_out(page: Page, portal: Portal, fresh: LiveServer) -> None:
    log_in(page, portal)
    page.goto(f"{portal.url}/logout")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="You are signed out")).to_be_visible()


def error_page(page: Page, portal: Portal, fresh: LiveServer) -> None:
    page.goto(f"{portal.url}/authorize?client_id=nope&response_type=code")
    expect(page.get_by_role("heading", name="This request cannot be completed")).to_be_visible()


def home(page: Page, portal: Portal, fresh: LiveServer) -> None:
    page.goto(f"{portal.url}/")


def home_signed_in(page: Page, portal: Portal, fresh: LiveServer) -> None:
    log_in(page, portal)


def home_before_setup(page: Page, portal: Portal, fresh: LiveServer) -> None:
    page.goto(f"{fresh.url}/")
    expect(page.get_by_role("link", name="Create the first administrator")).to_be_visible()


PAGES = [
    login,
    login_with_error,
    login_choosing_an_account,
    consent,
    setup,
    setup_with_errors,
    setup_with_password_problems,
    logout,
    logged_out,
    error_page,
    home,
    home_signed_in,
    home_before_setup,
]


@pytest.mark.parametrize("reach", PAGES, ids=[p.__name__ for p in PAGES])
def test_axe_finds_no_wcag_21_aa_violations(
    reach: Callable[[Page, Portal, LiveServer], None],
    a11y_context: BrowserContext,
    portal: Portal,
    fresh: LiveServer,
    assert_accessible: AxeCheck,
):
    page = a11y_context.new_page()
    reach(page, portal, fresh)
    assert_accessible(page)
