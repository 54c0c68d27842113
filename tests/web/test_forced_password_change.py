"""After an admin reset, the temporary password opens only the change page; /authorize
issues no code until the password is changed."""

from __future__ import annotations

import re
from urllib.parse import urlencode

import pytest
from sqlalchemy import select
from tests.helpers import REDIRECT, add_client, csrf_of, pkce, query_of
from tests.web.conftest import Person

from portico.accounts.password_change import reset_password_by_admin, temporary_password
from portico.accounts.passwords import PasswordPolicy
from portico.storage.models import AuditEvent
from portico.storage.repositories.users import Users

CHANGE = "/account/password/change-required"
NEW = "My-own-pass-4"


@pytest.fixture
async def reset(alice: Person) -> Person:
    """alice after an admin reset, signed in again with the temporary password."""
    temporary = await reset_password_by_admin(alice.svc.db, alice.user.id, rounds=4)
    assert (await alice.client.get("/account")).status_code == 303  # signed out by the reset
    response = await alice.sign_in(password=temporary)
    assert response.status_code == 303
    alice.temporary = temporary  # type: ignore[attr-defined]
    return alice


def authorize_query(client_id: str, **extra: str) -> str:
    _, challenge = pkce()
    return urlencode({
        "client_id": client_id, "redirect_uri": REDIRECT, "response_type": "code",
        "scope": "openid", "state": "s1", "code_challenge": challenge,
        "code_challenge_method": "S256", **extra,
    })


def test_temporary_passwords_meet_even_a_strict_policy():
    strict = PasswordPolicy(min_length=40)
    seen = {temporary_password(strict) for _ in range(50)}
    assert len(seen) == 50 and all(len(p) == 40 for p in seen)
    assert all(not PasswordPolicy().problems(temporary_password()) for _ in range(200))


async def test_the_reset_flags_the_user_revokes_sessions_and_is_audited(alice, second_browser):
    phone = await second_browser()
    await reset_password_by_admin(alice.svc.db, alice.user.id, actor_id="admin-1", rounds=4)
    async with alice.svc.db.session() as session:
        user = await Users(session).get(alice.user.id)
        events = (await session.execute(
            select(AuditEvent).where(AuditEvent.action == "password.reset_by_admin"))).scalars()
        event = next(iter(events))
    assert user.must_change_password
    assert event.actor_id == "admin-1" and event.target == f"user:{alice.user.id}"
    for device in (alice, phone):
        assert (await device.client.get("/account")).status_code == 303


@pytest.mark.parametrize(
    "path", ["/", "/account", "/account/sessions", "/account/api-keys", "/consent?ticket=x",
             "/login", "/setup"],
)
async def test_every_page_leads_to_the_change_page(reset, path):
    response = await reset.client.get(path)
    assert response.status_code == 303
    assert response.headers["Location"] == f"{CHANGE}?{urlencode({'next': path})}"


async def test_forms_are_diverted_too(reset):
    html = await reset.html(CHANGE)
    response = await reset.client.post(
        "/account/api-keys", form={"csrf_token": csrf_of(html), "name": "x", "access": "read"}
    )
    assert response.status_code == 303 and response.headers["Location"] == CHANGE


async def test_sign_out_recovery_and_static_files_stay_reachable(reset):
    for path in ("/logout", "/recover", "/static/portico.css", CHANGE):
        assert (await reset.client.get(path)).status_code == 200, path


async def test_the_change_page_checks_the_temporary_password(reset):
    html = await reset.html(CHANGE)
    assert "An administrator reset your password" in html
    assert 'aria-current' not in html  # no account navigation to wander off through
    for fields, message in [
        ({"current": "Wrong-pass-1", "new": NEW, "repeat": NEW}, "incorrect"),
        ({"current": reset.temporary, "new": NEW, "repeat": "x"}, "do not match"),
        ({"current": reset.temporary, "new": "weak", "repeat": "weak"}, "a digit"),
    ]:
        response = await reset.submit(CHANGE, **fields)
        assert response.status_code == 400 and message in await response.get_data(as_text=True)
    assert (await reset.client.get("/")).status_code == 303


async def test_after_the_change_the_person_continues_where_they_were_going(reset):
    html = await reset.html(f"{CHANGE}?next=/account/sessions")
    assert 'name="next" value="/account/sessions"' in html
    response = await reset.client.post(CHANGE, form={
        "csrf_token": csrf_of(html), "current": reset.temporary, "new": NEW, "repeat": NEW,
        "next": "/account/sessions",
    })
    assert response.status_code == 303 and response.headers["Location"] == "/account/sessions"
    assert (await reset.client.get("/account/sessions")).status_code == 200
    assert (await reset.client.get("/")).status_code == 200
    # Nothing left to change: the page moves on instead of showing the form again.
    assert (await reset.client.get(CHANGE)).headers["Location"] == "/"


async def test_next_must_be_local(reset):
    html = await reset.html(f"{CHANGE}?next=//evil.example/")
    assert 'name="next" value=""' in html
    response = await reset.client.post(CHANGE, form={
        "csrf_token": csrf_of(html), "current": reset.temporary, "new": NEW, "repeat": NEW,
        "next": "https://evil.example/",
    })
    assert response.headers["Location"] == "/"


async def test_authorize_sends_the_person_to_the_change_page_then_issues_the_code(reset):
    registered = await add_client(reset.svc, first_party=True)
    response = await reset.client.get(f"/authorize?{authorize_query(registered.client.id)}")
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location.startswith(f"{CHANGE}?ticket=")
    ticket = query_of(location)["ticket"]
    html = await reset.html(location)
    assert f'name="ticket" value="{ticket}"' in html
    changed = await reset.client.post(CHANGE, form={
        "csrf_token": csrf_of(html), "current": reset.temporary, "new": NEW, "repeat": NEW,
        "ticket": ticket,
    })
    assert changed.headers["Location"] == f"/authorize/resume?ticket={ticket}"
    final = await reset.browser.follow(changed)
    assert final.headers["Location"].startswith(REDIRECT)
    assert "code" in query_of(final.headers["Location"])


async def test_signing_in_during_an_authorization_leads_to_the_change_page(alice):
    registered = await add_client(alice.svc, first_party=True)
    temporary = await reset_password_by_admin(alice.svc.db, alice.user.id, rounds=4)
    start = await alice.client.get(f"/authorize?{authorize_query(registered.client.id)}")
    login = await alice.browser.follow(start)
    html = await login.get_data(as_text=True)
    ticket = re.search(r'name="ticket" value="([^"]+)"', html).group(1)
    signed_in = await alice.sign_in(password=temporary, ticket=ticket)
    step = await alice.client.get(signed_in.headers["Location"])
    assert step.headers["Location"] == f"{CHANGE}?ticket={ticket}"


async def test_prompt_none_gets_interaction_required(reset):
    registered = await add_client(reset.svc, first_party=True)
    query = authorize_query(registered.client.id, prompt="none")
    response = await reset.client.get(f"/authorize?{query}")
    assert response.status_code in (302, 303)
    assert query_of(response.headers["Location"])["error"] == "interaction_required"


async def test_consent_waits_for_the_change_too(reset):
    registered = await add_client(reset.svc)  # third party: consent after the change
    response = await reset.client.get(f"/authorize?{authorize_query(registered.client.id)}")
    assert response.headers["Location"].startswith(f"{CHANGE}?ticket=")
