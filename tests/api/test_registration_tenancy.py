"""Registration per mode and tenancy, over the API and on the /register page:
open (single: join the default organization; multi: found a new one), invite (only
through an invitation), closed (403), and invitations working in every mode."""

from __future__ import annotations

from typing import Any

import pytest
from tests.api.admin.conftest import make_world
from tests.api.conftest import problem
from tests.helpers import PASSWORD, csrf_of, services_of

from portico.storage.repositories.users import Organizations

REGISTER = "/api/v1/auth/register"
NEW = {"username": "carol", "email": "carol@example.org", "password": PASSWORD}


async def roles_of(app: Any, user_id: str) -> list[tuple[str, bool, str, str]]:
    async with services_of(app).db.session() as session:
        return [(m.role, m.is_owner, o.slug, o.name)
                for m, o in await Organizations(session).memberships(user_id)]


async def invite_link(app: Any) -> tuple[Any, str]:
    """A world (acme, globex...) and an acme invitation for new@example.org."""
    world = await make_world(app)
    made = await (await world.ann.post("/api/v1/admin/invites",
                                       json={"email": "new@example.org"})).get_json()
    return world, made["link"].rsplit("/", 1)[1]


# --- the API -----------------------------------------------------------------------------


async def test_open_single_tenant_registration_joins_the_default_organization(make_app):
    async with make_app(registration="open", tenancy="single") as app:
        response = await app.test_client().post(
            REGISTER, json={**NEW, "organization": "ignored in single tenancy"})
        body = await response.get_json()
        assert response.status_code == 201, body
        assert await roles_of(app, body["id"]) == [("member", False, "default", "Default")]


async def test_open_multi_tenant_registration_founds_an_organization(make_app):
    async with make_app(registration="open", tenancy="multi") as app:
        client = app.test_client()
        body = await problem(await client.post(REGISTER, json=NEW), 400, "validation")
        assert "organization" in body["errors"]
        response = await client.post(REGISTER, json={**NEW, "organization": "Carol's Café"})
        created = await response.get_json()
        assert response.status_code == 201, created
        assert await roles_of(app, created["id"]) == [("admin", True, "carol-s-cafe",
                                                        "Carol's Café")]
        other = await client.post(REGISTER, json={
            "username": "dan", "email": "dan@example.org", "password": PASSWORD,
            "organization": "Carol's Café"})
        dan = await other.get_json()
        assert other.status_code == 201, dan
        assert await roles_of(app, dan["id"]) == [("admin", True, "carol-s-cafe-2",
                                                    "Carol's Café")]


async def test_open_registration_still_needs_an_email(make_app):
    async with make_app(registration="open") as app:
        body = await problem(await app.test_client().post(
            REGISTER, json={"username": "x", "password": PASSWORD}), 400, "validation")
        assert "email" in body["errors"]


@pytest.mark.parametrize(("mode", "word"), [("invite", "invitation"), ("closed", "closed")])
async def test_registration_without_an_invitation_is_refused(make_app, mode, word):
    async with make_app(registration=mode, tenancy="multi") as app:
        body = await problem(await app.test_client().post(
            REGISTER, json={**NEW, "organization": "X"}), 403, "forbidden")
        assert word in body["detail"]


@pytest.mark.parametrize("mode", ["invite", "open", "closed"])
@pytest.mark.parametrize("tenancy", ["single", "multi"])
async def test_an_invitation_registers_into_the_inviting_organization(make_app, mode, tenancy):
    async with make_app(registration=mode, tenancy=tenancy) as app:
        _, token = await invite_link(app)
        response = await app.test_client().post(REGISTER, json={
            "username": "newbie", "password": PASSWORD, "invite_token": token,
            "organization": "not used with an invitation"})
        body = await response.get_json()
        assert response.status_code == 201, body
        assert body["email"] == "new@example.org" and body["email_verified"] is True
        assert await roles_of(app, body["id"]) == [("member", False, "acme", "Acme")]


