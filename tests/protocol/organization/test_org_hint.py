"""The ``org`` request parameter: a member's pick switches the session and is recorded
on the code; anyone else is refused the same way whether or not the org exists."""

from __future__ import annotations

from sqlalchemy import select
from tests.helpers import Browser, query_of, services_of
from tests.protocol.organization.conftest import OrgWorld, as_claim, org_claims

from portico.storage.models import AuthorizationCode, PendingAuthorization

NOT_A_MEMBER = "You are not a member of the organization this application asked for."


async def _authorize(world: OrgWorld, browser: Browser | None = None, **params: str) -> dict:
    browser = browser or world.rp.browser
    response = await browser.follow(await browser.authorize(**world.rp.params(**params)))
    assert response.status_code in (302, 303), await response.get_data(as_text=True)
    return query_of(response.headers["Location"])


async def test_a_hint_by_slug_picks_the_organization_and_switches_the_session(world: OrgWorld):
    tokens = await world.rp.tokens(scope="openid organization", org="globex")
    assert org_claims(tokens["id_token"]) == (as_claim(world.globex), ["member"])
    body = await world.userinfo(tokens["access_token"])
    assert body["org"]["slug"] == "globex" and body["roles"] == ["member"]
    assert await world.active_org_ids() == {world.globex.id}
    # Without a hint, the next authorization acts in the session's (new) active org.
    later = await world.rp.tokens(scope="openid organization")
    assert org_claims(later["id_token"]) == (as_claim(world.globex), ["member"])


async def test_a_hint_by_id_works_too(world: OrgWorld):
    await world.rp.tokens(scope="openid organization", org="globex")
    tokens = await world.rp.tokens(scope="openid organization", org=world.acme.id)
    assert org_claims(tokens["id_token"]) == (as_claim(world.acme), ["admin"])
    assert await world.active_org_ids() == {world.acme.id}


async def test_the_code_records_the_organization_even_without_the_scope(world: OrgWorld):
    await world.rp.code(scope="openid", org="globex")
    async with services_of(world.app).db.session() as session:
        rows = (await session.execute(select(AuthorizationCode.org_id))).scalars().all()
    assert rows[-1] == world.globex.id


async def test_a_hint_for_an_organization_she_is_not_in_is_access_denied(world: OrgWorld):
    foreign = await _authorize(world, scope="openid organization", org="initech")
    missing = await _authorize(world, scope="openid organization", org="no-such-org")
    for answer in (foreign, missing):
        assert "code" not in answer
        assert answer["error"] == "access_denied"
        assert answer["error_description"] == NOT_A_MEMBER
        assert answer["state"] == "xyz"
    # Nothing tells the two apart, and the session did not move.
    assert foreign == missing
    assert await world.active_org_ids() == {None}


async def test_prompt_none_with_a_foreign_hint_is_access_denied_too(world: OrgWorld):
    answer = await _authorize(world, scope="openid", org=world.initech.id, prompt="none")
    assert answer["error"] == "access_denied"


async def test_the_hint_is_checked_before_consent(world: OrgWorld):
    """A scope she has not approved yet would need consent; the refusal comes first."""
    answer = await _authorize(world, scope="openid phone", org="initech")
    assert answer["error"] == "access_denied"


async def test_a_hint_waits_for_sign_in(world: OrgWorld):
    fresh = Browser(world.app.test_client())
    params = world.rp.params(scope="openid organization", org="globex")
    response = await fresh.follow(await fresh.login(await fresh.authorize(**params), "ann"))
    code = query_of(response.headers["Location"])["code"]
    token = await world.rp.token({"grant_type": "authorization_code", "code": code,
                                  "redirect_uri": params["redirect_uri"],
                                  "code_verifier": world.rp.verifier})
    body = await token.get_json()
    assert org_claims(body["id_token"]) == (as_claim(world.globex), ["member"])


async def test_a_foreign_hint_after_sign_in_is_refused_and_closes_the_request(world: OrgWorld):
    fresh = Browser(world.app.test_client())
    response = await fresh.authorize(**world.rp.params(scope="openid", org="initech"))
    response = await fresh.follow(await fresh.login(response, "ann"))
    answer = query_of(response.headers["Location"])
    assert answer["error"] == "access_denied" and answer["error_description"] == NOT_A_MEMBER
    async with services_of(world.app).db.session() as session:
        open_rows = await session.execute(
            select(PendingAuthorization).where(PendingAuthorization.completed_at.is_(None))
        )
        assert open_rows.scalars().all() == []


async def test_a_malformed_hint_is_invalid_request(world: OrgWorld):
    answer = await _authorize(world, scope="openid", org="x" * 65)
    assert answer["error"] == "invalid_request"
    answer = await _authorize(world, scope="openid", org="acme\n")
    assert answer["error"] == "invalid_request"
