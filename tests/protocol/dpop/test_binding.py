"""Binding codes and refresh tokens to a DPoP key: ``dpop_jkt`` at /authorize (RFC 9449
§10) and refresh tokens of public clients (§5)."""

from __future__ import annotations

from sqlalchemy import select
from tests.helpers import REDIRECT, add_client, jwt_claims, query_of, services_of
from tests.protocol.dpop.conftest import DpopKey

from portico.storage.models import RefreshToken


def _form(rp, code: str) -> dict[str, str]:
    return {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "code_verifier": rp.verifier}


async def test_a_malformed_dpop_jkt_is_an_error_sent_to_the_client(rp):
    response = await rp.browser.authorize(**rp.params(dpop_jkt="not-a-thumbprint"))
    query = query_of(response.headers["Location"])
    assert query["error"] == "invalid_request"
    assert query["error_description"] == (
        "The dpop_jkt must be a base64url JWK SHA-256 thumbprint.")


async def test_a_code_bound_by_dpop_jkt_needs_a_proof_of_that_key(rp, dpop_key):
    for proof, error in ((None, "This code is bound to a DPoP key; send a DPoP proof."),
                         (DpopKey().proof(), "The DPoP proof key does not match dpop_jkt.")):
        code = await rp.code(dpop_jkt=dpop_key.jkt)
        headers = rp.basic() if proof is None else {**rp.basic(), "DPoP": proof}
        response = await rp.token(_form(rp, code), headers=headers)
        assert await response.get_json() == {"error": "invalid_grant", "error_description": error}
    code = await rp.code(dpop_jkt=dpop_key.jkt)
    response = await rp.token(_form(rp, code), headers={**rp.basic(), "DPoP": dpop_key.proof()})
    assert (await response.get_json())["token_type"] == "DPoP"


async def _public_rp(rp):
    reg = await add_client(services_of(rp.app), name="SPA", auth_method="none", first_party=True)
    rp.client_id, rp.secret = reg.client.id, None
    return {"client_id": reg.client.id}


async def test_a_public_clients_refresh_token_is_bound_to_its_key(rp, dpop_key):
    form = await _public_rp(rp)
    code = await rp.code(scope="openid offline_access")
    first = await (await rp.token({**_form(rp, code), **form},
                                  headers={"DPoP": dpop_key.proof()})).get_json()
    assert first["token_type"] == "DPoP" and "refresh_token" in first
    refresh = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"], **form}
    for headers, error in (({}, "This refresh token is DPoP-bound; send a DPoP proof."),
                           ({"DPoP": DpopKey().proof()},
                            "The DPoP proof key does not match the refresh token.")):
        response = await rp.token(refresh, headers=headers)
        assert await response.get_json() == {"error": "invalid_grant", "error_description": error}
    # Refused before rotation: the refresh token is still good with the right key.
    response = await rp.token(refresh, headers={"DPoP": dpop_key.proof()})
    body = await response.get_json()
    assert response.status_code == 200, body
    assert jwt_claims(body["access_token"])["cnf"] == {"jkt": dpop_key.jkt}
    async with services_of(rp.app).db.session() as session:
        rows = (await session.execute(select(RefreshToken))).scalars().all()
    assert {r.cnf_jkt for r in rows} == {dpop_key.jkt} and len(rows) == 2


async def test_a_confidential_client_may_change_keys_at_refresh(rp, dpop_key):
    code = await rp.code(scope="openid offline_access")
    first = await (await rp.token(_form(rp, code),
                                  headers={**rp.basic(), "DPoP": dpop_key.proof()})).get_json()
    new_key = DpopKey()
    response = await rp.token({"grant_type": "refresh_token",
                               "refresh_token": first["refresh_token"]},
                              headers={**rp.basic(), "DPoP": new_key.proof()})
    body = await response.get_json()
    assert response.status_code == 200, body
    assert jwt_claims(body["access_token"])["cnf"] == {"jkt": new_key.jkt}
    async with services_of(rp.app).db.session() as session:
        rows = (await session.execute(select(RefreshToken))).scalars().all()
    assert {r.cnf_jkt for r in rows} == {None}
