"""Who an upstream identity becomes: linking by verified email only when trusted,
refusals when sign-up is closed, and nothing created when a sign-in is refused."""

from __future__ import annotations

from sqlalchemy import func, select
from tests.federation.conftest import PASSWORD, Upstream
from tests.federation.support import add_provider, round_trip
from tests.helpers import add_user, services_of

from portico.storage.models import AuditEvent, FederatedIdentity, User

START = "/api/v1/external-auth/{}/start"


async def _count(app, model) -> int:
    async with services_of(app).db.session() as s:
        return int(await s.scalar(select(func.count()).select_from(model)))


async def _failures(app) -> list[str]:
    async with services_of(app).db.session() as s:
        rows = await s.scalars(select(AuditEvent).where(AuditEvent.action == "login.failed"))
        return [e.details.get("reason") for e in rows]


async def test_a_verified_email_links_to_the_existing_account_when_trusted(
        app, upstream: Upstream):
    local = await add_user(services_of(app), "uma-local", email="uma@upstream.example")
    await add_provider(app, upstream.provider("trusted", trust_email_for_linking=True))
    done = await round_trip(app.test_client(), upstream.issuer, START.format("trusted"),
                            "uma", PASSWORD)
    assert done.status_code == 303 and done.headers["Location"] == "/account"
    async with services_of(app).db.session() as s:
        identity = await s.scalar(select(FederatedIdentity))
    assert identity is not None and identity.user_id == local.id
    assert await _count(app, User) == 1


async def test_without_trust_the_person_is_told_to_link_from_their_account(
        app, upstream: Upstream):
    await add_user(services_of(app), "uma-local", email="uma@upstream.example")
    await add_provider(app, upstream.provider())
    page = await round_trip(app.test_client(), upstream.issuer, START.format("upstream"),
                            "uma", PASSWORD)
    html = await page.get_data(as_text=True)
    assert page.status_code == 403
    assert "Signing in with Upstream ID did not work" in html
    assert "link Upstream ID from your account page" in html and "/account/links" in html
    assert await _count(app, FederatedIdentity) == 0 and await _count(app, User) == 1
    assert await _failures(app) == ["link_required"]


async def test_an_unverified_email_never_links_even_when_trusted(app, upstream: Upstream):
    await add_user(services_of(app), "vic-local", email="vic@upstream.example")
    await add_provider(app, upstream.provider("trusted", trust_email_for_linking=True))
    page = await round_trip(app.test_client(), upstream.issuer, START.format("trusted"),
                            "vic", PASSWORD)
    assert page.status_code == 403
    assert await _count(app, FederatedIdentity) == 0


async def test_closed_sign_up_refuses_new_people_and_creates_nothing(app, upstream: Upstream):
    await add_provider(app, upstream.provider("closed", allow_signup=False))
    page = await round_trip(app.test_client(), upstream.issuer, START.format("closed"),
                            "uma", PASSWORD)
    html = await page.get_data(as_text=True)
    assert page.status_code == 403 and "cannot be created through Upstream ID" in html
    assert await _count(app, User) == 0 and await _count(app, FederatedIdentity) == 0
    assert await _failures(app) == ["signup_disabled"]


async def test_allowed_domains_limit_who_may_sign_up(app, upstream: Upstream):
    await add_provider(app, upstream.provider(email_domains=["corp.example"]))
    refused = await round_trip(app.test_client(), upstream.issuer, START.format("upstream"),
                               "uma", PASSWORD)
    assert refused.status_code == 403
    welcomed = await round_trip(app.test_client(), upstream.issuer, START.format("upstream"),
                                "wes", PASSWORD)
    assert welcomed.status_code == 303
    assert await _failures(app) == ["domain_not_allowed"]


async def test_new_people_join_the_providers_organization(app, upstream: Upstream):
    from portico.orgs.memberships import insert_organization
    from portico.storage.models import Membership

    svc = services_of(app)
    async with svc.db.session() as s:
        org = await insert_organization(s, name="Corp", slug="corp", owner=None)
    await add_provider(app, upstream.provider(org_id=org.id))
    await round_trip(app.test_client(), upstream.issuer, START.format("upstream"), "uma",
                     PASSWORD)
    async with svc.db.session() as s:
        orgs = list(await s.scalars(select(Membership.org_id)))
    assert orgs == [org.id]
