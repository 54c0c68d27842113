"""DPoP at UserInfo (RFC 9449 §7): the DPoP scheme with a proof of the bound key and
``ath``; bound tokens refused as Bearer tokens; challenges per §7.1 and RFC 9728 §5.1."""

from __future__ import annotations

from tests.helpers import REDIRECT
from tests.protocol.dpop.conftest import USERINFO_URL, DpopKey

METADATA = 'resource_metadata="http://127.0.0.1:8000/.well-known/oauth-protected-resource/userinfo"'


async def _bound_tokens(rp, key: DpopKey) -> dict:
    code = await rp.code(scope="openid email")
    response = await rp.token(
        {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
         "code_verifier": rp.verifier},
        headers={**rp.basic(), "DPoP": key.proof()},
    )
    body = await response.get_json()
    assert body["token_type"] == "DPoP", body
    return body


async def _userinfo(rp, headers: dict[str, str], method: str = "GET"):
    client = rp.app.test_client()
    if method == "POST":
        return await client.post("/userinfo", headers=headers)
    return await client.get("/userinfo", headers=headers)


def _challenges(response) -> list[str]:
    return response.headers.get_all("WWW-Authenticate")


async def test_a_bound_token_with_its_proof_reads_userinfo(rp, dpop_key):
    token = (await _bound_tokens(rp, dpop_key))["access_token"]
    for method in ("GET", "POST"):
        proof = dpop_key.proof(USERINFO_URL, method, access_token=token)
        response = await _userinfo(rp, {"Authorization": f"DPoP {token}", "DPoP": proof}, method)
        assert response.status_code == 200, await response.get_json()
        assert (await response.get_json())["email"] == "alice@example.org"


async def test_a_bound_token_presented_as_bearer_is_refused(rp, dpop_key):
    token = (await _bound_tokens(rp, dpop_key))["access_token"]
    response = await _userinfo(rp, {"Authorization": f"Bearer {token}"})
    assert response.status_code == 401
    bearer, dpop = _challenges(response)
    assert bearer == (
        'Bearer realm="portico", error="invalid_token", error_description="This access token '
        f'is DPoP-bound; use the DPoP scheme.", {METADATA}'
    )
    assert dpop.startswith('DPoP realm="portico", algs="ES256 ') and dpop.endswith(METADATA)


async def test_a_proof_of_another_key_is_refused(rp, dpop_key):
    token = (await _bound_tokens(rp, dpop_key))["access_token"]
    other = DpopKey().proof(USERINFO_URL, "GET", access_token=token)
    response = await _userinfo(rp, {"Authorization": f"DPoP {token}", "DPoP": other})
    assert response.status_code == 401
    assert (await response.get_json())["error_description"] == (
        "The DPoP proof key does not match the access token.")
    assert 'DPoP realm="portico", algs=' in _challenges(response)[1]
    assert 'error="invalid_token"' in _challenges(response)[1]


async def test_the_proof_must_carry_the_token_hash(rp, dpop_key):
    token = (await _bound_tokens(rp, dpop_key))["access_token"]
    for proof in (dpop_key.proof(USERINFO_URL, "GET"),
                  dpop_key.proof(USERINFO_URL, "GET", access_token=token + "x")):
        response = await _userinfo(rp, {"Authorization": f"DPoP {token}", "DPoP": proof})
        assert response.status_code == 401
        assert await response.get_json() == {
            "error": "invalid_dpop_proof",
            "error_description": "The DPoP proof ath does not match the access token."}
        assert 'error="invalid_dpop_proof"' in _challenges(response)[1]


async def test_the_dpop_scheme_needs_a_proof_and_a_bound_token(rp, dpop_key):
    token = (await _bound_tokens(rp, dpop_key))["access_token"]
    response = await _userinfo(rp, {"Authorization": f"DPoP {token}"})
    assert (await response.get_json())["error"] == "invalid_dpop_proof"
    assert response.status_code == 401
    unbound = (await rp.tokens())["access_token"]
    proof = dpop_key.proof(USERINFO_URL, "GET", access_token=unbound)
    response = await _userinfo(rp, {"Authorization": f"DPoP {unbound}", "DPoP": proof})
    assert response.status_code == 401
    assert (await response.get_json())["error_description"] == (
        "This access token is not DPoP-bound; use the Bearer scheme.")


async def test_a_userinfo_proof_cannot_be_replayed(rp, dpop_key):
    token = (await _bound_tokens(rp, dpop_key))["access_token"]
    headers = {"Authorization": f"DPoP {token}",
               "DPoP": dpop_key.proof(USERINFO_URL, "GET", access_token=token)}
    assert (await _userinfo(rp, headers)).status_code == 200
    again = await _userinfo(rp, headers)
    assert again.status_code == 401
    assert (await again.get_json())["error_description"] == "The DPoP proof was already used."


async def test_no_token_gets_both_challenges_without_an_error(rp):
    response = await _userinfo(rp, {})
    assert response.status_code == 401
    bearer, dpop = _challenges(response)
    assert bearer == f'Bearer realm="portico", {METADATA}'
    assert "error=" not in dpop and "algs=" in dpop
