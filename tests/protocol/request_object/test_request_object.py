"""Request objects (OIDC Core §6) by value and by reference, unsigned and signed."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from tests.helpers import REDIRECT, add_client, query_of, services_of


def unsigned(claims: dict) -> str:
    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none'})}.{part(claims)}."


@pytest.fixture
def served():
    """A tiny HTTP server that serves whatever body the test puts in ``served.body``."""

    class Handler(BaseHTTPRequestHandler):
        body = b""

        def do_GET(self):  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "application/oauth-authz-req+jwt")
            self.end_headers()
            self.wfile.write(Handler.body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    Handler.url = f"http://127.0.0.1:{server.server_port}/"
    yield Handler
    server.shutdown()


def _object_claims(rp, **extra):
    params = rp.params()
    claims = {
        k: params[k]
        for k in (
            "client_id",
            "redirect_uri",
            "response_type",
            "scope",
            "code_challenge",
            "code_challenge_method",
            "nonce",
        )
    }
    claims.update(state="from-object", **extra)
    return claims


async def test_an_unsigned_request_object_by_value_supersedes_query_parameters(rp):
    request = unsigned(_object_claims(rp))
    response = await rp.browser.authorize(
        client_id=rp.client_id,
        response_type="code",
        scope="openid",
        state="from-query",
        request=request,
    )
    response = await rp.browser.follow(response)
    query = query_of(response.headers["Location"])
    assert "code" in query and query["state"] == "from-object"


async def test_a_signed_request_object_verifies_with_the_client_jwks(rp):
    key = RSAKey.generate_key(2048, auto_kid=True)
    reg = await add_client(
        services_of(rp.app),
        name="JAR",
        first_party=True,
        jwks={"keys": [key.as_dict(private=False)]},
    )
    rp.client_id = reg.client.id
    claims = _object_claims(rp, iss=reg.client.id, aud="http://127.0.0.1:8000")
    request = jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key)
    response = await rp.browser.follow(
        await rp.browser.authorize(
            client_id=reg.client.id, response_type="code", scope="openid", request=request
        )
    )
    assert "code" in query_of(response.headers["Location"])


async def test_a_request_object_signed_by_another_key_is_refused(rp):
    key = RSAKey.generate_key(2048, auto_kid=True)
    other = RSAKey.generate_key(2048, auto_kid=True)
    reg = await add_client(
        services_of(rp.app),
        name="JAR",
        first_party=True,
        jwks={"keys": [key.as_dict(private=False)]},
    )
    rp.client_id = reg.client.id
    request = jwt.encode({"alg": "RS256"}, _object_claims(rp), other)
    response = await rp.browser.authorize(
        client_id=reg.client.id,
        response_type="code",
        scope="openid",
        redirect_uri=REDIRECT,
        request=request,
    )
    query = query_of(response.headers["Location"])
    assert query["error"] == "invalid_request_object"
    assert query["error_description"] == "The request object signature does not verify."


async def test_a_request_object_for_another_client_is_refused(rp):
    request = unsigned({**_object_claims(rp), "client_id": "someone-else"})
    response = await rp.browser.authorize(
        client_id=rp.client_id,
        response_type="code",
        scope="openid",
        redirect_uri=REDIRECT,
        request=request,
    )
    assert query_of(response.headers["Location"])["error"] == "invalid_request_object"


async def test_request_and_request_uri_together_are_refused(rp):
    response = await rp.browser.authorize(
        **rp.params(request=unsigned(_object_claims(rp)), request_uri="https://x.example/r")
    )
    assert query_of(response.headers["Location"])["error_description"] == (
        "Use either request or request_uri, not both."
    )


async def test_a_request_uri_under_a_registered_prefix_is_fetched(rp, served):
    reg = await add_client(
        services_of(rp.app), name="RU", first_party=True, request_uris=[served.url]
    )
    rp.client_id = reg.client.id
    served.body = unsigned(_object_claims(rp)).encode()
    response = await rp.browser.follow(
        await rp.browser.authorize(
            client_id=reg.client.id,
            response_type="code",
            scope="openid",
            request_uri=served.url + "req-1",
        )
    )
    query = query_of(response.headers["Location"])
    assert "code" in query and query["state"] == "from-object"


async def test_an_unregistered_request_uri_is_refused(rp, served):
    response = await rp.browser.authorize(**rp.params(request_uri=served.url + "req-1"))
    assert query_of(response.headers["Location"])["error"] == "invalid_request_uri"


async def test_a_malformed_request_object_is_refused(rp):
    response = await rp.browser.authorize(**rp.params(request="not-a-jwt"))
    assert query_of(response.headers["Location"])["error"] == "invalid_request_object"
