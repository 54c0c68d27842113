"""Hostile DPoP headers are clean 4xx answers, never 500s."""

from __future__ import annotations

import base64
import json

import pytest
from tests.helpers import REDIRECT


def _b64(value: object) -> str:
    raw = value if isinstance(value, bytes) else json.dumps(value).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


HOSTILE = [
    "a.b.c",
    "..",
    "é.é.é",
    f"{_b64([1, 2])}.{_b64({})}.x",
    f"{_b64({'typ': 'dpop+jwt', 'alg': 'ES256', 'jwk': 'x'})}.{_b64({})}.x",
    f"{_b64({'typ': 'dpop+jwt', 'alg': 'ES256', 'jwk': {'kty': 'EC'}})}.{_b64({})}.x",
    f"{_b64({'typ': 'dpop+jwt', 'alg': 'RS256', 'jwk': {'kty': 'RSA', 'n': '!', 'e': 'AQAB'}})}"
    f".{_b64({})}.x",
    f"{_b64({'typ': 'dpop+jwt', 'alg': 'ES256', 'jwk': {'kty': 'EC', 'crv': 'P-256', 'x': 'AA', 'y': 'AA'}})}"  # noqa: E501
    f".{_b64({'iat': 1e308})}.x",
    "x" * 10000,
    " , , ",
]


@pytest.mark.parametrize("value", HOSTILE)
async def test_a_hostile_proof_is_a_400_at_the_token_endpoint(rp, value):
    response = await rp.token({"grant_type": "authorization_code", "code": "x",
                               "redirect_uri": REDIRECT, "code_verifier": "y"},
                              headers={**rp.basic(), "DPoP": value})
    assert response.status_code == 400
    assert (await response.get_json())["error"] == "invalid_dpop_proof"


@pytest.mark.parametrize("value", HOSTILE[:4])
async def test_a_hostile_proof_is_a_401_at_userinfo(rp, value):
    token = (await rp.tokens())["access_token"]
    response = await rp.app.test_client().get(
        "/userinfo", headers={"Authorization": f"DPoP {token}", "DPoP": value})
    assert response.status_code == 401
    assert (await response.get_json())["error"] == "invalid_dpop_proof"
