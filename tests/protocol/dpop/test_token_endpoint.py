"""DPoP at the token endpoint (RFC 9449 §5): proofs checked per §4.3, access tokens
bound to the proof key (``cnf.jkt``, ``token_type: DPoP``), replay refused."""

from __future__ import annotations

import base64
import json
import time

import pytest
from joserfc import jwt
from joserfc.jwk import OctKey
from sqlalchemy import select
from tests.helpers import REDIRECT, add_client, jwt_claims, services_of
from tests.protocol.dpop.conftest import TOKEN_URL, DpopKey

from portico.storage.models import AccessToken, DpopProof


def _code_form(rp, code: str) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": rp.verifier,
    }


async def _exchange(rp, proof: str | list[str] | None, **overrides: str):
    code = await rp.code(**overrides)
    headers = rp.basic()
    if isinstance(proof, list):
        return await rp.app.test_client().post(
            "/token", form=_code_form(rp, code), headers=[*headers.items(),
                                                          *(("DPoP", p) for p in proof)])
    if proof is not None:
        headers["DPoP"] = proof
    return await rp.token(_code_form(rp, code), headers=headers)


async def test_a_proof_binds_the_access_token_to_its_key(rp, dpop_key):
    response = await _exchange(rp, dpop_key.proof())
    body = await response.get_json()
    assert response.status_code == 200, body
    assert body["token_type"] == "DPoP"
    assert jwt_claims(body["access_token"])["cnf"] == {"jkt": dpop_key.jkt}
    async with services_of(rp.app).db.session() as session:
        rows = (await session.execute(select(AccessToken))).scalars().all()
        assert [r.cnf_jkt for r in rows] == [dpop_key.jkt]
        assert len((await session.execute(select(DpopProof))).scalars().all()) == 1
    # RFC 9449 §6.2: introspection tells the resource server the binding.
    info = await (await rp.app.test_client().post(
        "/introspect", form={"token": body["access_token"]}, headers=rp.basic())).get_json()
    assert info["active"] is True
    assert info["token_type"] == "DPoP" and info["cnf"] == {"jkt": dpop_key.jkt}


async def test_without_a_proof_the_token_stays_a_bearer_token(rp):
    body = await (await _exchange(rp, None)).get_json()
    assert body["token_type"] == "Bearer"
    assert "cnf" not in jwt_claims(body["access_token"])


async def test_a_replayed_proof_is_refused(rp, dpop_key):
    proof = dpop_key.proof()
    assert (await _exchange(rp, proof)).status_code == 200
    response = await _exchange(rp, proof)
    assert response.status_code == 400
    assert await response.get_json() == {
        "error": "invalid_dpop_proof", "error_description": "The DPoP proof was already used."}


def _symmetric_proof() -> str:
    key = OctKey.generate_key(256)
    claims = {"jti": "x", "htm": "POST", "htu": TOKEN_URL, "iat": int(time.time())}
    return jwt.encode({"typ": "dpop+jwt", "alg": "HS256", "jwk": key.as_dict()}, claims, key)


def _unsigned(key: DpopKey) -> str:
    head, body, _ = key.proof().split(".")
    none = {"typ": "dpop+jwt", "alg": "none", "jwk": key.key.as_dict(private=False)}
    encoded = base64.urlsafe_b64encode(json.dumps(none).encode()).rstrip(b"=").decode()
    return f"{encoded}.{body}."


def _private_jwk_proof(key: DpopKey) -> str:
    return key.proof(header={"jwk": key.key.as_dict(private=True)})


def _foreign_signature(key: DpopKey) -> str:
    other = DpopKey()
    head, body, _ = key.proof().split(".")
    return ".".join([head, body, other.proof().split(".")[2]])


