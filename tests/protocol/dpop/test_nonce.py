"""Server-provided DPoP nonces (RFC 9449 §8, §9): stateless, shared by every instance."""

from __future__ import annotations

import pytest
from tests.helpers import REDIRECT
from tests.protocol.dpop.conftest import USERINFO_URL

from portico.protocol.dpop import Nonces, nonces_for

pytestmark = pytest.mark.parametrize("overrides", [{"dpop_require_nonce": True}])


def _form(rp, code: str) -> dict[str, str]:
    return {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
            "code_verifier": rp.verifier}


async def test_the_token_endpoint_asks_for_a_nonce_then_accepts_it(rp, dpop_key):
    code = await rp.code()
    first = await rp.token(_form(rp, code), headers={**rp.basic(), "DPoP": dpop_key.proof()})
    assert first.status_code == 400
    assert (await first.get_json())["error"] == "use_dpop_nonce"
    nonce = first.headers["DPoP-Nonce"]
    assert first.headers["Cache-Control"] == "no-store"
    # The code was not consumed by the nonce round trip.
    second = await rp.token(_form(rp, code),
                            headers={**rp.basic(), "DPoP": dpop_key.proof(nonce=nonce)})
    body = await second.get_json()
    assert second.status_code == 200, body
    assert body["token_type"] == "DPoP"

    # UserInfo answers 401 with a DPoP challenge and a nonce (§9), then accepts it.
    token = body["access_token"]
    proof = dpop_key.proof(USERINFO_URL, "GET", access_token=token)
    client = rp.app.test_client()
    refused = await client.get("/userinfo", headers={"Authorization": f"DPoP {token}",
                                                     "DPoP": proof})
    assert refused.status_code == 401
    assert 'error="use_dpop_nonce"' in refused.headers.get_all("WWW-Authenticate")[1]
    retry = dpop_key.proof(USERINFO_URL, "GET", access_token=token,
                           nonce=refused.headers["DPoP-Nonce"])
    ok = await client.get("/userinfo", headers={"Authorization": f"DPoP {token}", "DPoP": retry})
    assert ok.status_code == 200


async def test_an_unknown_nonce_is_answered_with_a_fresh_one(rp, dpop_key):
    code = await rp.code()
    response = await rp.token(_form(rp, code),
                              headers={**rp.basic(), "DPoP": dpop_key.proof(nonce="x" * 24)})
    assert await response.get_json() == {
        "error": "use_dpop_nonce", "error_description": "The DPoP nonce is stale or unknown."}
    assert len(response.headers["DPoP-Nonce"]) == 24


def test_nonces_are_good_for_their_window_and_the_next_on_any_instance(settings):
    window = settings.dpop_proof_max_age
    one, other = nonces_for(settings), Nonces(nonces_for(settings)._key, window)
    issued = one.current(now=1000 * window)
    assert other.valid(issued, now=1000 * window + 1)
    assert other.valid(issued, now=1001 * window + window - 1)
    assert not other.valid(issued, now=1002 * window)
    assert not Nonces(b"k" * 32, window).valid(issued, now=1000 * window)
    assert "key" in repr(one) and "hidden" in repr(one)
