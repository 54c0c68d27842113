"""RFC 7009 revocation."""

from __future__ import annotations


async def test_revoking_an_access_token_stops_userinfo_and_introspection(rp):
    tokens = await rp.tokens()
    client = rp.app.test_client()
    response = await client.post(
        "/revoke", form={"token": tokens["access_token"]}, headers=rp.basic()
    )
    assert response.status_code == 200
    userinfo = await client.get(
        "/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert userinfo.status_code == 401
    body = await (
        await client.post("/introspect", form={"token": tokens["access_token"]}, headers=rp.basic())
    ).get_json()
    assert body == {"active": False}


async def test_revoking_a_refresh_token_revokes_its_family(rp):
    tokens = await rp.tokens(scope="openid offline_access")
    client = rp.app.test_client()
    await client.post("/revoke", form={"token": tokens["refresh_token"]}, headers=rp.basic())
    refresh = await rp.token(
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    )
    assert (await refresh.get_json())["error"] == "invalid_grant"
    userinfo = await client.get(
        "/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"}
    )
    assert userinfo.status_code == 401


async def test_unknown_tokens_revoke_quietly(rp):
    response = await rp.app.test_client().post(
        "/revoke", form={"token": "nothing"}, headers=rp.basic()
    )
    assert response.status_code == 200


async def test_an_unsupported_token_type_hint_is_refused(rp):
    response = await rp.app.test_client().post(
        "/revoke", form={"token": "x", "token_type_hint": "id_token"}, headers=rp.basic()
    )
    assert (await response.get_json())["error"] == "unsupported_token_type"
