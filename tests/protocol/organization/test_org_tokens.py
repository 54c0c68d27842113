"""A token answers for the organization of its grant: switching the session later does
not move it, refresh keeps it, and leaving the organization ends it."""

from __future__ import annotations

from sqlalchemy import select
from tests.helpers import jwt_claims, services_of
from tests.protocol.organization.conftest import OrgWorld, as_claim, org_claims

from portico.storage.models import AccessToken, AuditEvent, RefreshToken

SCOPE = "openid organization offline_access"


def _refresh(token: str) -> dict[str, str]:
    return {"grant_type": "refresh_token", "refresh_token": token}


async def test_switching_later_does_not_change_an_issued_token(world: OrgWorld):
    first = await world.rp.tokens(scope="openid organization", org="globex")
    # The session moves to acme (a later authorization for another application).
    second = await world.rp.tokens(scope="openid organization", org="acme")
    assert await world.active_org_ids() == {world.acme.id}
    assert (await world.userinfo(first["access_token"]))["org"] == as_claim(world.globex)
    assert (await world.userinfo(second["access_token"]))["org"] == as_claim(world.acme)


async def test_refresh_keeps_the_organization_through_rotation(world: OrgWorld):
    tokens = await world.rp.tokens(scope=SCOPE, org="globex")
    await world.rp.tokens(scope="openid", org="acme")  # the session switches away
    current = tokens
    for _ in range(2):
        response = await world.rp.token(_refresh(current["refresh_token"]))
        current = await response.get_json()
        assert response.status_code == 200, current
        assert org_claims(current["id_token"]) == (as_claim(world.globex), ["member"])
        assert jwt_claims(current["access_token"])["org_id"] == world.globex.id
        assert (await world.userinfo(current["access_token"]))["roles"] == ["member"]
    async with services_of(world.app).db.session() as session:
        access = await session.execute(select(AccessToken.org_id).where(
            AccessToken.family_id.is_not(None), AccessToken.scope == SCOPE))
        refresh = await session.execute(select(RefreshToken.org_id))
        assert set(access.scalars()) == set(refresh.scalars()) == {world.globex.id}


async def test_roles_are_read_fresh_for_the_same_organization(world: OrgWorld):
    from sqlalchemy import update

    from portico.storage.models import Membership

    tokens = await world.rp.tokens(scope=SCOPE, org="globex")
    async with services_of(world.app).db.session() as session:
        await session.execute(
            update(Membership)
            .where(Membership.user_id == world.ann.id, Membership.org_id == world.globex.id)
            .values(role="admin")
        )
    assert (await world.userinfo(tokens["access_token"]))["roles"] == ["admin"]


async def test_after_leaving_the_organization_userinfo_omits_it_and_refresh_fails(
    world: OrgWorld,
):
    tokens = await world.rp.tokens(scope=SCOPE + " email", org="globex")
    await world.leave(world.globex)
    body = await world.userinfo(tokens["access_token"])
    assert "org" not in body and "roles" not in body and body["email"] == "ann@example.org"
    response = await world.rp.token(_refresh(tokens["refresh_token"]))
    assert response.status_code == 400
    assert (await response.get_json())["error"] == "invalid_grant"
    # The family is over: the access token from it stops working too.
    gone = await world.app.test_client().get(
        "/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert gone.status_code == 401
    async with services_of(world.app).db.session() as session:
        actions = (await session.execute(select(AuditEvent.action))).scalars().all()
    assert "token.refresh_refused" in actions and "token.refresh_reused" not in actions


async def test_refresh_without_the_scope_survives_leaving(world: OrgWorld):
    tokens = await world.rp.tokens(scope="openid offline_access", org="globex")
    await world.leave(world.globex)
    response = await world.rp.token(_refresh(tokens["refresh_token"]))
    assert response.status_code == 200
    assert org_claims((await response.get_json())["id_token"]) == (None, None)


async def test_a_code_for_an_organization_she_has_left_is_invalid_grant(world: OrgWorld):
    code = await world.rp.code(scope="openid organization", org="globex")
    await world.leave(world.globex)
    response = await world.rp.token({
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": world.rp.params()["redirect_uri"],
        "code_verifier": world.rp.verifier,
    })
    assert (await response.get_json())["error"] == "invalid_grant"


async def test_after_leaving_the_active_organization_the_next_one_is_used(world: OrgWorld):
    await world.rp.tokens(scope="openid", org="globex")
    await world.leave(world.globex)
    tokens = await world.rp.tokens(scope="openid organization")
    assert org_claims(tokens["id_token"]) == (as_claim(world.acme), ["admin"])
