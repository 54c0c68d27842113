"""/account: profile, password, sessions and API keys, through the hosted forms."""

from __future__ import annotations

import re

import pytest
from tests.helpers import PASSWORD, Browser, csrf_of
from tests.web.conftest import Person, text_of

from portico.accounts.api_keys import resolve_api_key

PAGES = {
    "/account": "Profile",
    "/account/password": "Password",
    "/account/sessions": "Sessions",
    "/account/api-keys": "API keys",
    "/account/recovery-key": "Recovery key",
}
FORMS = [
    ("/account", {"name": "x"}),
    ("/account/password", {"current": PASSWORD, "new": "Other-pass-2", "repeat": "Other-pass-2"}),
    ("/account/sessions/revoke", {"session_id": "x"}),
    ("/account/api-keys", {"name": "ci", "access": "read"}),
    ("/account/api-keys/revoke", {"key_id": "x"}),
    ("/account/recovery-key", {"password": PASSWORD}),
]


@pytest.mark.parametrize("path", [*PAGES, "/account/password/change-required"])
async def test_signed_out_visitors_are_sent_to_sign_in_and_brought_back(app, alice, path):
    anonymous = Person(app, alice.svc, None, Browser(app.test_client()))
    response = await anonymous.client.get(path)
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith("/login?next=")
    html = await anonymous.html(location)
    assert f'name="next" value="{path}"' in html
    back = await anonymous.sign_in(next=path)
    assert back.status_code == 303
    # The forced-change page sends people with nothing to change on to where they were.
    assert back.headers["Location"] == path


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil", "x"])
async def test_sign_in_never_redirects_off_site(app, alice, target):
    other = Person(app, alice.svc, None, Browser(app.test_client()))
    response = await other.sign_in(next=target)
    assert response.headers["Location"] == "/"


@pytest.mark.parametrize(("path", "label"), PAGES.items())
async def test_each_page_is_private_marks_its_nav_item_and_shows_who(alice, path, label):
    response = await alice.client.get(path)
    html = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    assert '<nav aria-label="Account"' in html
    current = re.findall(r'<a href="([^"]+)" aria-current="page">([^<]+)</a>', html)
    assert current == [(path, label)]
    assert "Signed in as <strong>alice</strong>" in html


@pytest.mark.parametrize(("path", "fields"), FORMS)
async def test_every_form_refuses_a_post_without_the_csrf_token(alice, path, fields):
    response = await alice.client.post(path, form=fields)
    assert response.status_code == 403
    wrong = await alice.client.post(path, form={**fields, "csrf_token": "forged"})
    assert wrong.status_code == 403


async def test_home_links_to_the_account(alice):
    assert 'href="/account"' in await alice.html("/")


# --- profile ---------------------------------------------------------------------------


async def test_profile_shows_the_account_and_saves_the_display_name(alice):
    html = await alice.html("/account")
    assert "alice@example.org" in html and 'id="name"' in html
    response = await alice.submit("/account", name="  Alice Liddell ")
    assert response.status_code == 303 and response.headers["Location"] == "/account?done=name"
    html = await alice.html("/account?done=name")
    assert 'value="Alice Liddell"' in html
    assert 'role="status">Your display name was saved.' in html


@pytest.mark.parametrize(("name", "problem"), [("x" * 201, "at most 200"), ("a\x07b", "control")])
async def test_profile_refuses_bad_names(alice, name, problem):
    response = await alice.submit("/account", name=name)
    html = await response.get_data(as_text=True)
    assert response.status_code == 400 and problem in html
    assert 'aria-describedby="name-hint name-error"' in html and 'id="form-problems"' in html


# --- password --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"current": "", "new": "Another-pass-2", "repeat": "Another-pass-2"},
         "Enter your current password."),
        ({"current": PASSWORD, "new": "", "repeat": ""}, "Enter a new password."),
        ({"current": PASSWORD, "new": "Another-pass-2", "repeat": "Another-pass-3"},
         "The new passwords do not match."),
        ({"current": "Wrong-pass-1", "new": "Another-pass-2", "repeat": "Another-pass-2"},
         "The current password is incorrect."),
        ({"current": PASSWORD, "new": PASSWORD, "repeat": PASSWORD},
         "must differ from the current one"),
    ],
)
async def test_password_change_failures_say_what_is_wrong(alice, fields, message):
    response = await alice.submit("/account/password", **fields)
    html = await response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in html and 'role="alert"' in html and 'aria-invalid="true"' in html
    assert response.headers["Cache-Control"] == "no-store"


async def test_password_change_lists_every_policy_problem(alice):
    response = await alice.submit("/account/password", current=PASSWORD, new="short",
                                  repeat="short")
    html = await response.get_data(as_text=True)
    assert response.status_code == 400
    for rule in ("at least 8 characters", "an upper-case letter", "a digit"):
        assert rule in html
    assert 'aria-describedby="new-hint form-problems"' in html


