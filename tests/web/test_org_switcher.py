"""/account's organization switcher: shown to members of several organizations, a
CSRF-checked POST that moves the session, and what applications see afterwards."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from sqlalchemy import select, update
from tests.helpers import (
    REDIRECT,
    add_client,
    add_user,
    csrf_of,
    jwt_claims,
    pkce,
    query_of,
)
from tests.web.conftest import Person, text_of

from portico.storage.models import AuditEvent, Organization, Session
from portico.storage.repositories.users import Organizations


async def _org(person: Person, slug: str) -> Organization:
    async with person.svc.db.session() as session:
        org = await Organizations(session).by_slug(slug)
        assert org is not None
        return org


@pytest.fixture
async def globex(alice: Person) -> Organization:
    """alice (a member of ``default``) also becomes an admin of Globex."""
    await add_user(alice.svc, "bob", new_org_name="Globex")
    async with alice.svc.db.session() as session:
        repo = Organizations(session)
        org = await repo.by_slug("globex")
        assert org is not None
        await repo.add_member(org, alice.user, "admin")
    return org


async def _active_org_id(person: Person) -> str | None:
    async with person.svc.db.session() as session:
        rows = await session.execute(
            select(Session.active_org_id).where(
                Session.user_id == person.user.id, Session.revoked_at.is_(None)
            )
        )
        return rows.scalar_one()


def _checked(html: str) -> list[str]:
    return re.findall(r'name="org_id" value="([^"]+)" checked', html)


async def test_one_organization_means_no_switcher(alice: Person):
    html = await alice.html("/account")
    assert 'action="/account/organization"' not in html


async def test_the_switcher_lists_organizations_with_roles_and_marks_the_active_one(
    alice: Person, globex: Organization
):
    default = await _org(alice, "default")
    html = await alice.html("/account")
    assert 'action="/account/organization"' in html
    # Every choice is a labelled radio button inside a fieldset with a legend.
    for org in (default, globex):
        assert f'id="org-{org.id}"' in html and f'<label for="org-{org.id}">' in html
    assert "<legend>Act in</legend>" in html
    text = text_of(html)
    assert "Default (member)" in text and "Globex (admin)" in text
    assert _checked(html) == [default.id]  # nothing chosen yet: the oldest membership


async def test_switching_moves_the_session_and_says_so(alice: Person, globex: Organization):
    response = await alice.submit("/account", "/account/organization", org_id=globex.id)
    assert response.status_code == 303 and response.headers["Location"] == "/account?done=org"
    assert await _active_org_id(alice) == globex.id
    html = await alice.html("/account?done=org")
    assert "Your active organization was changed." in html
    assert _checked(html) == [globex.id]
    async with alice.svc.db.session() as session:
        events = (await session.execute(
            select(AuditEvent).where(AuditEvent.action == "session.org_switched"))).scalars()
        assert [e.org_id for e in events] == [globex.id]


async def test_switching_needs_the_csrf_token(alice: Person, globex: Organization):
    response = await alice.client.post("/account/organization", form={"org_id": globex.id})
    assert response.status_code == 403
    assert await _active_org_id(alice) is None


@pytest.mark.parametrize("target", ["foreign", "missing", "empty"])
async def test_an_organization_she_is_not_in_is_refused_the_same_way(
    alice: Person, globex: Organization, target: str
):
    await add_user(alice.svc, "cat", new_org_name="Initech")
    foreign = await _org(alice, "initech")
    org_id = {"foreign": foreign.id, "missing": "0" * 32, "empty": ""}[target]
    response = await alice.submit("/account", "/account/organization", org_id=org_id)
    assert response.status_code == 404
    assert "You are not a member of this organization." in await response.get_data(as_text=True)
    assert await _active_org_id(alice) is None


async def test_signed_out_switching_goes_to_sign_in(alice: Person, globex: Organization):
    token = csrf_of(await alice.html("/account"))
    async with alice.svc.db.session() as session:  # the session ends elsewhere meanwhile
        await session.execute(update(Session).values(revoked_at=Session.created_at))
    response = await alice.client.post(
        "/account/organization", form={"csrf_token": token, "org_id": globex.id}
    )
    assert response.status_code == 303 and response.headers["Location"].startswith("/login")


async def test_applications_signed_in_later_see_the_switched_organization(
    alice: Person, globex: Organization
):
    reg = await add_client(alice.svc, first_party=True)
    await alice.submit("/account", "/account/organization", org_id=globex.id)
    verifier, challenge = pkce()
    response = await alice.client.get("/authorize", query_string={
        "client_id": reg.client.id, "redirect_uri": REDIRECT, "response_type": "code",
        "scope": "openid organization", "code_challenge": challenge,
        "code_challenge_method": "S256", "nonce": "n"})
    code = query_of(response.headers["Location"])["code"]
    basic = base64.b64encode(f"{reg.client.id}:{reg.secret}".encode()).decode()
    token: Any = await alice.app.test_client().post("/token", form={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "code_verifier": verifier}, headers={"Authorization": f"Basic {basic}"})
    body = await token.get_json()
    assert token.status_code == 200, body
    assert jwt_claims(body["id_token"])["org"]["slug"] == "globex"
    assert jwt_claims(body["id_token"])["roles"] == ["admin"]
