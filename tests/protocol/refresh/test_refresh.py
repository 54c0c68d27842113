"""Refresh tokens: issued with offline_access, rotated, reuse revokes the family."""

from __future__ import annotations

import asyncio

from tests.helpers import jwt_claims


def _refresh(token, **extra):
    return {"grant_type": "refresh_token", "refresh_token": token, **extra}


async def test_no_refresh_token_without_offline_access(rp):
    tokens = await rp.tokens(scope="openid")
    assert "refresh_token" not in tokens


async def test_refresh_rotates_and_returns_a_new_id_token(rp):
    tokens = await rp.tokens(scope="openid offline_access")
    response = await rp.token(_refresh(tokens["refresh_token"]))
    new = await response.get_json()
    assert response.status_code == 200, new
    assert new["refresh_token"] != tokens["refresh_token"]
    old_claims, new_claims = jwt_claims(tokens["id_token"]), jwt_claims(new["id_token"])
    assert new_claims["sub"] == old_claims["sub"]
    assert new_claims["auth_time"] == old_claims["auth_time"]


async def test_reusing_a_rotated_token_revokes_the_whole_family(rp):
    tokens = await rp.tokens(scope="openid offline_access")
    rotated = await (await rp.token(_refresh(tokens["refresh_token"]))).get_json()
    reuse = await rp.token(_refresh(tokens["refresh_token"]))
    assert (await reuse.get_json())["error"] == "invalid_grant"
    after = await rp.token(_refresh(rotated["refresh_token"]))
    assert (await after.get_json())["error"] == "invalid_grant"
    userinfo = await rp.app.test_client().get(
        "/userinfo", headers={"Authorization": f"Bearer {rotated['access_token']}"}
    )
    assert userinfo.status_code == 401


async def test_concurrent_refreshes_with_one_token_yield_one_success(rp):
    tokens = await rp.tokens(scope="openid offline_access")
    responses = await asyncio.gather(
        *(rp.token(_refresh(tokens["refresh_token"])) for _ in range(5))
    )
    assert sorted(r.status_code for r in responses) == [200, 400, 400, 400, 400]


async def test_scope_can_narrow_but_not_widen(rp):
    tokens = await rp.tokens(scope="openid email offline_access")
    wider = await rp.token(_refresh(tokens["refresh_token"], scope="openid profile"))
    assert (await wider.get_json())["error"] == "invalid_grant"
    narrow = await (await rp.token(_refresh(tokens["refresh_token"], scope="openid"))).get_json()
    assert narrow["scope"] == "openid"
    again = await (await rp.token(_refresh(narrow["refresh_token"]))).get_json()
    assert set(again["scope"].split()) == {"openid", "email", "offline_access"}


async def test_an_access_token_is_not_a_refresh_token(rp):
    tokens = await rp.tokens(scope="openid offline_access")
    response = await rp.token(_refresh(tokens["access_token"]))
    assert (await response.get_json())["error"] == "invalid_grant"
