"""The recovery key: generated on /account/recovery-key, used on /recover."""

from __future__ import annotations

import re

import pytest
from tests.helpers import PASSWORD, Browser
from tests.web.conftest import Person, app_with

from portico.accounts.recovery import generate_recovery_key

NEW = "Recovered-pass-7"


async def generate(person: Person) -> str:
    response = await person.submit("/account/recovery-key", password=PASSWORD)
    html = await response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "shown only once" in html
    return re.search(r'<code id="recovery-key-secret">(rk_[^<]+)</code>', html).group(1)


def stranger(person: Person) -> Person:
    return Person(person.app, person.svc, None, Browser(person.app.test_client()))


async def test_the_page_explains_the_key_and_asks_for_the_password(alice):
    html = await alice.html("/account/recovery-key")
    assert "You have no recovery key." in html and "Generate a recovery key" in html
    for password, message in [("", "Enter your password."), ("Wrong-pass-1", "incorrect")]:
        response = await alice.submit("/account/recovery-key", password=password)
        body = await response.get_data(as_text=True)
        assert response.status_code == 400 and message in body and "rk_" not in body


async def test_a_new_key_replaces_the_earlier_one(alice):
    first = await generate(alice)
    html = await alice.html("/account/recovery-key")
    assert "You have a recovery key, made on" in html and "replaces it" in html
    assert first not in html
    second = await generate(alice)
    assert second != first
    response = await stranger(alice).submit("/recover", recovery_key=first, new=NEW, repeat=NEW)
    assert response.status_code == 400


async def test_recovery_end_to_end_signs_out_everywhere_and_works_once(alice, second_browser):
    phone = await second_browser()
    key = await generate(alice)
    visitor = stranger(alice)
    response = await visitor.submit("/recover", recovery_key=key, new=NEW, repeat=NEW)
    assert response.status_code == 303 and response.headers["Location"] == "/recover/done"
    done = await visitor.html("/recover/done")
    assert "Your password was reset" in done and 'href="/login"' in done
    for device in (alice, phone):
        assert (await device.client.get("/account")).status_code == 303
    assert (await stranger(alice).sign_in(password=PASSWORD)).status_code == 400
    assert (await stranger(alice).sign_in(password=NEW)).headers["Location"] == "/"

    reused = await stranger(alice).submit("/recover", recovery_key=key, new="Another-pass-3",
                                          repeat="Another-pass-3")
    assert reused.status_code == 400
    assert "not valid" in await reused.get_data(as_text=True)


async def test_recovery_clears_this_browsers_cookie(alice):
    key = await generate(alice)
    response = await alice.submit("/recover", recovery_key=key, new=NEW, repeat=NEW)
    assert "portico_session=;" in response.headers.get("Set-Cookie", "")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"recovery_key": "", "new": NEW, "repeat": NEW}, "Enter your recovery key."),
        ({"recovery_key": "rk_x", "new": "", "repeat": ""}, "Enter a new password."),
        ({"recovery_key": "rk_x", "new": NEW, "repeat": NEW + "x"}, "do not match"),
        ({"recovery_key": "rk_nope", "new": NEW, "repeat": NEW}, "not valid"),
        ({"recovery_key": "nonsense", "new": NEW, "repeat": NEW}, "not valid"),
        ({"recovery_key": "rk_x", "new": "short", "repeat": "short"}, "an upper-case letter"),
    ],
)
async def test_recover_form_failures(app, alice, fields, message):
    response = await stranger(alice).submit("/recover", **fields)
    html = await response.get_data(as_text=True)
    assert response.status_code == 400 and message in html and 'role="alert"' in html
    assert response.headers["Cache-Control"] == "no-store"


async def test_wrong_and_used_keys_get_the_same_answer(alice):
    key = await generate_recovery_key(alice.svc.db, alice.user)
    visitor = stranger(alice)
    assert (await visitor.submit("/recover", recovery_key=key, new=NEW, repeat=NEW)).status_code \
        == 303
    used = await visitor.submit("/recover", recovery_key=key, new=NEW, repeat=NEW)
    wrong = await visitor.submit("/recover", recovery_key="rk_" + "A" * 43, new=NEW, repeat=NEW)
    strip = lambda html: re.sub(r'value="[^"]*"', "", html)  # noqa: E731 - CSRF tokens differ
    assert strip(await used.get_data(as_text=True)) == strip(await wrong.get_data(as_text=True))


async def test_recover_is_rate_limited(settings):
    async with app_with(settings, rate_limit_sensitive="2/minute") as app:
        visitor = Person(app, None, None, Browser(app.test_client()))
        statuses = [
            (await visitor.submit("/recover", recovery_key="rk_guess", new=NEW,
                                  repeat=NEW)).status_code
            for _ in range(3)
        ]
        assert statuses == [400, 400, 429]


async def test_login_page_links_to_recovery(app):
    html = await Person(app, None, None, Browser(app.test_client())).html("/login")
    assert '<a href="/recover">Forgot your password?</a>' in html
