"""Implicit and hybrid flows (OIDC Core §3.2, §3.3; OAuth 2.0 Multiple Response Types):
tokens from /authorize, in the fragment or a form post, with at_hash / c_hash, for
clients that registered those response types only."""

from __future__ import annotations

import base64
import hashlib

import pytest
from tests.helpers import REDIRECT, add_client, query_of, services_of
from tests.protocol.implicit_hybrid.conftest import Front, signed_in


def half_hash(value: str) -> str:
    digest = hashlib.sha256(value.encode()).digest()
    return base64.urlsafe_b64encode(digest[:16]).rstrip(b"=").decode()


async def test_id_token_alone_comes_in_the_fragment_with_the_nonce(front: Front):
    got = await front.fragment("id_token")
    assert set(got) == {"id_token", "state", "iss"}
    assert got["state"] == "st-1" and got["iss"] == "http://127.0.0.1:8000"
    claims = await front.verify(got["id_token"])
    assert claims["aud"] == front.client_id and claims["nonce"] == "n-0S6"
    assert "at_hash" not in claims and "c_hash" not in claims
    # OIDC Core §5.4: with no access token, the scope's claims are in the ID token.
    assert claims["email"] == "alice@example.org"


async def test_id_token_token_carries_at_hash_and_a_working_access_token(front: Front):
    got = await front.fragment("id_token token")
    assert got["token_type"] == "Bearer" and int(got["expires_in"]) == 900
    assert "code" not in got and "refresh_token" not in got
    claims = await front.verify(got["id_token"])
    assert claims["at_hash"] == half_hash(got["access_token"])
    client = front.app.test_client()
    info = await client.get("/userinfo", headers={"Authorization": f"Bearer {got['access_token']}"})
    assert info.status_code == 200 and (await info.get_json())["sub"] == claims["sub"]


async def test_a_front_channel_access_token_is_recorded_so_revocation_works(front: Front):
    got = await front.fragment("id_token token")
    client = front.app.test_client()
    auth = {"Authorization": "Basic " + base64.b64encode(
        f"{front.client_id}:{front.secret}".encode()).decode()}
    active = await (await client.post(
        "/introspect", form={"token": got["access_token"]}, headers=auth)).get_json()
    assert active["active"] is True and active["client_id"] == front.client_id
    revoked = await client.post("/revoke", form={"token": got["access_token"]}, headers=auth)
    assert revoked.status_code == 200
    info = await client.get("/userinfo", headers={"Authorization": f"Bearer {got['access_token']}"})
    assert info.status_code == 401


@pytest.mark.parametrize("response_type", ["code id_token", "code id_token token"])
async def test_hybrid_id_token_binds_the_code_and_the_code_redeems(front: Front, response_type):
    got = await front.fragment(response_type)
    claims = await front.verify(got["id_token"])
    assert claims["c_hash"] == half_hash(got["code"])
    if "token" in response_type.split():
        assert claims["at_hash"] == half_hash(got["access_token"])
    else:
        assert "access_token" not in got and "at_hash" not in claims
    auth = {"Authorization": "Basic " + base64.b64encode(
        f"{front.client_id}:{front.secret}".encode()).decode()}
    response = await front.app.test_client().post("/token", headers=auth, form={
        "grant_type": "authorization_code", "code": got["code"], "redirect_uri": REDIRECT})
    body = await response.get_json()
    assert response.status_code == 200, body
    second = await front.verify(body["id_token"])
    # OIDC Core §3.3.3.6: same iss and sub as the ID token from /authorize; the nonce too.
    assert (second["sub"], second["iss"], second["nonce"]) == (
        claims["sub"], claims["iss"], "n-0S6")


async def test_code_token_returns_no_id_token_and_needs_no_nonce(front: Front):
    got = await front.fragment("code token", nonce=None)
    assert {"code", "access_token", "token_type", "expires_in"} <= set(got)
    assert "id_token" not in got


