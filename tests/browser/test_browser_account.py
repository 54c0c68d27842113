"""The account pages, password recovery and the forced password change in a real
browser: each flow end to end, and axe-core (WCAG 2.1 A/AA, light and dark) on every
page and every error state.

People are made with the CLI for these tests alone: the flows change passwords and
sign sessions out, which must not disturb the people other browser tests share."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Callable

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from tests.browser.support import Portal, RelyingParty, sign_in
from tests.helpers import PASSWORD

AxeCheck = Callable[[Page], None]
NEW = "Brand-new-pass-5"
_serial = itertools.count()


def new_person(portal: Portal) -> str:
    """A fresh member, created through ``portico user create``."""
    name = f"acct{next(_serial)}x{id(portal) % 997}"
    portal.server.cli("user", "create", "--username", name, "--email", f"{name}@example.org",
                      "--password-stdin", stdin=PASSWORD + "\n")
    return name


def log_in_as(page: Page, portal: Portal, name: str, password: str = PASSWORD) -> None:
    page.goto(f"{portal.url}/login")
    sign_in(page, name, password)
    page.wait_for_url(f"{portal.url}/")


def admin_reset(portal: Portal, name: str) -> str:
    out = portal.server.cli("user", "reset-password", name, "--json").stdout
    return json.loads(out)["temporary_password"]


def test_account_navigation_marks_the_current_page(page: Page, portal: Portal):
    log_in_as(page, portal, new_person(portal))
    page.get_by_role("link", name="Your account").click()
    nav = page.get_by_role("navigation", name="Account")
    expect(nav.get_by_role("link", name="Profile")).to_have_attribute("aria-current", "page")
    nav.get_by_role("link", name="Sessions").click()
    expect(page).to_have_url(f"{portal.url}/account/sessions")
    expect(page.get_by_role("heading", level=1)).to_have_text("Sessions")
    expect(nav.get_by_role("link", name="Sessions")).to_have_attribute("aria-current", "page")
    expect(page.get_by_text("This browser")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Chrom\w* on Linux"))).to_be_visible()


def test_signed_out_visitors_come_back_after_signing_in(page: Page, portal: Portal):
    name = new_person(portal)
    page.goto(f"{portal.url}/account/api-keys")
    expect(page).to_have_url(re.compile(r"/login\?next="))
    sign_in(page, name, PASSWORD)
    expect(page).to_have_url(f"{portal.url}/account/api-keys")


def test_profile_and_password_change(page: Page, portal: Portal):
    name = new_person(portal)
    log_in_as(page, portal, name)
    page.goto(f"{portal.url}/account")
    page.get_by_label("Display name").fill("Dana Scully")
    page.get_by_role("button", name="Save display name").click()
    expect(page.get_by_role("status")).to_have_text("Your display name was saved.")
    expect(page.get_by_label("Display name")).to_have_value("Dana Scully")

    page.goto(f"{portal.url}/account/password")
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill("weak")
    page.get_by_label("Repeat the new password").fill("weak")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("alert")).to_contain_text("an upper-case letter")
    page.get_by_label("Current password").fill(PASSWORD)
    page.get_by_label("New password", exact=True).fill(NEW)
    page.get_by_label("Repeat the new password").fill(NEW)
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("status")).to_contain_text("Your password was changed.")


def test_api_key_is_shown_once(page: Page, portal: Portal):
    log_in_as(page, portal, new_person(portal))
    page.goto(f"{portal.url}/account/api-keys")
    page.get_by_label("Name").fill("deploy bot")
    page.get_by_label("Read and write").check()
    page.get_by_label("Expires on (optional)").fill("2099-06-30")
    page.get_by_role("button", name="Create API key").click()
    expect(page.get_by_role("alert")).to_contain_text("It is shown only once")
    secret = page.locator("#api-key-secret").inner_text()
    assert secret.startswith("pk_") and len(secret) > 40
    page.get_by_role("link", name="Back to API keys").click()
    expect(page.get_by_role("heading", name="deploy bot")).to_be_visible()
    expect(page.get_by_text(secret[:11] + "…")).to_be_visible()
    assert secret not in page.content()
    page.get_by_role("button", name="Revoke").click()
    expect(page.get_by_role("status")).to_contain_text("was revoked")
    expect(page.get_by_text("You have no API keys.")).to_be_visible()


def test_recovery_key_resets_a_forgotten_password(page: Page, portal: Portal):
    name = new_person(portal)
    log_in_as(page, portal, name)
    page.goto(f"{portal.url}/account/recovery-key")
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name="Generate a recovery key").click()
    key = page.locator("#recovery-key-secret").inner_text()
    assert key.startswith("rk_")

    page.context.clear_cookies()
    page.goto(f"{portal.url}/login")
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_label("Recovery key").fill("rk_wrong")
    page.get_by_label("New password", exact=True).fill(NEW)
    page.get_by_label("Repeat the new password").fill(NEW)
    page.get_by_role("button", name="Reset password").click()
    expect(page.get_by_role("alert")).to_contain_text("not valid")
    expect(page.get_by_label("Recovery key")).to_have_attribute("aria-invalid", "true")

    page.get_by_label("Recovery key").fill(key)
    page.get_by_label("New password", exact=True).fill(NEW)
    page.get_by_label("Repeat the new password").fill(NEW)
    page.get_by_role("button", name="Reset password").click()
    expect(page.get_by_role("heading", name="Your password was reset")).to_be_visible()
    page.get_by_role("link", name="Sign in").click()
    sign_in(page, name, NEW)
    page.wait_for_url(f"{portal.url}/")


def test_forced_change_then_the_application_gets_its_code(
    page: Page, portal: Portal, rp: RelyingParty
):
    name = new_person(portal)
    temporary = admin_reset(portal, name)
    page.goto(portal.authorize_url(state="after-reset"))
    sign_in(page, name, temporary)
    expect(page).to_have_url(re.compile(r"/account/password/change-required\?ticket="))
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()
    page.get_by_label("Temporary password").fill(temporary)
    page.get_by_label("New password", exact=True).fill(NEW)
    page.get_by_label("Repeat the new password").fill(NEW)
    page.get_by_role("button", name="Set new password and continue").click()
    expect(page).to_have_url(re.compile(r"/consent\?ticket="))
    page.get_by_role("button", name="Allow").click()
    page.wait_for_url(f"{rp.redirect_uri}?**")
    assert rp.last["params"]["state"] == "after-reset" and rp.last["params"]["code"]


def test_forced_change_blocks_the_account_pages(page: Page, portal: Portal):
    name = new_person(portal)
    temporary = admin_reset(portal, name)
    log_in_page = f"{portal.url}/login"
    page.goto(log_in_page)
    sign_in(page, name, temporary)
    expect(page).to_have_url(re.compile(r"/account/password/change-required"))
    page.goto(f"{portal.url}/account/sessions")
    expect(page).to_have_url(re.compile(r"/account/password/change-required\?next="))
    page.get_by_label("Temporary password").fill(temporary)
    page.get_by_label("New password", exact=True).fill(NEW)
    page.get_by_label("Repeat the new password").fill(NEW)
    page.get_by_role("button", name="Set new password and continue").click()
    expect(page).to_have_url(f"{portal.url}/account/sessions")


# --- axe-core on every page and state -----------------------------------------------------


def _profile_error(page: Page, portal: Portal) -> None:
    page.goto(f"{portal.url}/account")
    # The field's maxlength stops people typing too much; a script-free client may not.
    page.get_by_label("Display name").evaluate(
        "el => { el.removeAttribute('maxlength'); el.value = 'x'.repeat(201); }"
    )
    page.get_by_role("button", name="Save display name").click()
    expect(page.get_by_role("alert")).to_be_visible()


def _password_errors(page: Page, portal: Portal) -> None:
    page.goto(f"{portal.url}/account/password")
    page.get_by_label("Current password").fill("Wrong-pass-1")
    page.get_by_label("New password", exact=True).fill("weak")
    page.get_by_label("Repeat the new password").fill("weak")
    page.get_by_role("button", name="Change password").click()
    expect(page.get_by_role("alert")).to_be_visible()


def _api_key_errors(page: Page, portal: Portal) -> None:
    page.goto(f"{portal.url}/account/api-keys")
    page.get_by_label("Expires on (optional)").fill("2001-01-01")
    page.get_by_role("button", name="Create API key").click()
    expect(page.get_by_role("alert")).to_be_visible()


def _api_key_created(page: Page, portal: Portal) -> None:
    page.goto(f"{portal.url}/account/api-keys")
    page.get_by_label("Name").fill("axe")
    page.get_by_role("button", name="Create API key").click()
    expect(page.locator("#api-key-secret")).to_be_visible()


def _api_keys_listed(page: Page, portal: Portal) -> None:
    _api_key_created(page, portal)
    page.get_by_role("link", name="Back to API keys").click()


def _recovery_error(page: Page, portal: Portal) -> None:
    page.goto(f"{portal.url}/account/recovery-key")
    page.get_by_role("button", name=re.compile("recovery key")).click()
    expect(page.get_by_role("alert")).to_be_visible()


def _recovery_created(page: Page, portal: Portal) -> None:
    page.goto(f"{portal.url}/account/recovery-key")
    page.get_by_label("Your password").fill(PASSWORD)
    page.get_by_role("button", name=re.compile("recovery key")).click()
    expect(page.locator("#recovery-key-secret")).to_be_visible()


def _recover_errors(page: Page, portal: Portal) -> None:
    page.goto(f"{portal.url}/recover")
    page.get_by_label("New password", exact=True).fill("weak")
    page.get_by_role("button", name="Reset password").click()
    expect(page.get_by_role("alert")).to_be_visible()


def _change_required(page: Page, portal: Portal) -> None:
    expect(page.get_by_role("heading", name="Choose a new password")).to_be_visible()


def _change_required_errors(page: Page, portal: Portal) -> None:
    page.get_by_label("Temporary password").fill("Wrong-pass-1")
    page.get_by_label("New password", exact=True).fill(NEW)
    page.get_by_label("Repeat the new password").fill("mismatch")
    page.get_by_role("button", name="Set new password and continue").click()
    expect(page.get_by_role("alert")).to_be_visible()


def _goto(path: str) -> Callable[[Page, Portal], None]:
    def reach(page: Page, portal: Portal) -> None:
        page.goto(f"{portal.url}{path}")

    reach.__name__ = path
    return reach


SIGNED_IN = [
    _goto("/account"), _profile_error, _goto("/account/password"), _password_errors,
    _goto("/account/sessions"), _goto("/account/api-keys"), _api_key_errors, _api_key_created,
    _api_keys_listed, _goto("/account/recovery-key"), _recovery_error, _recovery_created,
]
SIGNED_OUT = [_goto("/recover"), _recover_errors, _goto("/recover/done")]
MUST_CHANGE = [_change_required, _change_required_errors]
_AXE_PEOPLE: dict[str, tuple[str, str]] = {}


@pytest.mark.parametrize(
    ("state", "reach"),
    [("signed_in", r) for r in SIGNED_IN] + [("signed_out", r) for r in SIGNED_OUT]
    + [("must_change", r) for r in MUST_CHANGE],
    ids=lambda v: v if isinstance(v, str) else v.__name__.strip("_/").replace("/", "-") or "x",
)
def test_axe_finds_no_wcag_21_aa_violations_on_account_pages(
    state: str,
    reach: Callable[[Page, Portal], None],
    a11y_context: BrowserContext,
    portal: Portal,
    assert_accessible: AxeCheck,
):
    page = a11y_context.new_page()
    if state != "signed_out":
        # One person per state for all these checks: none of them changes the password.
        if state not in _AXE_PEOPLE:
            name = new_person(portal)
            _AXE_PEOPLE[state] = (
                name, admin_reset(portal, name) if state == "must_change" else PASSWORD
            )
        name, password = _AXE_PEOPLE[state]
        page.goto(f"{portal.url}/login")
        sign_in(page, name, password)
        page.wait_for_load_state("load")
    reach(page, portal)
    assert_accessible(page)
