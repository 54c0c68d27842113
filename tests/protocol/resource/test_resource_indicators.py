"""Resource indicators (RFC 8707): known resources only, ``aud`` narrowed to them, the
grant remembers them and a refresh may narrow further."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from sqlalchemy import select
from tests.helpers import REDIRECT, add_client, jwt_claims, query_of, services_of

from portico.storage.models import AccessToken, RefreshToken

ORDERS = "https://api.example.com/orders"
MCP = "https://mcp.example.net/mcp"
pytestmark = pytest.mark.parametrize(
    "overrides", [{"resources": ["https://api.example.com/", MCP]}])


def _form(rp, code: str, *resources: str) -> list[tuple[str, str]]:
    return [("grant_type", "authorization_code"), ("code", code), ("redirect_uri", REDIRECT),
            ("code_verifier", rp.verifier), *(("resource", r) for r in resources)]


async def _post(rp, form: list[tuple[str, str]], headers=None):
    body = urlencode(form)  # repeated names, as RFC 8707 §2 allows
    return await rp.app.test_client().post(
        "/token", data=body, headers={**(headers or rp.basic()),
                                      "Content-Type": "application/x-www-form-urlencoded"})


async def _code(rp, *resources: str, **extra: str) -> str:
    query = urlencode([("resource", r) for r in resources])
    params = rp.params(**extra)
    response = await rp.browser.follow(
        await rp.browser.client.get(f"/authorize?{urlencode(params)}&{query}"))
    return query_of(response.headers["Location"])["code"]


@pytest.mark.parametrize("resource, description", [
    ("https://unknown.example/api", "The requested resource is not known to this server."),
    ("https://api.example.com/orders#x",
     "The resource must be an absolute URI without a fragment."),
    ("/relative", "The resource must be an absolute URI without a fragment."),
])
async def test_unknown_or_malformed_resources_are_invalid_target(rp, resource, description):
    response = await rp.browser.authorize(**rp.params(resource=resource))
    query = query_of(response.headers["Location"])
    assert (query["error"], query["error_description"]) == ("invalid_target", description)
    assert query["state"] == "xyz"


async def test_the_access_token_is_audience_restricted_to_the_resources(rp):
    code = await _code(rp, ORDERS, MCP, scope="openid offline_access")
    response = await _post(rp, _form(rp, code))
    body = await response.get_json()
    assert response.status_code == 200, body
    assert jwt_claims(body["access_token"])["aud"] == [ORDERS, MCP]
    info = await (await rp.app.test_client().post(
        "/introspect", form={"token": body["access_token"]}, headers=rp.basic())).get_json()
    assert info["aud"] == [ORDERS, MCP]
    async with services_of(rp.app).db.session() as session:
        assert (await session.execute(select(AccessToken.audience))).scalar() == [ORDERS, MCP]
        assert (await session.execute(select(RefreshToken.resource))).scalar() == [ORDERS, MCP]

    # A refresh may narrow to one of them; the refresh token keeps the whole grant.
    narrowed = await _post(rp, [("grant_type", "refresh_token"),
                                ("refresh_token", body["refresh_token"]), ("resource", MCP)])
    narrowed_body = await narrowed.get_json()
    assert jwt_claims(narrowed_body["access_token"])["aud"] == MCP
    again = await _post(rp, [("grant_type", "refresh_token"),
                             ("refresh_token", narrowed_body["refresh_token"])])
    assert jwt_claims((await again.get_json())["access_token"])["aud"] == [ORDERS, MCP]


async def test_the_token_request_may_only_narrow_the_grant(rp):
    code = await _code(rp, ORDERS)
    response = await _post(rp, _form(rp, code, MCP))
    assert await response.get_json() == {
        "error": "invalid_target",
        "error_description": "The resource was not part of the original grant."}
    code = await _code(rp, ORDERS, MCP)
    body = await (await _post(rp, _form(rp, code, ORDERS))).get_json()
    assert jwt_claims(body["access_token"])["aud"] == ORDERS


async def test_a_prefix_entry_covers_what_is_below_it(rp):
    code = await _code(rp, "https://api.example.com/v2/things")
    body = await (await _post(rp, _form(rp, code))).get_json()
    assert jwt_claims(body["access_token"])["aud"] == "https://api.example.com/v2/things"


async def test_client_credentials_with_a_resource(rp):
    reg = await add_client(services_of(rp.app), name="Service",
                           grant_types=["client_credentials"], redirect_uris=[])
    headers = rp.basic(reg.client.id, reg.secret)
    ok = await _post(rp, [("grant_type", "client_credentials"), ("resource", MCP)], headers)
    assert jwt_claims((await ok.get_json())["access_token"])["aud"] == MCP
    bad = await _post(rp, [("grant_type", "client_credentials"),
                           ("resource", "https://other.example/")], headers)
    assert (await bad.get_json())["error"] == "invalid_target"


async def test_userinfo_refuses_tokens_meant_for_another_resource(rp):
    code = await _code(rp, MCP)
    token = (await (await _post(rp, _form(rp, code))).get_json())["access_token"]
    response = await rp.app.test_client().get(
        "/userinfo", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    assert (await response.get_json())["error_description"] == (
        "The access token is meant for another resource.")
    # UserInfo's own identifier is a resource like any other.
    code = await _code(rp, "http://127.0.0.1:8000/userinfo")
    token = (await (await _post(rp, _form(rp, code))).get_json())["access_token"]
    response = await rp.app.test_client().get(
        "/userinfo", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200

