"""Token exchange (RFC 8693) under Portico's policy: opt-in per deployment and client,
delegation with ``act``, impersonation only for listed clients, scope never widened,
resources checked, access tokens only, exact errors."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from sqlalchemy import select
from tests.helpers import add_client, jwt_claims, services_of

from portico.clients import TOKEN_EXCHANGE
from portico.storage.models import AuditEvent

ACCESS = "urn:ietf:params:oauth:token-type:access_token"
ID_TOKEN = "urn:ietf:params:oauth:token-type:id_token"
API = "https://api.example.com/orders"


@pytest.fixture
def overrides() -> dict:
    return {"token_exchange": True, "resources": ["https://api.example.com/"],
            "token_exchange_impersonation_clients": ["impersonator"]}


@pytest.fixture
async def gateway(rp):
    """A confidential client allowed to exchange; alice's tokens issued to it."""
    reg = await add_client(
        services_of(rp.app), name="Gateway", first_party=True,
        grant_types=["authorization_code", "refresh_token", "client_credentials",
                     TOKEN_EXCHANGE])
    rp.client_id, rp.secret = reg.client.id, reg.secret
    return rp


async def _exchange(rp, fields: list[tuple[str, str]], client: tuple[str, str] | None = None):
    headers = rp.basic(*client) if client else rp.basic()
    return await rp.app.test_client().post(
        "/token", data=urlencode([("grant_type", TOKEN_EXCHANGE), *fields]),
        headers={**headers, "Content-Type": "application/x-www-form-urlencoded"})


async def _actor_token(rp) -> str:
    response = await rp.token({"grant_type": "client_credentials"})
    return (await response.get_json())["access_token"]


async def test_delegation_gives_a_narrower_token_with_an_act_claim(gateway):
    rp = gateway
    user = await rp.tokens(scope="openid email offline_access")
    actor = await _actor_token(rp)
    response = await _exchange(rp, [
        ("subject_token", user["access_token"]), ("subject_token_type", ACCESS),
        ("actor_token", actor), ("actor_token_type", ACCESS),
        ("scope", "openid email"), ("resource", API)])
    body = await response.get_json()
    assert response.status_code == 200, body
    assert body["issued_token_type"] == ACCESS
    assert body["token_type"] == "Bearer" and body["scope"] == "openid email"
    assert "refresh_token" not in body
    claims = jwt_claims(body["access_token"])
    assert claims["sub"] == jwt_claims(user["access_token"])["sub"]
    assert claims["aud"] == API
    assert claims["act"] == {"sub": rp.client_id, "client_id": rp.client_id}
    info = await (await rp.app.test_client().post(
        "/introspect", form={"token": body["access_token"]}, headers=rp.basic())).get_json()
    assert info["active"] is True and info["act"]["sub"] == rp.client_id and info["aud"] == API
    async with services_of(rp.app).db.session() as session:
        event = (await session.execute(
            select(AuditEvent).where(AuditEvent.action == "token.exchanged"))).scalar_one()
    assert event.details["impersonation"] is False and event.details["audience"] == [API]
    assert user["access_token"] not in str(event.details) + str(event.target)

    # Revoking the subject's grant (its refresh family) revokes the exchanged token too.
    await rp.app.test_client().post(
        "/revoke", form={"token": user["refresh_token"]}, headers=rp.basic())
    info = await (await rp.app.test_client().post(
        "/introspect", form={"token": body["access_token"]}, headers=rp.basic())).get_json()
    assert info == {"active": False}


async def test_a_delegated_token_can_be_delegated_again_keeping_the_chain(gateway):
    rp = gateway
    user = await rp.tokens()
    actor = await _actor_token(rp)
    first = await (await _exchange(rp, [
        ("subject_token", user["access_token"]), ("subject_token_type", ACCESS),
        ("actor_token", actor), ("actor_token_type", ACCESS)])).get_json()
    second = await (await _exchange(rp, [
        ("subject_token", first["access_token"]), ("subject_token_type", ACCESS),
        ("actor_token", actor), ("actor_token_type", ACCESS)])).get_json()
    act = jwt_claims(second["access_token"])["act"]
    assert act["act"] == {"sub": rp.client_id, "client_id": rp.client_id}


