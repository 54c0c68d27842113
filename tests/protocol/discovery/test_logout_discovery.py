"""Discovery advertises the logout family Portico implements: RP-initiated logout's
end_session_endpoint, back- and front-channel logout with sid (Back-Channel Logout 1.0
§2.1, Front-Channel Logout 1.0 §3); RFC 8414 metadata leaves these OIDC members out."""

from __future__ import annotations

LOGOUT_FLAGS = (
    "backchannel_logout_supported",
    "backchannel_logout_session_supported",
    "frontchannel_logout_supported",
    "frontchannel_logout_session_supported",
)


async def test_logout_support_is_advertised(app):
    client = app.test_client()
    doc = await (await client.get("/.well-known/openid-configuration")).get_json()
    assert doc["end_session_endpoint"] == "http://127.0.0.1:8000/end_session"
    assert {flag: doc[flag] for flag in LOGOUT_FLAGS} == dict.fromkeys(LOGOUT_FLAGS, True)
    routed = await client.get("/end_session")
    assert routed.status_code == 200


async def test_oauth_metadata_has_no_logout_members(app):
    doc = await (await app.test_client().get("/.well-known/oauth-authorization-server")).get_json()
    assert not {"end_session_endpoint", *LOGOUT_FLAGS} & set(doc)
