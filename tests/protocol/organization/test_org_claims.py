"""The ``organization`` scope: ``org`` and ``roles`` of the active organization in the
ID token and at userinfo, ``org_id`` in the access token, and discovery listing them."""

from __future__ import annotations

import json

from tests.helpers import jwt_claims
from tests.protocol.organization.conftest import OrgWorld, as_claim, org_claims


async def test_without_the_scope_there_are_no_organization_claims(world: OrgWorld):
    tokens = await world.rp.tokens(scope="openid profile email")
    assert org_claims(tokens["id_token"]) == (None, None)
    body = await world.userinfo(tokens["access_token"])
    assert "org" not in body and "roles" not in body and body["email"] == "ann@example.org"
    assert "org_id" not in jwt_claims(tokens["access_token"])


async def test_the_scope_releases_the_active_organization_and_roles(world: OrgWorld):
    tokens = await world.rp.tokens(scope="openid organization")
    assert tokens["scope"] == "openid organization"
    # No switch yet: the oldest membership is the active one.
    assert org_claims(tokens["id_token"]) == (as_claim(world.acme), ["admin"])
    body = await world.userinfo(tokens["access_token"])
    assert body["org"] == as_claim(world.acme) and body["roles"] == ["admin"]
    assert jwt_claims(tokens["access_token"])["org_id"] == world.acme.id


async def test_the_claims_parameter_still_asks_for_them_without_the_scope(world: OrgWorld):
    claims = {"id_token": {"org": None}, "userinfo": {"roles": None}}
    tokens = await world.rp.tokens(scope="openid", claims=json.dumps(claims))
    assert org_claims(tokens["id_token"]) == (as_claim(world.acme), None)
    body = await world.userinfo(tokens["access_token"])
    assert body["roles"] == ["admin"] and "org" not in body
    # org_id in the access token goes with the scope only.
    assert "org_id" not in jwt_claims(tokens["access_token"])


async def test_introspection_reports_the_organization_of_the_token(world: OrgWorld):
    tokens = await world.rp.tokens(scope="openid organization", org="globex")
    response = await world.app.test_client().post(
        "/introspect", form={"token": tokens["access_token"]}, headers=world.rp.basic()
    )
    body = await response.get_json()
    assert body["active"] is True and body["org_id"] == world.globex.id


async def test_discovery_lists_the_scope_and_its_claims(world: OrgWorld):
    client = world.app.test_client()
    doc = await (await client.get("/.well-known/openid-configuration")).get_json()
    assert "organization" in doc["scopes_supported"]
    assert {"org", "roles"} <= set(doc["claims_supported"])
    oauth = await (await client.get("/.well-known/oauth-authorization-server")).get_json()
    assert "organization" in oauth["scopes_supported"]


async def test_a_client_may_be_registered_for_the_scope_or_without_it(world: OrgWorld):
    from tests.helpers import add_client, query_of, services_of

    reg = await add_client(services_of(world.app), first_party=True, scope="openid email")
    world.rp.client_id, world.rp.secret = reg.client.id, reg.secret
    tokens = await world.rp.tokens(scope="openid organization")
    assert tokens["scope"] == "openid" and org_claims(tokens["id_token"]) == (None, None)
    allowed = await add_client(services_of(world.app), first_party=True,
                               scope="openid organization")
    world.rp.client_id, world.rp.secret = allowed.client.id, allowed.secret
    response = await world.rp.browser.follow(
        await world.rp.browser.authorize(**world.rp.params(scope="openid organization"))
    )
    assert "code" in query_of(response.headers["Location"])
