"""/invite/<token> in process: every state of an invitation gets the right page and
status, registering signs the new person in, a signed-in person accepts with one
button, and nothing ever answers 500."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import update
from tests.helpers import PASSWORD, Browser, add_user, csrf_of, services_of
from tests.web.conftest import Person, text_of

from portico.orgs.invites import InviteConfig, cancel_invite, create_invite, resolve_org
from portico.orgs.memberships import insert_organization
from portico.storage.models import Invite
from portico.storage.models.base import utcnow
from portico.storage.repositories.users import Organizations

FORM = {"action": "register", "username": "newbie", "name": "New Bie",
        "password": PASSWORD, "password_confirm": PASSWORD}


async def make_invite(app: Any, email: str = "new@example.org", role: str = "member",
                      org: str = "acme") -> tuple[Invite, str]:
    """An invite into ``org`` (created with its owner, "owner@<org>.example", if absent)."""
    svc = services_of(app)
    async with svc.db.session() as session:
        if await Organizations(session).by_slug(org) is None:
            await insert_organization(session, name=org.title(), slug=org, owner=None)
    found = await resolve_org(svc.db, None, org)
    made = await create_invite(svc.db, InviteConfig.of(svc.settings, svc.box), None, found,
                               email, role)
    return made.invite, "/invite/" + made.link.rsplit("/", 1)[1]


async def html_of(client: Any, path: str, status: int = 200) -> str:
    response = await client.get(path)
    body = await response.get_data(as_text=True)
    assert response.status_code == status, (response.status_code, body[:400])
    return body


async def post(client: Any, path: str, **fields: str) -> Any:
    token = csrf_of(await html_of(client, path))
    return await client.post(path, form={"csrf_token": token, **fields})


async def memberships(app: Any, user_id: str) -> list[tuple[str, str]]:
    async with services_of(app).db.session() as session:
        return [(o.slug, m.role) for m, o in await Organizations(session).memberships(user_id)]


async def set_state(app: Any, invite_id: str, **values: Any) -> None:
    async with services_of(app).db.session() as session:
        await session.execute(update(Invite).where(Invite.id == invite_id).values(**values))


# --- a new person --------------------------------------------------------------------------


async def test_a_new_person_registers_and_lands_on_their_account(app):
    _, path = await make_invite(app, role="admin")
    client = app.test_client()
    text = text_of(await html_of(client, path))
    assert "Join Acme" in text and "new@example.org" in text and "as an admin" in text
    response = await post(client, path, **FORM)
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    assert "portico_session=" in response.headers.get("Set-Cookie", "")
    assert (await client.get("/account")).status_code == 200
    me = await (await client.get("/api/v1/auth/me")).get_json()
    assert me["user"]["username"] == "newbie" and me["user"]["email"] == "new@example.org"
    assert me["user"]["email_verified"] is True and me["user"]["name"] == "New Bie"
    assert [(o["slug"], o["role"]) for o in me["organizations"]] == [("acme", "admin")]
    again = await html_of(client, path, 410)
    assert "already used" in again


async def test_form_problems_are_shown_and_keep_the_invite(app):
    invite, path = await make_invite(app)
    await add_user(services_of(app), "taken")
    client = app.test_client()
    mismatch = await post(client, path, **{**FORM, "password_confirm": "Other-pass-9"})
    assert mismatch.status_code == 400
    assert "The passwords do not match." in await mismatch.get_data(as_text=True)
    weak = await post(client, path, **{**FORM, "password": "lowercase", "password_confirm":
                                       "lowercase"})
    text = text_of(await weak.get_data(as_text=True))
    assert weak.status_code == 400 and "The new password needs:" in text
    assert "an upper-case letter" in text and "a digit" in text
    taken = await post(client, path, **{**FORM, "username": "TAKEN"})
    assert taken.status_code == 409
    assert "Username: already taken" in await taken.get_data(as_text=True)
    bad_name = await post(client, path, **{**FORM, "username": "two words"})
    assert bad_name.status_code == 400
    assert PASSWORD not in await bad_name.get_data(as_text=True)
    assert (await post(client, path, **FORM)).status_code == 303


async def test_posting_without_the_csrf_token_is_refused(app):
    invite, path = await make_invite(app)
    response = await app.test_client().post(path, form=FORM)
    assert response.status_code == 403
    assert "Join" not in await response.get_data(as_text=True)


# --- people with an account ----------------------------------------------------------------


async def test_a_signed_in_person_accepts_with_one_button(alice: Person):
    _, path = await make_invite(alice.app, "ALICE@example.org", role="admin")
    html = await html_of(alice.client, path)
    assert "Accept the invitation" in html and 'name="password"' not in html
    response = await post(alice.client, path, action="accept")
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    assert ("acme", "admin") in await memberships(alice.app, alice.user.id)
    assert "already used" in await html_of(alice.client, path, 410)


async def test_someone_signed_in_with_another_address_is_told_so(alice: Person):
    _, path = await make_invite(alice.app, "someone.else@example.org")
    text = text_of(await html_of(alice.client, path))
    assert "this invitation was sent to another address" in text
    assert "Accept the invitation" not in text
    token = csrf_of(await html_of(alice.client, "/login"))
    response = await alice.client.post(path, form={"csrf_token": token, "action": "accept"})
    assert response.status_code == 403
    assert "This invitation was sent to another address." in await response.get_data(
        as_text=True)
    assert await memberships(alice.app, alice.user.id) == [("default", "member")]


async def test_an_existing_account_is_sent_to_sign_in_and_back(app):
    user = await add_user(services_of(app), "dora", email="dora@example.org")
    _, path = await make_invite(app, "dora@example.org")
    browser = Browser(app.test_client())
    html = await html_of(browser.client, path)
    assert "Sign in to accept" in html and 'name="password"' not in html
    assert f'href="/login?next={path}"' in html
    login = await html_of(browser.client, f"/login?next={path}")
    signed = await browser.client.post("/login", form={
        "csrf_token": csrf_of(login), "username": "dora", "password": PASSWORD, "next": path})
    assert signed.status_code == 303 and signed.headers["Location"] == path
    assert (await post(browser.client, path, action="accept")).status_code == 303
    assert ("acme", "member") in await memberships(app, user.id)


async def test_accept_without_signing_in_goes_to_the_login_page(app):
    _, path = await make_invite(app)
    response = await post(app.test_client(), path, action="accept")
    assert response.status_code == 303
    assert response.headers["Location"].startswith("/login?next=%2Finvite%2F")


# --- links that no longer work -------------------------------------------------------------


@pytest.mark.parametrize(("change", "phrase"), [
    ({"expires_at": utcnow() - dt.timedelta(seconds=1)}, "has expired"),
    ({"accepted_at": utcnow(), "pending_key": None}, "already been used"),
    ({"cancelled_at": utcnow(), "pending_key": None}, "was cancelled"),
])
async def test_unusable_invites_get_a_friendly_410(app, change, phrase):
    invite, path = await make_invite(app)
    token = csrf_of(await html_of(app.test_client(), path))
    await set_state(app, invite.id, **change)
    client = app.test_client()
    html = await html_of(client, path, 410)
    assert phrase in html and 'name="password"' not in html
    posted = await client.post(path, form={"csrf_token": token, **FORM})
    assert posted.status_code in (403, 410)  # no CSRF cookie in this client: 403 first
    fresh = app.test_client()
    cookie_page = await html_of(fresh, "/login")
    posted = await fresh.post(path, form={"csrf_token": csrf_of(cookie_page), **FORM})
    assert posted.status_code == 410 and phrase in await posted.get_data(as_text=True)


async def test_a_cancelled_invite_through_the_domain_is_gone(app):
    invite, path = await make_invite(app)
    await cancel_invite(services_of(app).db, None, invite.id)
    assert "was cancelled" in await html_of(app.test_client(), path, 410)


@pytest.mark.parametrize("token", ["nope", "A" * 43, "x" * 5000, "%00%ff", "..%2F..%2Fetc"])
async def test_unknown_links_get_a_friendly_404(app, token):
    client = app.test_client()
    response = await client.get(f"/invite/{token}")
    html = await response.get_data(as_text=True)
    assert response.status_code == 404, html[:300]
    assert "Invitation not found" in html or "Not Found" in html
    cookie = csrf_of(await html_of(client, "/login"))
    posted = await client.post(f"/invite/{token}", form={"csrf_token": cookie, **FORM})
    assert posted.status_code in (400, 404)


async def test_registering_through_the_page_works_on_every_database(keyed_database_url,
                                                                     tmp_path):
    from tests.conftest import TEST_MASTER_KEY, make_settings

    from portico.app import create_app

    settings = make_settings(keyed_database_url, tmp_path, secret_key=TEST_MASTER_KEY)
    async with create_app(settings).test_app() as app:
        _, path = await make_invite(app)
        client = app.test_client()
        assert (await post(client, path, **{**FORM, "username": "x y"})).status_code == 400
        response = await post(client, path, **FORM)
        assert response.status_code == 303 and response.headers["Location"] == "/account"
        me = await (await client.get("/api/v1/auth/me")).get_json()
        assert [o["slug"] for o in me["organizations"]] == ["acme"]
        assert "already used" in await html_of(client, path, 410)