async def test_the_email_of_an_invited_registration_must_be_the_invited_one(make_app):
    async with make_app() as app:
        _, token = await invite_link(app)
        client = app.test_client()
        body = await problem(await client.post(REGISTER, json={
            **NEW, "invite_token": token}), 400, "validation")
        assert body["errors"] == {"email": "this invitation was sent to another address"}
        same = await client.post(REGISTER, json={**NEW, "email": "NEW@example.org",
                                                 "invite_token": token})
        assert same.status_code == 201, await same.get_json()


# --- the /register page ------------------------------------------------------------------


async def page(client: Any, path: str = "/register", status: int = 200) -> str:
    response = await client.get(path)
    html = await response.get_data(as_text=True)
    assert response.status_code == status, html[:300]
    return html


async def submit(client: Any, **fields: str) -> Any:
    token = csrf_of(await page(client))
    return await client.post("/register", form={"csrf_token": token, **fields})


FORM = {"username": "carol", "email": "carol@example.org", "password": PASSWORD,
        "password_confirm": PASSWORD}


async def me(client: Any) -> dict[str, Any]:
    response = await client.get("/api/v1/auth/me")
    assert response.status_code == 200
    return await response.get_json()


async def test_the_open_page_registers_and_signs_in_single_tenant(make_app):
    async with make_app(registration="open") as app:
        client = app.test_client()
        html = await page(client)
        assert 'name="username"' in html and 'name="organization"' not in html
        response = await submit(client, **FORM)
        assert response.status_code == 303 and response.headers["Location"] == "/account"
        assert (await client.get("/account")).status_code == 200
        who = await me(client)
        assert who["user"]["username"] == "carol"
        assert [(o["slug"], o["role"]) for o in who["organizations"]] == [("default", "member")]


async def test_the_open_page_founds_an_organization_multi_tenant(make_app):
    async with make_app(registration="open", tenancy="multi") as app:
        client = app.test_client()
        assert 'name="organization"' in await page(client)
        missing = await submit(client, **FORM)
        assert missing.status_code == 400
        assert "Name your organization." in await missing.get_data(as_text=True)
        response = await submit(client, **FORM, organization="Carol Labs")
        assert response.status_code == 303
        who = await me(client)
        assert [(o["slug"], o["role"], o["owner"]) for o in who["organizations"]] == [
            ("carol-labs", "admin", True)]


async def test_the_open_page_reports_each_problem(make_app):
    async with make_app(registration="open") as app:
        client = app.test_client()
        mismatch = await submit(client, **{**FORM, "password_confirm": "Other-pass-1"})
        assert mismatch.status_code == 400
        assert "The passwords do not match." in await mismatch.get_data(as_text=True)
        weak = await submit(client, **{**FORM, "password": "weak", "password_confirm": "weak"})
        text = await weak.get_data(as_text=True)
        assert weak.status_code == 400 and "at least 8 characters" in text
        bad = await submit(client, **{**FORM, "email": "nope"})
        assert bad.status_code == 400 and "@-sign" in await bad.get_data(as_text=True)
        assert (await submit(client, **FORM)).status_code == 303
        other = app.test_client()
        taken = await submit(other, **{**FORM, "email": "else@example.org"})
        assert taken.status_code == 409
        assert "Username: already taken" in await taken.get_data(as_text=True)
        no_csrf = await other.post("/register", form=FORM)
        assert no_csrf.status_code == 403


async def test_the_page_explains_invitation_only_registration(make_app):
    async with make_app(registration="invite") as app:
        client = app.test_client()
        html = await page(client)
        assert "by invitation only" in html and 'name="password"' not in html
        token = csrf_of(await page(client, "/login"))
        response = await client.post("/register", form={"csrf_token": token, **FORM})
        assert response.status_code == 403


async def test_the_page_is_a_friendly_403_when_closed(make_app):
    async with make_app(registration="closed") as app:
        client = app.test_client()
        html = await page(client, status=403)
        assert "Registration is closed" in html and "Traceback" not in html
