"""An invitation end to end in a real browser: an admin invites someone through the
admin API, the invitee opens the link in chromium, fixes a mistake, registers and
lands on their account as a member of the inviting organization; the used link then
shows a friendly page. axe-core checks every page on the way."""

from __future__ import annotations

import itertools
from collections.abc import Callable

import httpx
from playwright.sync_api import BrowserContext, Page, expect
from tests.browser.support import Portal
from tests.helpers import PASSWORD

AxeCheck = Callable[[Page], None]
_serial = itertools.count()


def admin_invites(portal: Portal, email: str) -> str:
    """The link of a new invite into the default organization, made by root over the API."""
    with httpx.Client(base_url=portal.url, timeout=10) as http:
        signed = http.post("/api/v1/auth/login",
                           json={"username": "root", "password": portal.users["root"]})
        assert signed.status_code == 200, signed.text
        made = http.post("/api/v1/admin/invites",
                         json={"email": email, "organization": "default"},
                         headers={"Authorization": f"Bearer {signed.json()['access_token']}"})
        assert made.status_code == 201, made.text
        assert made.json()["emailed"] is False
        return made.json()["link"]


def test_an_invitee_registers_through_the_link_and_lands_on_their_account(
    a11y_context: BrowserContext, portal: Portal, assert_accessible: AxeCheck
):
    name = f"invitee{next(_serial)}x{id(portal) % 997}"
    link = admin_invites(portal, f"{name}@example.org")
    page = a11y_context.new_page()

    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("Join Default")
    expect(page.get_by_text(f"{name}@example.org")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Username").fill(name)
    page.get_by_label("Display name").fill("Ivy Invitee")
    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat the password").fill("Not-the-same-1")
    page.get_by_role("button", name="Create account and join").click()
    expect(page.get_by_role("alert")).to_contain_text("The passwords do not match.")
    expect(page.get_by_label("Username")).to_have_value(name)
    assert_accessible(page)

    page.get_by_label("Password", exact=True).fill(PASSWORD)
    page.get_by_label("Repeat the password").fill(PASSWORD)
    page.get_by_role("button", name="Create account and join").click()

    page.wait_for_url(f"{portal.url}/account")
    expect(page.get_by_role("heading", level=1)).to_have_text("Profile")
    expect(page.get_by_text("Default (member)")).to_be_visible()
    expect(page.get_by_text(f"Signed in as {name}")).to_be_visible()
    me = page.request.get(f"{portal.url}/api/v1/auth/me").json()
    assert me["user"]["email"] == f"{name}@example.org" and me["user"]["email_verified"]
    assert [(o["name"], o["role"]) for o in me["organizations"]] == [("Default", "member")]

    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text("This invitation was already used")
    assert_accessible(page)


def test_an_unknown_link_gets_a_friendly_accessible_page(
    a11y_context: BrowserContext, portal: Portal, assert_accessible: AxeCheck
):
    page = a11y_context.new_page()
    response = page.goto(f"{portal.url}/invite/not-a-real-token")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1)).to_have_text("Invitation not found")
    assert_accessible(page)
