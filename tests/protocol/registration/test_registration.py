"""Dynamic client registration (RFC 7591) and management (RFC 7592), through the app:
what a registration answers, the metadata rules (OIDC Registration 1.0 §2), the exact
error codes, initial access tokens, and the registered client really signing someone in."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
from joserfc.jwk import RSAKey
from sqlalchemy import select, update
from tests.helpers import REDIRECT, Browser, add_user, jwt_claims, pkce, query_of, services_of
from tests.protocol.registration.conftest import REGISTER, configure, register

from portico.protocol.registration.service import create_initial_access_token
from portico.storage.models import AuditEvent, Client, InitialAccessToken
from portico.storage.models.base import utcnow

ISSUER = "http://127.0.0.1:8000"


def path_of(uri: str) -> str:
    return uri.removeprefix(ISSUER)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_open_registration_answers_201_with_credentials_and_the_metadata(app):
    status, body = await register(app, {
        "redirect_uris": [REDIRECT], "client_name": "Photo app", "client_name#ja": "写真",
        "logo_uri": "https://rp.example/logo.png", "policy_uri": "https://rp.example/p",
        "tos_uri": "https://rp.example/tos", "contacts": ["ops@rp.example"],
        "grant_types": ["authorization_code", "refresh_token"], "scope": "openid email",
        "default_max_age": 3600, "require_auth_time": True, "x-unknown-member": "dropped",
    })
    assert status == 201, body
    assert body["client_secret"] and body["registration_access_token"]
    assert body["client_secret_expires_at"] == 0 and body["client_id_issued_at"] > 0
    assert body["registration_client_uri"] == f"{ISSUER}{REGISTER}/{body['client_id']}"
    assert body["client_name"] == "Photo app" and body["client_name#ja"] == "写真"
    assert body["logo_uri"] == "https://rp.example/logo.png"
    assert body["contacts"] == ["ops@rp.example"] and body["default_max_age"] == 3600
    assert body["token_endpoint_auth_method"] == "client_secret_basic"
    assert body["response_types"] == ["code"] and body["subject_type"] == "public"
    assert "x-unknown-member" not in body  # RFC 7591 §2: ignored, so not echoed
    async with services_of(app).db.session() as session:
        row = await session.get(Client, body["client_id"])
    assert row.secret_hash != body["client_secret"]  # stored hashed
    assert row.registration_access_token_hash not in (None, body["registration_access_token"])


async def test_the_registered_client_completes_a_code_flow(app):
    svc = services_of(app)
    await add_user(svc)
    status, body = await register(app, {"redirect_uris": [REDIRECT], "client_name": "RP"})
    assert status == 201
    browser = Browser(app.test_client())
    verifier, challenge = pkce()
    response = await browser.authorize(
        client_id=body["client_id"], redirect_uri=REDIRECT, response_type="code",
        scope="openid", state="s", nonce="n", code_challenge=challenge,
        code_challenge_method="S256")
    response = await browser.follow(await browser.consent(await browser.login(response)))
    code = query_of(response.headers["Location"])["code"]
    token = await app.test_client().post("/token", form={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "code_verifier": verifier, "client_id": body["client_id"],
        "client_secret": body["client_secret"]})
    # client_secret_basic was registered: client_secret_post is refused...
    assert token.status_code == 401
    import base64

    basic = base64.b64encode(f"{body['client_id']}:{body['client_secret']}".encode()).decode()
    response = await browser.authorize(
        client_id=body["client_id"], redirect_uri=REDIRECT, response_type="code",
        scope="openid", state="s", nonce="n", code_challenge=challenge,
        code_challenge_method="S256")
    code = query_of((await browser.follow(response)).headers["Location"])["code"]
    token = await app.test_client().post("/token", form={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "code_verifier": verifier}, headers={"Authorization": f"Basic {basic}"})
    tokens = await token.get_json()
    assert token.status_code == 200, tokens
    assert jwt_claims(tokens["id_token"])["aud"] == body["client_id"]


async def test_registration_is_404_when_off(app):
    configure(app, client_registration="off")
    response = await app.test_client().post(REGISTER, json={"redirect_uris": [REDIRECT]})
    assert response.status_code == 404
    assert (await response.get_json())["error"] == "invalid_request"


@pytest.mark.parametrize(("metadata", "error", "words"), [
    ({"redirect_uris": ["https://rp.example/cb#frag"]}, "invalid_redirect_uri", "redirect_uris"),
    ({"redirect_uris": ["http://rp.example/cb"]}, "invalid_redirect_uri", "loopback"),
    ({"redirect_uris": ["com.example.app:/cb"]}, "invalid_redirect_uri", "scheme"),
    ({"redirect_uris": []}, "invalid_redirect_uri", "required"),
    ({"redirect_uris": ["https://rp.example/cb"], "application_type": "native"},
     "invalid_redirect_uri", "native"),
    ({"redirect_uris": "https://rp.example/cb"}, "invalid_client_metadata", "array"),
    ({"redirect_uris": [REDIRECT], "jwks_uri": "https://rp.example/jwks",
      "jwks": {"keys": []}}, "invalid_client_metadata", "jwks"),
    ({"redirect_uris": [REDIRECT], "id_token_encrypted_response_enc": "A256GCM"},
     "invalid_client_metadata", "id_token_encrypted_response_alg"),
    ({"redirect_uris": [REDIRECT], "id_token_encrypted_response_alg": "RSA1_5",
      "jwks_uri": "https://rp.example/jwks"}, "invalid_client_metadata", "RSA-OAEP"),
    ({"redirect_uris": [REDIRECT], "id_token_encrypted_response_alg": "RSA-OAEP-256"},
     "invalid_client_metadata", "jwks"),
    ({"redirect_uris": [REDIRECT], "id_token_signed_response_alg": "none"},
     "invalid_client_metadata", "none"),
    ({"redirect_uris": [REDIRECT], "userinfo_signed_response_alg": "HS256"},
     "invalid_client_metadata", "userinfo_signed_response_alg"),
    ({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "client_secret_jwt"},
     "invalid_client_metadata", "token_endpoint_auth_method"),
    ({"redirect_uris": [REDIRECT], "token_endpoint_auth_method": "private_key_jwt"},
     "invalid_client_metadata", "jwks"),
    ({"redirect_uris": [REDIRECT], "grant_types": ["client_credentials"]},
     "invalid_client_metadata", "client_credentials"),
    ({"redirect_uris": [REDIRECT], "grant_types": ["refresh_token"]},
     "invalid_client_metadata", "authorization_code"),
    ({"redirect_uris": [REDIRECT], "response_types": ["token"]},
     "invalid_client_metadata", "token"),
    ({"redirect_uris": [REDIRECT], "scope": "openid admin"}, "invalid_client_metadata", "admin"),
    ({"redirect_uris": [REDIRECT], "subject_type": "anonymous"},
     "invalid_client_metadata", "subject_type"),
    ({"redirect_uris": ["https://a.example/cb", "https://b.example/cb"],
      "subject_type": "pairwise"}, "invalid_client_metadata", "sector_identifier_uri"),
    ({"redirect_uris": [REDIRECT], "sector_identifier_uri": "ftp://rp.example/s"},
     "invalid_client_metadata", "sector_identifier_uri"),
    ({"redirect_uris": [REDIRECT], "logo_uri": "javascript:alert(1)"},
     "invalid_client_metadata", "logo_uri"),
    ({"redirect_uris": [REDIRECT], "client_name#not a tag": "x"},
     "invalid_client_metadata", "client_name"),
    ({"redirect_uris": [REDIRECT], "default_max_age": "soon"},
     "invalid_client_metadata", "default_max_age"),
    ({"redirect_uris": [REDIRECT], "contacts": [""]}, "invalid_client_metadata", "contacts"),
    ({"redirect_uris": [REDIRECT], "software_statement": "eyJhbGciOiJSUzI1NiJ9.e30.c2ln"},
     "unapproved_software_statement", "statement"),
    ({"redirect_uris": [REDIRECT], "software_statement": 12},
     "invalid_client_metadata", "software_statement"),
    (["not", "an", "object"], "invalid_client_metadata", "object"),
])
async def test_bad_metadata_gets_the_rfc_7591_error(app, metadata, error, words):
    status, body = await register(app, metadata)
    assert status == 400, body
    assert body["error"] == error
    assert words.lower() in body["error_description"].lower()


async def test_policy_limits_hosts_and_schemes(app):
    configure(app, client_registration_redirect_hosts=["*.example.org"],
              client_registration_redirect_schemes=["https", "com.example.app"])
    status, body = await register(app, {"redirect_uris": ["https://rp.example/cb"]})
    assert (status, body["error"]) == (400, "invalid_redirect_uri")
    status, body = await register(app, {"redirect_uris": ["https://example.org/cb"]})
    assert (status, body["error"]) == (400, "invalid_redirect_uri")  # not a subdomain
    status, _ = await register(app, {"redirect_uris": ["https://app.example.org/cb"]})
    assert status == 201
    status, body = await register(app, {"redirect_uris": ["com.example.app:/cb"],
                                        "application_type": "native",
                                        "token_endpoint_auth_method": "none"})
    assert status == 201, body
    assert body["application_type"] == "native" and "client_secret" not in body


async def test_malformed_bodies_are_invalid_client_metadata(app):
    client = app.test_client()
    response = await client.post(REGISTER, data="{nope", headers={
        "Content-Type": "application/json"})
    assert response.status_code == 400
    assert (await response.get_json())["error"] == "invalid_client_metadata"
    response = await client.post(REGISTER, form={"redirect_uris": REDIRECT})
    assert response.status_code == 400
    assert (await response.get_json())["error"] == "invalid_client_metadata"
    response = await client.post(REGISTER, data="\xff", headers={
        "Content-Type": "application/json"})
    assert response.status_code == 400


async def test_sector_identifier_uri_must_list_every_redirect_uri(app, documents):
    uris = ["https://a.example/cb", "https://b.example/cb"]
    good = documents.publish("sector.json", uris)
    bad = documents.publish("bad.json", ["https://a.example/cb"])
    not_a_list = documents.publish("obj.json", {"redirect_uris": uris})
    for uri in (bad, not_a_list, f"{documents.base}/missing.json"):
        status, body = await register(app, {"redirect_uris": uris, "subject_type": "pairwise",
                                            "sector_identifier_uri": uri})
        assert (status, body["error"]) == (400, "invalid_client_metadata"), body
    status, body = await register(app, {"redirect_uris": uris, "subject_type": "pairwise",
                                        "sector_identifier_uri": good})
    assert status == 201, body
    assert body["sector_identifier_uri"] == good and body["subject_type"] == "pairwise"


async def test_read_update_delete_with_the_registration_access_token(app):
    client = app.test_client()
    _, reg = await register(app, {"redirect_uris": [REDIRECT], "client_name": "One",
                                  "logo_uri": "https://rp.example/logo.png"})
    uri = path_of(reg["registration_client_uri"])
    token = reg["registration_access_token"]
    read = await client.get(uri, headers=bearer(token))
    body = await read.get_json()
    assert read.status_code == 200 and read.headers["Cache-Control"] == "no-store"
    assert body["client_name"] == "One" and "client_secret" not in body
    for headers in ({}, bearer("wrong"), {"Authorization": f"Basic {token}"}):
        refused = await client.get(uri, headers=headers)
        assert refused.status_code == 401
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
    _, other = await register(app, {"redirect_uris": [REDIRECT]})
    assert (await client.get(uri, headers=bearer(other["registration_access_token"]))
            ).status_code == 401

    # RFC 7592 §2.2: the whole metadata is replaced; omitted members go back to defaults.
    put = {"client_id": reg["client_id"], "redirect_uris": [REDIRECT, REDIRECT + "2"],
           "client_name": "Two", "token_endpoint_auth_method": "client_secret_post"}
    replaced = await client.put(uri, json=put, headers=bearer(token))
    new = await replaced.get_json()
    assert replaced.status_code == 200, new
    assert new["client_name"] == "Two" and "logo_uri" not in new
    assert new["redirect_uris"] == [REDIRECT, REDIRECT + "2"]
    assert new["registration_access_token"] != token  # rotated
    assert (await client.get(uri, headers=bearer(token))).status_code == 401
    token = new["registration_access_token"]
    for bad, words in (
            (dict(put, client_id="someone-else"), "client_id"),
            (dict(put, client_secret="guess"), "client_secret"),
            (dict(put, registration_access_token=token), "registration_access_token"),
            (dict(put, redirect_uris=["https://rp.example/#x"]), "redirect_uris")):
        response = await client.put(uri, json=bad, headers=bearer(token))
        error = await response.get_json()
        assert response.status_code == 400 and words in error["error_description"], error
    same_secret = dict(put, client_secret=reg["client_secret"])
    assert (await client.put(uri, json=same_secret, headers=bearer(token))).status_code == 200

    async with services_of(app).db.session() as session:
        token_hash = (await session.get(Client, reg["client_id"])).registration_access_token_hash
    assert token_hash is not None
    latest = (await client.get(uri, headers=bearer(token)))
    assert latest.status_code == 401  # the last PUT rotated it again
    async with services_of(app).db.session() as session:
        row = await session.get(Client, reg["client_id"])
    assert row.token_endpoint_auth_method == "client_secret_post"


async def test_delete_deregisters_the_client(app):
    client = app.test_client()
    _, reg = await register(app, {"redirect_uris": [REDIRECT]})
    uri, token = path_of(reg["registration_client_uri"]), reg["registration_access_token"]
    response = await client.delete(uri, headers=bearer(token))
    assert response.status_code == 204
    assert (await client.get(uri, headers=bearer(token))).status_code == 401
    async with services_of(app).db.session() as session:
        assert await session.get(Client, reg["client_id"]) is None


async def test_token_mode_needs_a_live_initial_access_token(app):
    svc = services_of(app)
    configure(app, client_registration="token")
    meta = {"redirect_uris": [REDIRECT]}
    response = await app.test_client().post(REGISTER, json=meta)
    assert response.status_code == 401
    assert (await response.get_json())["error"] == "invalid_token"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert (await register(app, meta, "iat_not-a-token"))[0] == 401

    user = await add_user(svc, "owner", new_org_name="Acme")
    async with svc.db.session() as session:
        from portico.storage.models import Membership

        org_id = (await session.execute(select(Membership.org_id).where(
            Membership.user_id == user.id))).scalar_one()
    issued = await create_initial_access_token(svc.db, org_id=org_id, max_uses=2)
    status, body = await register(app, meta, issued.token)
    assert status == 201, body
    async with svc.db.session() as session:
        assert (await session.get(Client, body["client_id"])).org_id == org_id
    assert (await register(app, meta, issued.token))[0] == 201
    status, body = await register(app, meta, issued.token)  # used up
    assert (status, body["error"]) == (401, "invalid_token")

    expiring = await create_initial_access_token(svc.db, org_id=None)
    async with svc.db.session() as session:
        await session.execute(update(InitialAccessToken).where(
            InitialAccessToken.id == expiring.row.id).values(
            expires_at=utcnow() - timedelta(seconds=1)))
        await session.commit()
    assert (await register(app, meta, expiring.token))[0] == 401


async def test_a_failed_registration_does_not_spend_a_use(app):
    svc = services_of(app)
    issued = await create_initial_access_token(svc.db, org_id=None, max_uses=1)
    status, _ = await register(app, {"redirect_uris": ["http://rp.example/cb"]}, issued.token)
    assert status == 400
    assert (await register(app, {"redirect_uris": [REDIRECT]}, issued.token))[0] == 201


async def test_the_last_use_of_a_token_goes_to_exactly_one_registration(app):
    svc = services_of(app)
    issued = await create_initial_access_token(svc.db, org_id=None, max_uses=1)
    results = await asyncio.gather(*[
        register(app, {"redirect_uris": [REDIRECT]}, issued.token) for _ in range(6)])
    assert sorted(status for status, _ in results) == [201] + [401] * 5


async def test_max_clients_per_organization(app):
    configure(app, client_registration_max_clients=2)
    for _ in range(2):
        assert (await register(app, {"redirect_uris": [REDIRECT]}))[0] == 201
    status, body = await register(app, {"redirect_uris": [REDIRECT]})
    assert (status, body["error"]) == (403, "access_denied")


async def test_registration_events_are_audited_without_secrets(app):
    _, reg = await register(app, {"redirect_uris": [REDIRECT], "client_name": "Audited"})
    uri, token = path_of(reg["registration_client_uri"]), reg["registration_access_token"]
    put = {"client_id": reg["client_id"], "redirect_uris": [REDIRECT]}
    new = await (await app.test_client().put(uri, json=put, headers=bearer(token))).get_json()
    await app.test_client().delete(uri, headers=bearer(new["registration_access_token"]))
    async with services_of(app).db.session() as session:
        events = list((await session.execute(select(AuditEvent).where(
            AuditEvent.target == f"client:{reg['client_id']}"))).scalars())
    actions = [e.action for e in events]
    assert actions == ["client.registered", "client.registration_updated",
                       "client.deregistered"]
    dumped = json.dumps([e.details for e in events])
    for secret in (reg["client_secret"], token, new["registration_access_token"]):
        assert secret not in dumped


async def test_a_confidential_jwks_is_refused_and_a_public_one_kept(app):
    key = RSAKey.generate_key(2048, auto_kid=True)
    status, body = await register(app, {
        "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "private_key_jwt",
        "jwks": {"keys": [key.as_dict(private=True)]}})
    assert (status, body["error"]) == (400, "invalid_client_metadata")
    status, body = await register(app, {
        "redirect_uris": [REDIRECT], "token_endpoint_auth_method": "private_key_jwt",
        "jwks": {"keys": [key.as_dict(private=False)]}})
    assert status == 201 and "client_secret" not in body
    assert body["jwks"]["keys"][0]["kid"] == key.kid and "d" not in body["jwks"]["keys"][0]


async def test_default_max_age_applies_when_the_request_has_none(app):
    svc = services_of(app)
    await add_user(svc)
    _, reg = await register(app, {"redirect_uris": [REDIRECT], "default_max_age": 0})
    browser = Browser(app.test_client())
    _, challenge = pkce()
    params: dict[str, Any] = dict(
        client_id=reg["client_id"], redirect_uri=REDIRECT, response_type="code",
        scope="openid", code_challenge=challenge, code_challenge_method="S256")
    await browser.follow(await browser.consent(await browser.login(
        await browser.authorize(**params))))
    # Signed in a moment ago, but default_max_age=0 asks for a fresh login every time.
    again = await browser.follow(await browser.authorize(**params, prompt="none"))
    assert query_of(again.headers["Location"])["error"] == "login_required"
    fine = await browser.follow(await browser.authorize(**params, prompt="none",
                                                        max_age="3600"))
    assert "code" in query_of(fine.headers["Location"])


async def test_jarm_par_dpop_and_logout_metadata_are_registered_and_echoed(app):
    """JARM §3, RFC 9126 §6, RFC 9449 §5.2 and the logout specs' client metadata are
    acted on, so registration stores them in their columns, not as display metadata."""
    status, body = await register(app, {
        "redirect_uris": [REDIRECT], "authorization_signed_response_alg": "ES256",
        "require_pushed_authorization_requests": True, "dpop_bound_access_tokens": True,
        "backchannel_logout_uri": "https://rp.example/bc",
        "backchannel_logout_session_required": True,
    })
    assert status == 201, body
    assert body["authorization_signed_response_alg"] == "ES256"
    assert body["require_pushed_authorization_requests"] is True
    assert body["dpop_bound_access_tokens"] is True
    assert body["backchannel_logout_uri"] == "https://rp.example/bc"
    async with services_of(app).db.session() as session:
        row = await session.get(Client, body["client_id"])
    assert row.authorization_signed_response_alg == "ES256"
    assert row.require_pushed_authorization_requests and row.dpop_bound_access_tokens
    assert row.backchannel_logout_session_required and row.extra_metadata.get(
        "backchannel_logout_uri") is None
    for bad in ({"dpop_bound_access_tokens": "yes"},
                {"authorization_signed_response_alg": "HS256"},
                {"authorization_encrypted_response_enc": "A256GCM"}):
        status, body = await register(app, {"redirect_uris": [REDIRECT], **bad})
        assert (status, body["error"]) == (400, "invalid_client_metadata"), bad
