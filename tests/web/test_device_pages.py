"""/device: sign in first, enter or confirm the code, then an explicit decision; friendly
answers for wrong, expired and used codes; wrong guesses are rate limited (RFC 8628 §5.1)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select, update
from tests.helpers import Browser, add_client, add_user, csrf_of, jwt_claims
from tests.web.conftest import Person, app_with, text_of

from portico.storage.models import AuditEvent, Consent, DeviceAuthorization
from portico.storage.models.base import utcnow
from portico.storage.repositories.users import Organizations

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


async def start(person: Person, client_id: str, scope: str = "openid profile") -> dict[str, Any]:
    response = await person.app.test_client().post(
        "/device_authorization", form={"client_id": client_id, "scope": scope})
    body = await response.get_json()
    assert response.status_code == 200, body
    return body


async def status_of(person: Person, user_code: str) -> str:
    async with person.svc.db.session() as session:
        row = await session.execute(select(DeviceAuthorization.status).where(
            DeviceAuthorization.user_code == user_code.replace("-", "")))
        return row.scalar_one()


async def poll(person: Person, client_id: str, device_code: str) -> Any:
    return await person.app.test_client().post("/token", form={
        "grant_type": DEVICE_GRANT, "device_code": device_code, "client_id": client_id})


@pytest.fixture
async def tv(alice: Person) -> str:
    reg = await add_client(alice.svc, name="Living-room TV", redirect_uris=[],
                           auth_method="none", grant_types=[DEVICE_GRANT])
    return reg.client.id


async def test_signed_out_the_page_asks_to_sign_in_and_comes_back_with_the_code(
    alice: Person, tv: str
):
    started = await start(alice, tv)
    stranger = Person(alice.app, alice.svc, alice.user, Browser(alice.app.test_client()))
    link = urlsplit(started["verification_uri_complete"])
    response = await stranger.client.get(f"{link.path}?{link.query}")
    assert response.status_code == 303
    target = urlsplit(response.headers["Location"])
    assert target.path == "/login"
    back = parse_qs(target.query)["next"][0]
    assert back == f"/device?user_code={started['user_code']}"

    signed_in = await stranger.sign_in(next=back)
    assert signed_in.headers["Location"] == back
    html = await stranger.html(back)
    assert "Living-room TV" in html and started["user_code"] in html


async def test_the_entry_form_has_a_labelled_field_and_works_without_javascript(alice: Person):
    html = await alice.html("/device")
    assert '<form method="get" action="/device"' in html
    assert '<label for="user_code">' in html and "<script" not in html


@pytest.mark.parametrize("typed", ["{code}", "{lower}", "{bare}", " {spaced} "])
async def test_the_code_may_be_typed_in_any_case_with_or_without_the_dash(
    alice: Person, tv: str, typed: str
):
    code = (await start(alice, tv))["user_code"]
    value = typed.format(code=code, lower=code.lower(), bare=code.replace("-", ""),
                         spaced=code.replace("-", " "))
    response = await alice.client.get("/device", query_string={"user_code": value})
    html = await response.get_data(as_text=True)
    assert response.status_code == 200, html[:500]
    assert f'name="user_code" value="{code}"' in html


async def test_the_confirmation_names_the_app_and_scopes_and_approves_nothing_by_itself(
    alice: Person, tv: str
):
    started = await start(alice, tv, "openid profile email")
    html = await alice.html(f"/device?user_code={started['user_code']}")
    text = text_of(html)
    assert "Living-room TV wants to access your account from a device" in text
    assert "See your name and basic profile" in text and "See your email address" in text
    assert "Never enter a code that someone sent you" in text
    assert 'value="approve"' in html and 'value="deny"' in html
    # §5.4: opening verification_uri_complete decides nothing.
    assert await status_of(alice, started["user_code"]) == "pending"
    assert (await (await poll(alice, tv, started["device_code"])).get_json())["error"] == (
        "authorization_pending")


@pytest.mark.parametrize("value,message", [
    ("ABC", "Enter the 8-letter code"),
    ("AAAA-AAAA", "Enter the 8-letter code"),  # vowels are never in a code
    ("BCDF-GHJK", "That code is not valid"),
])
async def test_wrong_codes_get_a_friendly_message(alice: Person, value: str, message: str):
    response = await alice.client.get("/device", query_string={"user_code": value})
    html = await response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in text_of(html) and 'role="alert"' in html
    assert 'aria-invalid="true"' in html


async def test_an_expired_code_says_so(alice: Person, tv: str):
    started = await start(alice, tv)
    async with alice.svc.db.session() as session:
        await session.execute(update(DeviceAuthorization).values(
            expires_at=utcnow() - timedelta(seconds=1)))
    html = await alice.html(f"/device?user_code={started['user_code']}", 400)
    assert "That code has expired" in text_of(html)


async def test_a_decision_needs_the_csrf_token(alice: Person, tv: str):
    started = await start(alice, tv)
    response = await alice.client.post("/device", form={
        "user_code": started["user_code"], "decision": "approve"})
    assert response.status_code == 403
    assert await status_of(alice, started["user_code"]) == "pending"


async def test_approving_shows_done_records_consent_and_audits(alice: Person, tv: str):
    started = await start(alice, tv)
    html = await alice.html(f"/device?user_code={started['user_code']}")
    response = await alice.client.post("/device", form={
        "csrf_token": csrf_of(html), "user_code": started["user_code"], "decision": "approve"})
    assert response.status_code == 303 and response.headers["Location"] == "/device?done=approved"
    done = text_of(await alice.html("/device?done=approved"))
    assert "Device connected" in done
    assert await status_of(alice, started["user_code"]) == "approved"
    async with alice.svc.db.session() as session:
        consent = (await session.execute(select(Consent))).scalar_one()
        event = (await session.execute(
            select(AuditEvent).where(AuditEvent.action == "device.approved"))).scalar_one()
    assert consent.client_id == tv and set(consent.scopes) == {"openid", "profile"}
    assert event.actor_id == alice.user.id and event.target == f"client:{tv}"
    # Neither the user code nor the device code is written to the audit trail.
    assert started["user_code"].replace("-", "") not in str(event.details)
    assert started["device_code"] not in str(event.details)


async def test_a_used_code_cannot_be_decided_again(alice: Person, tv: str):
    started = await start(alice, tv)
    html = await alice.html(f"/device?user_code={started['user_code']}")
    form = {"csrf_token": csrf_of(html), "user_code": started["user_code"]}
    await alice.client.post("/device", form={**form, "decision": "deny"})
    again = await alice.client.post("/device", form={**form, "decision": "approve"})
    assert again.status_code == 400
    assert "already used" in text_of(await again.get_data(as_text=True))
    assert await status_of(alice, started["user_code"]) == "denied"


async def test_an_unknown_decision_decides_nothing(alice: Person, tv: str):
    started = await start(alice, tv)
    html = await alice.html(f"/device?user_code={started['user_code']}")
    response = await alice.client.post("/device", form={
        "csrf_token": csrf_of(html), "user_code": started["user_code"], "decision": "maybe"})
    assert response.status_code == 400
    assert await status_of(alice, started["user_code"]) == "pending"


async def test_too_many_wrong_codes_stop_lookups_even_for_a_right_one(settings, tmp_path):
    async with app_with(settings, rate_limit_account="3/minute") as app:
        from tests.helpers import services_of

        svc = services_of(app)
        user = await add_user(svc)
        person = Person(app, svc, user, Browser(app.test_client()))
        await person.sign_in()
        reg = await add_client(svc, redirect_uris=[], auth_method="none",
                               grant_types=[DEVICE_GRANT])
        good = (await start(person, reg.client.id))["user_code"]
        # Input that cannot be a code at all is not a guess and is not counted.
        for typo in ("ABC", "AEIO-UAEI", "BCDF-GHJ", "BCDF-GHJK-L"):
            assert (await person.client.get(f"/device?user_code={typo}")).status_code == 400
        assert (await person.client.get(f"/device?user_code={good}")).status_code == 200
        for wrong in ("BCDF-GHJK", "BCDF-GHJL", "BCDF-GHJM"):
            assert (await person.client.get(f"/device?user_code={wrong}")).status_code == 400
        blocked = await person.client.get(f"/device?user_code={good}")
        assert blocked.status_code == 429 and blocked.headers["Retry-After"]
        assert "Too many attempts" in await blocked.get_data(as_text=True)


async def test_a_member_of_several_organizations_chooses_one(alice: Person):
    await add_user(alice.svc, "bob", new_org_name="Globex")
    async with alice.svc.db.session() as session:
        repo = Organizations(session)
        globex = await repo.by_slug("globex")
        assert globex is not None
        await repo.add_member(globex, alice.user, "member")
    reg = await add_client(alice.svc, name="Org TV", redirect_uris=[], auth_method="none",
                           grant_types=[DEVICE_GRANT])
    started = await start(alice, reg.client.id, "openid organization")
    html = await alice.html(f"/device?user_code={started['user_code']}")
    assert "<legend>Act in this organization</legend>" in html
    options = re.findall(r'name="org_id" value="([^"]+)"', html)
    assert globex.id in options and len(options) == 2

    # An organization she is not in is refused, and nothing is decided.
    form = {"csrf_token": csrf_of(html), "user_code": started["user_code"],
            "decision": "approve"}
    refused = await alice.client.post("/device", form={**form, "org_id": "initech"})
    assert refused.status_code == 400
    assert await status_of(alice, started["user_code"]) == "pending"

    chosen = await alice.client.post("/device", form={**form, "org_id": globex.id})
    assert chosen.status_code == 303
    tokens = await (await poll(alice, reg.client.id, started["device_code"])).get_json()
    assert jwt_claims(tokens["id_token"])["org"]["id"] == globex.id
    assert jwt_claims(tokens["access_token"])["org_id"] == globex.id


async def test_one_organization_means_no_choice(alice: Person, tv: str):
    started = await start(alice, tv, "openid organization")
    html = await alice.html(f"/device?user_code={started['user_code']}")
    assert "org_id" not in html


async def test_in_noop_mode_the_dev_user_decides_without_signing_in(settings):
    async with app_with(settings, auth_mode="noop") as app:
        from tests.helpers import services_of

        svc = services_of(app)
        reg = await add_client(svc, redirect_uris=[], auth_method="none",
                               grant_types=[DEVICE_GRANT])
        browser = Browser(app.test_client())
        response = await browser.client.post("/device_authorization", form={
            "client_id": reg.client.id, "scope": "openid"})
        started = await response.get_json()
        page = await browser.client.get(f"/device?user_code={started['user_code']}")
        html = await page.get_data(as_text=True)
        assert page.status_code == 200, html[:500]
        assert "Development mode, no authentication" in html
        decided = await browser.client.post("/device", form={
            "csrf_token": csrf_of(html), "user_code": started["user_code"],
            "decision": "approve"})
        assert decided.status_code == 303
        tokens = await browser.client.post("/token", form={
            "grant_type": DEVICE_GRANT, "device_code": started["device_code"],
            "client_id": reg.client.id})
        assert tokens.status_code == 200, await tokens.get_json()