@pytest.mark.parametrize("response_type", ["id_token", "id_token token", "code id_token"])
async def test_a_nonce_is_required_when_authorize_returns_an_id_token(
    front: Front, response_type
):
    got = await front.fragment(response_type, nonce=None)
    assert got == {
        "error": "invalid_request",
        "error_description": "The nonce parameter is required for this response_type.",
        "state": "st-1",
        "iss": "http://127.0.0.1:8000",
    }


async def test_id_token_response_types_need_the_openid_scope(front: Front):
    got = await front.fragment("id_token", scope="email")
    assert got["error"] == "invalid_request"
    assert got["error_description"] == "The id_token response types need the openid scope."


async def test_tokens_are_never_put_in_the_query(front: Front):
    # OAuth 2.0 Multiple Response Types §5; the error goes by the default, the fragment.
    got = await front.fragment("id_token token", response_mode="query")
    assert got["error"] == "invalid_request"
    assert got["error_description"] == (
        "Tokens are never returned in the query; use response_mode fragment or form_post."
    )


async def test_response_types_in_any_order_mean_the_same(front: Front):
    got = await front.fragment("token id_token code")
    assert {"code", "access_token", "id_token"} <= set(got)


async def test_form_post_delivers_the_tokens_in_an_auto_submitted_form(front: Front):
    response = await front.authorize("code id_token token", response_mode="form_post")
    html = await response.get_data(as_text=True)
    assert response.status_code == 200 and f'action="{REDIRECT}"' in html
    for name in ("code", "access_token", "id_token", "state", "iss"):
        assert f'name="{name}"' in html
    assert response.headers["Cache-Control"] == "no-store"


async def test_offline_access_gives_no_refresh_token_from_the_front_channel(app):
    front = await signed_in(app, grant_types=["authorization_code", "refresh_token"])
    got = await front.fragment("id_token token", scope="openid offline_access")
    assert "refresh_token" not in got and "access_token" in got


async def test_a_client_must_register_the_response_type(app):
    svc = services_of(app)
    front = await signed_in(app)
    reg = await add_client(svc, name="code only", first_party=True)
    response = await front.browser.authorize(**dict(
        front.params("id_token"), client_id=reg.client.id))
    location = response.headers["Location"]
    assert location.startswith(REDIRECT + "#")
    assert query_of(location)["error"] == "unauthorized_client"
    assert query_of(location)["error_description"] == (
        "The client has not registered this response_type."
    )


async def test_a_parked_request_resumes_with_the_same_response_type(app):
    svc = services_of(app)
    front = await signed_in(app)
    reg = await add_client(svc, name="needs consent", first_party=False,
                           metadata={"response_types": ["id_token token"]})
    response = await front.browser.authorize(**dict(
        front.params("id_token token"), client_id=reg.client.id))
    response = await front.browser.follow(await front.browser.consent(response))
    got = query_of(response.headers["Location"])
    assert response.headers["Location"].startswith(REDIRECT + "#")
    assert {"access_token", "id_token"} <= set(got)
    assert (await front.verify(got["id_token"]))["aud"] == reg.client.id


async def test_pairwise_subjects_are_the_same_from_authorize_and_token(app):
    # One ID-token builder: /authorize and /token agree on what the client sees.
    front = await signed_in(app, metadata={
        "response_types": ["code id_token"], "subject_type": "pairwise"})
    got = await front.fragment("code id_token")
    claims = await front.verify(got["id_token"])
    auth = {"Authorization": "Basic " + base64.b64encode(
        f"{front.client_id}:{front.secret}".encode()).decode()}
    body = await (await front.app.test_client().post("/token", headers=auth, form={
        "grant_type": "authorization_code", "code": got["code"], "redirect_uri": REDIRECT,
    })).get_json()
    user_id = await _user_id(app)
    assert claims["sub"] != user_id
    assert (await front.verify(body["id_token"]))["sub"] == claims["sub"]


async def _user_id(app) -> str:
    from sqlalchemy import select

    from portico.storage.models import User

    async with services_of(app).db.session() as session:
        return (await session.execute(select(User.id).where(User.username == "alice"))).scalar_one()