BAD_PROOFS = {
    "typ": (lambda k: k.proof(header={"typ": "JWT"}), "The DPoP proof typ must be dpop+jwt."),
    "alg none": (lambda k: _unsigned(k), "The DPoP proof alg is not supported."),
    "symmetric": (lambda k: _symmetric_proof(), "The DPoP proof alg is not supported."),
    "private jwk": (_private_jwk_proof, "The DPoP proof jwk must be a public key."),
    "signature": (_foreign_signature, "The DPoP proof signature does not verify."),
    "htm": (lambda k: k.proof(htm="GET"), "The DPoP proof htm does not match the request method."),
    "htu": (lambda k: k.proof(htu="http://127.0.0.1:8000/userinfo"),
            "The DPoP proof htu does not match the request URI."),
    "other host": (lambda k: k.proof(htu="http://evil.example/token"),
                   "The DPoP proof htu does not match the request URI."),
    "old": (lambda k: k.proof(iat=time.time() - 600),
            "The DPoP proof iat is outside the acceptable window."),
    "future": (lambda k: k.proof(iat=time.time() + 600),
               "The DPoP proof iat is outside the acceptable window."),
    "no jti": (lambda k: k.proof(drop=("jti",)), "The DPoP proof needs a jti."),
    "not a jwt": (lambda k: "not-a-jwt", "The DPoP proof is not a JWT."),
}


@pytest.mark.parametrize("case", sorted(BAD_PROOFS))
async def test_a_bad_proof_is_invalid_dpop_proof_and_keeps_the_code(rp, dpop_key, case):
    make, description = BAD_PROOFS[case]
    code = await rp.code()
    headers = {**rp.basic(), "DPoP": make(dpop_key)}
    response = await rp.token(_code_form(rp, code), headers=headers)
    assert response.status_code == 400
    assert await response.get_json() == {
        "error": "invalid_dpop_proof", "error_description": description}
    # The proof is checked before the code is consumed: a corrected retry still works.
    retry = await rp.token(_code_form(rp, code), headers={**rp.basic(), "DPoP": dpop_key.proof()})
    assert retry.status_code == 200


async def test_two_dpop_headers_are_refused(rp, dpop_key):
    response = await _exchange(rp, [dpop_key.proof(), dpop_key.proof()])
    assert (await response.get_json())["error_description"] == "Send exactly one DPoP header."


async def test_htu_is_compared_after_normalisation(rp, dpop_key):
    # RFC 9449 §4.3 / RFC 3986 §6.2.2-6.2.3: case, query and fragment do not matter.
    proof = dpop_key.proof(htu="HTTP://127.0.0.1:8000/./token?x=1#frag")
    assert (await _exchange(rp, proof)).status_code == 200


async def test_an_rsa_pss_key_works_too(rp):
    key = DpopKey("RSA")
    body = await (await _exchange(rp, key.proof())).get_json()
    assert jwt_claims(body["access_token"])["cnf"] == {"jkt": key.jkt}


async def test_client_credentials_tokens_are_bound_too(rp, dpop_key):
    reg = await add_client(services_of(rp.app), name="Service",
                           grant_types=["client_credentials"], redirect_uris=[])
    response = await rp.token({"grant_type": "client_credentials"},
                              headers={**rp.basic(reg.client.id, reg.secret),
                                       "DPoP": dpop_key.proof()})
    body = await response.get_json()
    assert body["token_type"] == "DPoP"
    assert jwt_claims(body["access_token"])["cnf"]["jkt"] == dpop_key.jkt


async def test_a_client_registered_for_dpop_must_send_a_proof(rp, dpop_key):
    reg = await add_client(services_of(rp.app), name="DPoP only", first_party=True,
                           metadata={"dpop_bound_access_tokens": True})
    rp.client_id, rp.secret = reg.client.id, reg.secret
    response = await _exchange(rp, None)
    assert response.status_code == 400
    assert await response.get_json() == {
        "error": "invalid_dpop_proof", "error_description": "This client must send a DPoP proof."}
    assert (await _exchange(rp, dpop_key.proof())).status_code == 200