async def test_impersonation_is_only_for_listed_clients(gateway):
    rp = gateway
    user = await rp.tokens()
    form = [("subject_token", user["access_token"]), ("subject_token_type", ACCESS)]
    response = await _exchange(rp, form)
    assert await response.get_json() == {
        "error": "unauthorized_client",
        "error_description": "The client may not impersonate; send an actor_token to act on "
                             "behalf."}
    reg = await add_client(services_of(rp.app), name="Impersonator", client_id="impersonator",
                           first_party=True,
                           grant_types=["authorization_code", TOKEN_EXCHANGE])
    rp.client_id, rp.secret = reg.client.id, reg.secret
    own = await rp.tokens()
    body = await (await _exchange(rp, [("subject_token", own["access_token"]),
                                       ("subject_token_type", ACCESS)])).get_json()
    assert body["issued_token_type"] == ACCESS and "act" not in jwt_claims(body["access_token"])


async def test_an_id_token_can_be_the_subject(gateway):
    rp = gateway
    user = await rp.tokens()
    actor = await _actor_token(rp)
    body = await (await _exchange(rp, [
        ("subject_token", user["id_token"]), ("subject_token_type", ID_TOKEN),
        ("actor_token", actor), ("actor_token_type", ACCESS)])).get_json()
    assert body["scope"] == "openid"
    assert jwt_claims(body["access_token"])["sub"] == jwt_claims(user["id_token"])["sub"]


ERRORS = {
    "scope widened": ([("scope", "openid email")], "invalid_scope",
                      "The scope exceeds the subject_token's."),
    "refresh token asked": ([("requested_token_type",
                              "urn:ietf:params:oauth:token-type:refresh_token")],
                            "invalid_request", "Token exchange issues access tokens only."),
    "unknown resource": ([("resource", "https://elsewhere.example/")], "invalid_target",
                         "The requested resource is not known to this server."),
    "unknown audience": ([("audience", "billing")], "invalid_target",
                         "The resource must be an absolute URI without a fragment."),
    "actor type alone": ([("actor_token_type", ACCESS)], "invalid_request",
                         "Send actor_token and actor_token_type together."),
}


@pytest.mark.parametrize("case", sorted(ERRORS))
async def test_bad_requests_get_the_rfc_error(gateway, case):
    rp = gateway
    user = await rp.tokens(scope="openid")
    actor = await _actor_token(rp)
    extra, error, description = ERRORS[case]
    form = [("subject_token", user["access_token"]), ("subject_token_type", ACCESS), *extra]
    if case != "actor type alone":
        form += [("actor_token", actor), ("actor_token_type", ACCESS)]
    response = await _exchange(rp, form)
    assert response.status_code == 400
    assert await response.get_json() == {"error": error, "error_description": description}


async def test_a_revoked_or_foreign_subject_token_is_invalid_request(gateway):
    rp = gateway
    user = await rp.tokens()
    actor = await _actor_token(rp)
    await rp.app.test_client().post("/revoke", form={"token": user["access_token"]},
                                    headers=rp.basic())
    response = await _exchange(rp, [
        ("subject_token", user["access_token"]), ("subject_token_type", ACCESS),
        ("actor_token", actor), ("actor_token_type", ACCESS)])
    # RFC 8693 §2.2.2: an invalid subject_token is invalid_request.
    assert await response.get_json() == {
        "error": "invalid_request", "error_description": "The subject_token is expired or revoked."}

    other = await add_client(services_of(rp.app), name="Other", first_party=True,
                             grant_types=["client_credentials", TOKEN_EXCHANGE],
                             redirect_uris=[])
    fresh = await rp.tokens()
    response = await _exchange(rp, [
        ("subject_token", fresh["access_token"]), ("subject_token_type", ACCESS)],
        client=(other.client.id, other.secret))
    assert await response.get_json() == {
        "error": "invalid_request",
        "error_description": "The subject_token was not issued to this client."}


async def test_clients_without_the_grant_are_unauthorized(rp):
    user = await rp.tokens()
    response = await _exchange(rp, [("subject_token", user["access_token"]),
                                    ("subject_token_type", ACCESS)])
    assert await response.get_json() == {
        "error": "unauthorized_client",
        "error_description": "The client may not use token exchange."}
