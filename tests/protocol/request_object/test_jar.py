"""RFC 9101 (JAR) on top of OIDC Core §6: explicit typing, nbf, and clients (or the whole
instance) that require signed request objects, where only the object counts."""

from __future__ import annotations

import time
from urllib.parse import urlencode

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from tests.helpers import REDIRECT, add_client, query_of, services_of
from tests.protocol.request_object.test_request_object import _object_claims, unsigned

from portico.crypto.tokens import lookup_hash
from portico.storage.repositories.grants import Codes

ISSUER = "http://127.0.0.1:8000"


@pytest.fixture
async def jar(rp):
    """rp switched to a first-party client with a registered signing key."""
    key = RSAKey.generate_key(2048, auto_kid=True)
    reg = await add_client(services_of(rp.app), name="JAR", first_party=True,
                           jwks={"keys": [key.as_dict(private=False)]})
    rp.client_id, rp.secret = reg.client.id, reg.secret
    rp.key = key
    return rp


def signed(rp, header: dict | None = None, **claims) -> str:
    body = _object_claims(rp, iss=rp.client_id, aud=ISSUER, **claims)
    return jwt.encode({"alg": "RS256", "kid": rp.key.kid, **(header or {})}, body, rp.key)


async def _send(rp, **params):
    return await rp.app.test_client().get("/authorize?" + urlencode(params))


@pytest.mark.parametrize("typ", ["oauth-authz-req+jwt", "application/oauth-authz-req+jwt", "JWT"])
async def test_explicitly_typed_request_objects_are_accepted(jar, typ):
    response = await jar.browser.follow(await jar.browser.authorize(
        client_id=jar.client_id, response_type="code", scope="openid",
        request=signed(jar, {"typ": typ})))
    assert "code" in query_of(response.headers["Location"])


async def test_another_kind_of_jwt_is_not_a_request_object(jar):
    response = await _send(jar, client_id=jar.client_id, response_type="code", scope="openid",
                           redirect_uri=REDIRECT, request=signed(jar, {"typ": "at+jwt"}))
    got = query_of(response.headers["Location"])
    assert (got["error"], got["error_description"]) == (
        "invalid_request_object", "The request object typ must be oauth-authz-req+jwt.")


async def test_a_request_object_not_valid_yet_is_refused(jar):
    response = await _send(jar, client_id=jar.client_id, response_type="code", scope="openid",
                           redirect_uri=REDIRECT, request=signed(jar, nbf=int(time.time()) + 600))
    got = query_of(response.headers["Location"])
    assert (got["error"], got["error_description"]) == (
        "invalid_request_object", "The request object is not valid yet.")


async def test_iss_must_be_the_client_when_signed(jar):
    token = jwt.encode({"alg": "RS256", "kid": jar.key.kid},
                       _object_claims(jar, iss="someone", aud=ISSUER), jar.key)
    response = await _send(jar, client_id=jar.client_id, response_type="code", scope="openid",
                           redirect_uri=REDIRECT, request=token)
    assert query_of(response.headers["Location"])["error_description"] == (
        "The request object iss must be the client_id.")


@pytest.fixture
async def strict(jar):
    """A client that registered require_signed_request_object (RFC 9101 §10.5)."""
    reg = await add_client(
        services_of(jar.app), name="Strict JAR", first_party=True,
        jwks={"keys": [jar.key.as_dict(private=False)]},
        metadata={"extra_metadata": {"require_signed_request_object": True}})
    jar.client_id = reg.client.id
    return jar


async def test_a_strict_client_must_send_a_request_object(strict):
    response = await _send(strict, **strict.params())
    got = query_of(response.headers["Location"])
    assert (got["error"], got["error_description"]) == (
        "invalid_request", "This request must be sent as a signed request object.")


async def test_a_strict_client_must_sign_it(strict):
    response = await _send(strict, client_id=strict.client_id, response_type="code",
                           scope="openid", redirect_uri=REDIRECT,
                           request=unsigned(_object_claims(strict)))
    got = query_of(response.headers["Location"])
    assert (got["error"], got["error_description"]) == (
        "invalid_request_object", "The request object must be signed.")


async def test_for_a_strict_client_only_the_objects_parameters_count(strict):
    # RFC 9101 §5: scope, state and nonce below differ or exist only in the query.
    claims = _object_claims(strict, iss=strict.client_id, aud=ISSUER)
    del claims["nonce"]
    token = jwt.encode({"alg": "RS256", "kid": strict.key.kid}, claims, strict.key)
    response = await strict.browser.follow(await strict.browser.authorize(
        client_id=strict.client_id, response_type="code", scope="openid email",
        nonce="query-nonce", state="from-query", request=token))
    got = query_of(response.headers["Location"])
    assert got["state"] == "from-object"
    async with services_of(strict.app).db.session() as session:
        row = (await Codes(session).consume(lookup_hash(got["code"]))).row
    assert row is not None and row.nonce is None and row.scope == "openid"
