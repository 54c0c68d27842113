"""The device flow in a real browser (RFC 8628): a device starts over HTTP, the person
opens ``verification_uri_complete`` in chromium, signs in, checks what is asked and
allows it; the device's next poll gets tokens. Every step is axe-clean, and the whole
flow works with JavaScript turned off."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from playwright.sync_api import BrowserContext, Page, expect
from tests.browser.support import Portal, sign_in

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
AxeCheck = Callable[[Page], None]


@pytest.fixture(scope="module")
def tv(portal: Portal) -> str:
    """A public device client registered with the CLI, as an operator would."""
    done = portal.server.cli(
        "client", "add", "--name", "Living-room TV", "--auth-method", "none",
        "--grant", DEVICE_GRANT, "--grant", "refresh_token", "--json")
    return json.loads(done.stdout)["client_id"]


def start(portal: Portal, client_id: str, scope: str = "openid profile offline_access") -> Any:
    response = httpx.post(f"{portal.url}/device_authorization",
                          data={"client_id": client_id, "scope": scope}, timeout=10)
    assert response.status_code == 200, response.text
    return response.json()


def poll(portal: Portal, client_id: str, device_code: str) -> httpx.Response:
    return httpx.post(f"{portal.url}/token", data={
        "grant_type": DEVICE_GRANT, "device_code": device_code, "client_id": client_id},
        timeout=10)


def test_a_person_approves_a_device_and_the_device_gets_tokens(
    a11y_context: BrowserContext, portal: Portal, tv: str, assert_accessible: AxeCheck
):
    started = start(portal, tv)
    assert poll(portal, tv, started["device_code"]).json()["error"] == "authorization_pending"

    page = a11y_context.new_page()
    page.goto(started["verification_uri_complete"])
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    sign_in(page, "alice", portal.users["alice"])

    page.wait_for_url("**/device?user_code=*")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Living-room TV")
    expect(page.locator(".user-code")).to_have_text(started["user_code"])
    expect(page.locator("[data-scope=offline_access]")).to_be_visible()
    assert_accessible(page)
    # §5.4: seeing the page decided nothing.
    assert poll(portal, tv, started["device_code"]).json()["error"] in (
        "authorization_pending", "slow_down")

    page.get_by_role("button", name="Allow").click()
    expect(page.get_by_role("heading", name="Device connected")).to_be_visible()
    assert_accessible(page)

    tokens = poll(portal, tv, started["device_code"])
    body = tokens.json()
    assert tokens.status_code == 200, body
    assert {"access_token", "id_token", "refresh_token"} <= set(body)
    assert poll(portal, tv, started["device_code"]).json()["error"] == "invalid_grant"


def test_typing_the_code_by_hand_and_denying(
    a11y_context: BrowserContext, portal: Portal, tv: str, assert_accessible: AxeCheck
):
    started = start(portal, tv, "openid")
    page = a11y_context.new_page()
    page.goto(started["verification_uri"])
    sign_in(page, "alice", portal.users["alice"])
    page.wait_for_url("**/device")
    assert_accessible(page)

    field = page.get_by_label("Code from your device")
    field.fill("BCDF-GHJK")  # nobody was given this one
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("alert")).to_contain_text("That code is not valid")
    expect(field).to_have_attribute("aria-invalid", "true")
    assert_accessible(page)

    field.fill(started["user_code"].lower().replace("-", ""))
    page.get_by_role("button", name="Continue").click()
    page.get_by_role("button", name="Deny").click()
    expect(page.get_by_role("heading", name="Request denied")).to_be_visible()
    assert poll(portal, tv, started["device_code"]).json()["error"] == "access_denied"


def test_the_flow_works_without_javascript(
    new_context: Callable[..., BrowserContext], portal: Portal, tv: str
):
    started = start(portal, tv, "openid")
    page = new_context(java_script_enabled=False).new_page()
    page.goto(started["verification_uri_complete"])
    sign_in(page, "bob", portal.users["bob"])
    page.wait_for_url("**/device?user_code=*")
    page.get_by_role("button", name="Allow").click()
    expect(page.get_by_role("heading", name="Device connected")).to_be_visible()
    assert poll(portal, tv, started["device_code"]).status_code == 200


def test_a_decision_from_another_site_is_refused(
    page: Page, portal: Portal, tv: str, rp: Any
):
    started = start(portal, tv, "openid")
    page.goto(f"{portal.url}/login")
    sign_in(page, "alice", portal.users["alice"])
    page.wait_for_url(f"{portal.url}/")
    page.goto(started["verification_uri_complete"])
    token = page.locator("input[name=csrf_token]").get_attribute("value")
    rp.pages["/free-tv"] = (
        "<!doctype html><html lang=en><title>Free TV</title>"
        f'<form method="post" action="{portal.url}/device">'
        f'<input type="hidden" name="csrf_token" value="{token}">'
        f'<input type="hidden" name="user_code" value="{started["user_code"]}">'
        '<input type="hidden" name="decision" value="approve">'
        "<button>Watch for free</button></form></html>")
    page.goto(rp.other_site + "/free-tv")
    with page.expect_response(f"{portal.url}/device") as answer:
        page.get_by_role("button", name="Watch for free").click()
    assert answer.value.status == 403
    assert poll(portal, tv, started["device_code"]).json()["error"] in (
        "authorization_pending", "slow_down")