async def test_password_change_signs_out_other_sessions_and_keeps_this_one(
        alice, second_browser):
    phone = await second_browser()
    response = await alice.submit("/account/password", current=PASSWORD, new="Another-pass-2",
                                  repeat="Another-pass-2")
    assert response.status_code == 303
    assert response.headers["Location"] == "/account/password?done=password&others=1"
    html = await alice.html(response.headers["Location"])
    assert "Your password was changed. 1 other session was signed out." in html
    assert (await phone.client.get("/account")).status_code == 303
    again = Person(alice.app, alice.svc, None, Browser(alice.app.test_client()))
    assert (await again.sign_in(password="Another-pass-2")).headers["Location"] == "/"


# --- sessions --------------------------------------------------------------------------


async def test_sessions_list_every_device_and_mark_this_one(alice, second_browser):
    await second_browser()
    html = await alice.html("/account/sessions")
    assert html.count('action="/account/sessions/revoke"') == 2
    assert "Firefox on Linux" in html and "Safari on iOS" in html
    first = html.index("<li>")
    assert html.index("This browser", first) < html.index("Safari on iOS")
    assert html.count("This browser") == 1 and "Sign out here" in html
    assert "Last active" in html and "UTC" in html


async def test_revoking_another_session_signs_that_device_out(alice, second_browser):
    phone = await second_browser()
    html = await phone.html("/account/sessions")
    mine = re.search(r'name="session_id" value="([^"]+)">\s*<button[^>]*>Sign out here', html)
    response = await alice.submit("/account/sessions", "/account/sessions/revoke",
                                  session_id=mine.group(1))
    assert response.headers["Location"] == "/account/sessions?done=session"
    assert (await phone.client.get("/account")).status_code == 303
    assert "The session was signed out." in await alice.html("/account/sessions?done=session")
    assert (await alice.client.get("/account")).status_code == 200


async def test_revoking_this_session_signs_out(alice):
    html = await alice.html("/account/sessions")
    mine = re.search(r'name="session_id" value="([^"]+)"', html).group(1)
    response = await alice.client.post(
        "/account/sessions/revoke", form={"csrf_token": csrf_of(html), "session_id": mine}
    )
    assert response.status_code == 303 and response.headers["Location"] == "/login"
    assert "portico_session=;" in response.headers.get("Set-Cookie", "")
    assert (await alice.client.get("/account")).status_code == 303


async def test_nobody_revokes_someone_elses_session(app, alice):
    from tests.helpers import add_user

    await add_user(alice.svc, "bob")
    bob = Person(app, alice.svc, None, Browser(app.test_client()))
    await bob.sign_in("bob")
    html = await bob.html("/account/sessions")
    bobs = re.search(r'name="session_id" value="([^"]+)"', html).group(1)
    response = await alice.submit("/account/sessions", "/account/sessions/revoke",
                                  session_id=bobs)
    assert response.status_code == 404
    assert (await bob.client.get("/account")).status_code == 200


# --- API keys --------------------------------------------------------------------------


async def test_an_api_key_is_shown_once_then_only_its_prefix(alice):
    response = await alice.submit("/account/api-keys", name="backup script", access="read_write",
                                  expires_at="2099-12-31")
    html = await response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    secret = re.search(r'<code id="api-key-secret">(pk_[^<]+)</code>', html).group(1)
    assert "shown only once" in html and "2100-01-01 00:00 UTC" in html
    found = await resolve_api_key(alice.svc.db, secret)
    assert found is not None and found[0].access == "read_write"

    listing = await alice.html("/account/api-keys")
    assert secret not in listing
    assert f"<code>{secret[:11]}…</code>" in listing
    assert "backup script" in listing and "Read and write" in listing
    assert "2100-01-01 00:00 UTC" in listing  # it works until the end of the day chosen
    assert "Last used" in text_of(listing)


async def test_api_key_form_failures(alice):
    for fields, message in [
        ({"name": " ", "access": "read"}, "Give the key a name."),
        ({"name": "x" * 101, "access": "read"}, "1 to 100 characters"),
        ({"name": "ci", "access": "read", "expires_at": "2001-01-01"}, "today or later"),
        ({"name": "ci", "access": "read", "expires_at": "next week"}, "a date like"),
    ]:
        response = await alice.submit("/account/api-keys", **fields)
        html = await response.get_data(as_text=True)
        assert response.status_code == 400, fields
        assert message in html and 'id="form-problems"' in html
        assert "pk_" not in html.replace("pk_...", "")
    assert "You have no API keys." in await alice.html("/account/api-keys")


async def test_revoking_an_api_key_stops_it(alice):
    response = await alice.submit("/account/api-keys", name="ci", access="read")
    secret = re.search(r"(pk_[A-Za-z0-9_-]{20,})", await response.get_data(as_text=True))[1]
    html = await alice.html("/account/api-keys")
    key_id = re.search(r'name="key_id" value="([^"]+)"', html).group(1)
    revoked = await alice.submit("/account/api-keys", "/account/api-keys/revoke", key_id=key_id)
    assert revoked.headers["Location"] == "/account/api-keys?done=key_revoked"
    assert await resolve_api_key(alice.svc.db, secret) is None
    listing = await alice.html("/account/api-keys?done=key_revoked")
    assert "You have no API keys." in listing and "was revoked" in listing
    again = await alice.submit("/account/api-keys", "/account/api-keys/revoke", key_id=key_id)
    assert again.status_code == 404
