"""client_credentials and private_key_jwt."""

from __future__ import annotations

import time
import uuid

from joserfc import jwt
from joserfc.jwk import RSAKey
from tests.helpers import add_client, jwt_claims, services_of


async def test_client_credentials_issues_an_access_token_for_the_client(rp):
    reg = await add_client(
        services_of(rp.app), name="Service", grant_types=["client_credentials"], redirect_uris=[]
    )
    response = await rp.token(
        {"grant_type": "client_credentials"}, headers=rp.basic(reg.client.id, reg.secret)
    )
    body = await response.get_json()
    assert response.status_code == 200, body
    assert "refresh_token" not in body and "id_token" not in body
    assert jwt_claims(body["access_token"])["sub"] == reg.client.id


async def test_clients_without_the_grant_are_unauthorized(rp):
    response = await rp.token({"grant_type": "client_credentials"})
    assert (await response.get_json())["error"] == "unauthorized_client"


def _assertion(key, client_id, aud, jti=None):
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": aud,
        "iat": now,
        "exp": now + 60,
        "jti": jti or str(uuid.uuid4()),
    }
    return jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)


async def test_private_key_jwt_authenticates_once_per_assertion(rp):
    key = RSAKey.generate_key(2048, auto_kid=True)
    reg = await add_client(
        services_of(rp.app),
        name="PKJ",
        auth_method="private_key_jwt",
        grant_types=["client_credentials"],
        redirect_uris=[],
        jwks={"keys": [key.as_dict(private=False)]},
    )
    assertion = _assertion(key, reg.client.id, "http://127.0.0.1:8000/token")
    form = {
        "grant_type": "client_credentials",
        "client_assertion": assertion,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    }
    first = await rp.token(form, headers={})
    assert first.status_code == 200, await first.get_json()
    replay = await rp.token(form, headers={})
    assert (await replay.get_json())["error"] == "invalid_client"


async def test_private_key_jwt_with_a_foreign_key_is_refused(rp):
    key = RSAKey.generate_key(2048, auto_kid=True)
    other = RSAKey.generate_key(2048, auto_kid=True)
    reg = await add_client(
        services_of(rp.app),
        name="PKJ",
        auth_method="private_key_jwt",
        grant_types=["client_credentials"],
        redirect_uris=[],
        jwks={"keys": [key.as_dict(private=False)]},
    )
    form = {
        "grant_type": "client_credentials",
        "client_assertion": _assertion(other, reg.client.id, "http://127.0.0.1:8000/token"),
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
    }
    response = await rp.token(form, headers={})
    assert (await response.get_json())["error"] == "invalid_client"
