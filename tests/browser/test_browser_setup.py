"""/setup in a browser: the first administrator, only while none exists."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import BrowserContext, Page, expect
from tests.conftest import LiveServer


def fill_setup(page: Page, username: str, email: str, password: str, again: str) -> None:
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_label("Repeat the password").fill(again)
    page.get_by_role("button", name="Create administrator").click()


def test_setup_lists_every_password_policy_problem_and_keeps_what_was_typed(
    page: Page, fresh: LiveServer
):
    page.goto(f"{fresh.url}/setup")
    with page.expect_response(lambda r: r.request.method == "POST") as answer:
        fill_setup(page, "admin", "admin@example.org", "short", "short")

    assert answer.value.status == 400
    problems = page.get_by_role("alert")
    expect(problems).to_contain_text("The password needs:")
    assert problems.get_by_role("listitem").count() >= 3  # length, upper case, digit
    expect(page.get_by_label("Username")).to_have_value("admin")
    expect(page.get_by_label("Email")).to_have_value("admin@example.org")
    expect(page.get_by_label("Password", exact=True)).to_have_value("")
    expect(page.get_by_label("Password", exact=True)).to_have_attribute("aria-invalid", "true")

    fill_setup(page, "admin", "admin@example.org", "Str0ng-enough", "Str0ng-enougH")
    expect(page.get_by_text("The passwords do not match.")).to_be_visible()
    expect(page.get_by_label("Repeat the password")).to_have_attribute("aria-invalid", "true")

    # Nothing was created: the page is still there.
    assert page.goto(f"{fresh.url}/setup").status == 200


def test_setup_creates_the_first_administrator_once_and_then_says_already_set_up(
    new_context: Callable[..., BrowserContext], to_set_up: LiveServer
):
    page = new_context().new_page()
    late = new_context().new_page()  # someone else, with the form already open
    late.goto(f"{to_set_up.url}/setup")

    page.goto(f"{to_set_up.url}/")
    page.get_by_role("link", name="Create the first administrator").click()
    fill_setup(page, "admin", "Admin@Example.org", "Str0ng-enough", "Str0ng-enough")

    page.wait_for_url(f"{to_set_up.url}/")
    expect(page.locator("main")).to_contain_text("Signed in as admin (admin@example.org)")

    answer = page.goto(f"{to_set_up.url}/setup")
    assert answer is not None and answer.status == 409
    expect(page.get_by_role("heading", name="Already set up")).to_be_visible()
    expect(page.get_by_role("button", name="Create administrator")).to_have_count(0)

    with late.expect_response(lambda r: r.request.method == "POST") as refused:
        fill_setup(late, "mallory", "mallory@example.org", "Str0ng-enough", "Str0ng-enough")
    assert refused.value.status == 409
    expect(late.get_by_role("heading", name="Already set up")).to_be_visible()
