"""Pushed authorization requests (RFC 9126): client authentication as at the token
endpoint, the /authorize checks, a single-use request_uri, and requiring PAR."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey
from sqlalchemy import select, update
from tests.helpers import REDIRECT, add_client, pkce, query_of, services_of
from tests.protocol.conftest import RP

from portico.crypto.tokens import lookup_hash
from portico.storage import maintenance
from portico.storage.models import PushedAuthorizationRequest
from portico.storage.models.base import utcnow
from portico.storage.repositories.pushed import PushedRequests

PREFIX = "urn:ietf:params:oauth:request_uri:"


async def push(rp: RP, form: dict[str, str], headers: dict[str, str] | None = None):
    response = await rp.app.test_client().post(
        "/par", form=form, headers=rp.basic() if headers is None else headers
    )
    return response, await response.get_json()


async def authorize(rp: RP, **params: str):
    return await rp.app.test_client().get("/authorize?" + urlencode(params))


async def test_a_pushed_request_is_answered_201_and_completes_the_code_flow(rp):
    params = rp.params(state="pushed-state")
    response, body = await push(rp, params)
    assert response.status_code == 201, body
    assert response.headers["Cache-Control"] == "no-store"
    assert set(body) == {"request_uri", "expires_in"} and body["expires_in"] == 90
    assert body["request_uri"].startswith(PREFIX) and len(body["request_uri"]) > len(PREFIX) + 40
    # Only client_id and request_uri travel through the browser; nothing else counts.
    done = await rp.browser.follow(await rp.browser.authorize(
        client_id=rp.client_id, request_uri=body["request_uri"], state="from-the-query"))
    got = query_of(done.headers["Location"])
    assert done.headers["Location"].startswith(REDIRECT + "?")
    assert got["state"] == "pushed-state" and "code" in got
    token = await rp.token({"grant_type": "authorization_code", "code": got["code"],
                            "redirect_uri": REDIRECT, "code_verifier": rp.verifier})
    assert token.status_code == 200, await token.get_json()


async def test_a_request_uri_works_once(rp):
    _, body = await push(rp, rp.params())
    first = await rp.browser.follow(await rp.browser.authorize(
        client_id=rp.client_id, request_uri=body["request_uri"]))
    assert "code" in query_of(first.headers["Location"])
    again = await authorize(rp, client_id=rp.client_id, request_uri=body["request_uri"])
    assert again.status_code == 400 and "Location" not in again.headers
    assert "The request_uri is unknown, expired or was already used." in (
        await again.get_data(as_text=True))


async def test_a_request_uri_is_only_for_the_client_that_pushed_it(rp):
    _, body = await push(rp, rp.params())
    other = await add_client(services_of(rp.app), name="Other")
    response = await authorize(rp, client_id=other.client.id, request_uri=body["request_uri"])
    assert response.status_code == 400 and "Location" not in response.headers
    # …and the attempt did not burn it for its owner.
    mine = await rp.browser.follow(await rp.browser.authorize(
        client_id=rp.client_id, request_uri=body["request_uri"]))
    assert "code" in query_of(mine.headers["Location"])


async def test_an_expired_request_uri_is_refused(rp):
    _, body = await push(rp, rp.params())
    async with services_of(rp.app).db.session() as session:
        await session.execute(update(PushedAuthorizationRequest).values(
            expires_at=utcnow() - timedelta(seconds=1)))
    response = await authorize(rp, client_id=rp.client_id, request_uri=body["request_uri"])
    assert response.status_code == 400
    assert "The request_uri is unknown, expired or was already used." in (
        await response.get_data(as_text=True))


async def test_only_the_hash_is_stored_and_no_client_secret(rp):
    reg = await add_client(services_of(rp.app), name="Post",
                           auth_method="client_secret_post")
    assert reg.secret
    response, body = await push(rp, dict(rp.params(), client_id=reg.client.id,
                                         client_secret=reg.secret), headers={})
    assert response.status_code == 201, body
    async with services_of(rp.app).db.session() as session:
        row = (await session.execute(select(PushedAuthorizationRequest))).scalar_one()
    assert row.ref_hash == lookup_hash(body["request_uri"])
    stored = json.dumps(row.params)
    assert body["request_uri"] not in stored and reg.secret not in stored
    assert "client_secret" not in row.params["params"]


async def test_two_browsers_racing_on_one_request_uri_only_one_wins(rp):
    _, body = await push(rp, rp.params())
    db = services_of(rp.app).db

    async def take():
        async with db.session() as session:
            return await PushedRequests(session).consume(
                lookup_hash(body["request_uri"]), rp.client_id)

    results = await asyncio.gather(*(take() for _ in range(5)))
    assert sum(r is not None for r in results) == 1


async def test_client_authentication_is_the_token_endpoints(rp):
    response, body = await push(rp, rp.params(), headers=rp.basic(secret="wrong"))
    assert response.status_code == 401 and body["error"] == "invalid_client"
    response, body = await push(rp, rp.params(), headers={})
    assert response.status_code == 401 and body["error"] == "invalid_client"


@pytest.mark.parametrize(
    ("change", "description"),
    [
        ({"redirect_uri": "https://evil.example/cb"},
         "The redirect_uri is not registered for this client."),
        ({"request_uri": "https://x.example/r"}, "The request_uri parameter cannot be pushed."),
        ({"client_id": "someone-else"},
         "The client_id does not match the authenticated client."),
        ({"code_challenge_method": "plain"}, "The code_challenge_method must be S256."),
        ({"response_type": None}, "The response_type parameter is missing."),
    ],
)
async def test_pushed_requests_get_the_authorize_checks_as_json_errors(rp, change, description):
    params = {k: v for k, v in {**rp.params(), **change}.items() if v is not None}
    response, body = await push(rp, params)
    assert response.status_code == 400
    assert body == {"error": "invalid_request", "error_description": description}


async def test_unsupported_scope_is_invalid_scope_at_par(rp):
    response, body = await push(rp, rp.params(scope="nonsense"))
    assert response.status_code == 400 and body["error"] == "invalid_scope"


async def test_a_public_client_pushes_with_its_client_id_and_still_needs_pkce(rp):
    reg = await add_client(services_of(rp.app), name="SPA", auth_method="none")
    params = rp.params(client_id=reg.client.id)
    response, body = await push(rp, params, headers={})
    assert response.status_code == 201, body
    params.pop("code_challenge")
    params.pop("code_challenge_method")
    response, body = await push(rp, params, headers={})
    assert response.status_code == 400
    assert body["error_description"] == "Public clients must use PKCE with S256."


async def test_private_key_jwt_accepts_the_par_endpoint_as_audience(rp):
    key = RSAKey.generate_key(2048, auto_kid=True)
    reg = await add_client(services_of(rp.app), name="PKJ", auth_method="private_key_jwt",
                           jwks={"keys": [key.as_dict(private=False)]})
    now = int(time.time())
    assertion = jwt.encode({"alg": "RS256", "kid": key.kid}, {
        "iss": reg.client.id, "sub": reg.client.id, "aud": "http://127.0.0.1:8000/par",
        "jti": "par-1", "iat": now, "exp": now + 60}, key)
    form = dict(rp.params(client_id=reg.client.id), client_assertion=assertion,
                client_assertion_type="urn:ietf:params:oauth:client-assertion-type:jwt-bearer")
    response, body = await push(rp, form, headers={})
    assert response.status_code == 201, body
    # RFC 7523 §3: the assertion's jti is single use here too.
    response, body = await push(rp, form, headers={})
    assert response.status_code in (400, 401) and body["error"] == "invalid_client", body


async def test_a_signed_request_object_can_be_pushed_but_not_an_unsigned_one(rp):
    key = RSAKey.generate_key(2048, auto_kid=True)
    reg = await add_client(services_of(rp.app), name="JAR", first_party=True,
                           jwks={"keys": [key.as_dict(private=False)]})
    rp.client_id = reg.client.id
    claims = dict(rp.params(), iss=reg.client.id, aud="http://127.0.0.1:8000",
                  state="in-object")
    signed = jwt.encode({"alg": "RS256", "kid": key.kid, "typ": "oauth-authz-req+jwt"},
                        claims, key)
    response, body = await push(rp, {"client_id": reg.client.id, "request": signed},
                                headers=rp.basic(reg.client.id, reg.secret))
    assert response.status_code == 201, body
    done = await rp.browser.follow(await rp.browser.authorize(
        client_id=reg.client.id, request_uri=body["request_uri"]))
    assert query_of(done.headers["Location"])["state"] == "in-object"

    def part(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    unsigned = f"{part({'alg': 'none'})}.{part(claims)}."
    response, body = await push(rp, {"client_id": reg.client.id, "request": unsigned},
                                headers=rp.basic(reg.client.id, reg.secret))
    assert response.status_code == 400
    assert body == {"error": "invalid_request_object",
                    "error_description": "The request object must be signed."}


async def test_a_client_required_to_push_cannot_skip_par(rp):
    async with services_of(rp.app).db.session() as session:
        from portico.storage.models import Client

        await session.execute(update(Client).where(Client.id == rp.client_id).values(
            require_pushed_authorization_requests=True))
    response = await authorize(rp, **rp.params())
    got = query_of(response.headers["Location"])
    assert (got["error"], got["error_description"]) == (
        "invalid_request", "This client must push its authorization requests to /par first.")
    _, body = await push(rp, rp.params())
    done = await rp.browser.follow(await rp.browser.authorize(
        client_id=rp.client_id, request_uri=body["request_uri"]))
    assert "code" in query_of(done.headers["Location"])


async def test_used_and_expired_pushed_requests_are_purged(rp):
    _, used = await push(rp, rp.params())
    await push(rp, rp.params())
    _, live = await push(rp, rp.params())
    await rp.browser.follow(await rp.browser.authorize(
        client_id=rp.client_id, request_uri=used["request_uri"]))
    db = services_of(rp.app).db
    async with db.session() as session:
        await session.execute(update(PushedAuthorizationRequest).where(
            PushedAuthorizationRequest.ref_hash.not_in(
                [lookup_hash(used["request_uri"]), lookup_hash(live["request_uri"])])
        ).values(expires_at=utcnow() - timedelta(seconds=1)))
    counts = await maintenance.purge(db)
    assert counts["pushed_authorization_requests"] == 2
    async with db.session() as session:
        left = (await session.execute(select(PushedAuthorizationRequest.ref_hash))).scalars()
        assert list(left) == [lookup_hash(live["request_uri"])]


async def test_pkce_pair_is_checked_at_the_token_endpoint_after_par(rp):
    verifier, challenge = pkce()
    _, body = await push(rp, rp.params(code_challenge=challenge))
    done = await rp.browser.follow(await rp.browser.authorize(
        client_id=rp.client_id, request_uri=body["request_uri"]))
    code = query_of(done.headers["Location"])["code"]
    wrong = await rp.token({"grant_type": "authorization_code", "code": code,
                            "redirect_uri": REDIRECT, "code_verifier": rp.verifier})
    assert wrong.status_code == 400 and (await wrong.get_json())["error"] == "invalid_grant"
    assert verifier


async def test_a_dpop_proof_at_par_binds_the_code_to_its_key(rp):
    """RFC 9449 §10.1: the proof sent with the pushed request acts as ``dpop_jkt``."""
    from tests.protocol.dpop.conftest import DpopKey

    key = DpopKey()
    par_url = "http://127.0.0.1:8000/par"

    async def bound_code() -> str:
        response, body = await push(rp, rp.params(), {**rp.basic(), "DPoP": key.proof(par_url)})
        assert response.status_code == 201, body
        done = await rp.browser.follow(await rp.browser.authorize(
            client_id=rp.client_id, request_uri=body["request_uri"]))
        return query_of(done.headers["Location"])["code"]

    def form(code: str) -> dict[str, str]:
        return {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
                "code_verifier": rp.verifier}

    unbound = await rp.token(form(await bound_code()))
    assert (await unbound.get_json())["error"] == "invalid_grant"
    bound = await rp.token(form(await bound_code()), {**rp.basic(), "DPoP": key.proof()})
    assert bound.status_code == 200 and (await bound.get_json())["token_type"] == "DPoP"
    # A different dpop_jkt next to the proof is refused, and so is a replayed proof.
    proof = key.proof(par_url)
    mismatch, body = await push(rp, rp.params(dpop_jkt="A" * 43), {**rp.basic(), "DPoP": proof})
    assert mismatch.status_code == 400 and body["error"] == "invalid_request"
    _, _ = await push(rp, rp.params(), {**rp.basic(), "DPoP": proof})
    replay, body = await push(rp, rp.params(), {**rp.basic(), "DPoP": proof})
    assert replay.status_code == 400 and body["error"] == "invalid_dpop_proof"
