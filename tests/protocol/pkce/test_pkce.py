"""PKCE: S256 only, required for public clients, verified at /token."""

from __future__ import annotations

from tests.helpers import REDIRECT, add_client, query_of, services_of


async def test_plain_is_refused(rp):
    response = await rp.browser.authorize(**rp.params(code_challenge_method="plain"))
    assert query_of(response.headers["Location"])["error_description"] == (
        "The code_challenge_method must be S256."
    )


async def test_a_challenge_without_a_method_is_refused_because_plain_is_the_default(rp):
    response = await rp.browser.authorize(**rp.params(code_challenge_method=None))
    assert query_of(response.headers["Location"])["error_description"] == (
        "The code_challenge_method must be S256."
    )


async def test_a_malformed_challenge_is_refused(rp):
    response = await rp.browser.authorize(**rp.params(code_challenge="short"))
    assert query_of(response.headers["Location"])["error_description"] == (
        "The code_challenge is malformed."
    )


async def test_public_clients_must_send_a_challenge(rp):
    reg = await add_client(services_of(rp.app), name="SPA", auth_method="none")
    response = await rp.browser.authorize(
        **rp.params(client_id=reg.client.id, code_challenge=None, code_challenge_method=None)
    )
    assert query_of(response.headers["Location"])["error_description"] == (
        "Public clients must use PKCE with S256."
    )


async def test_a_wrong_verifier_fails_with_invalid_grant(rp):
    code = await rp.code()
    response = await rp.token(
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": "x" * 50,
        }
    )
    assert response.status_code == 400
    assert (await response.get_json())["error"] == "invalid_grant"


async def test_a_missing_verifier_fails_when_a_challenge_was_sent(rp):
    code = await rp.code()
    response = await rp.token(
        {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    )
    body = await response.get_json()
    assert response.status_code == 400 and body["error"] == "invalid_request"


async def test_confidential_clients_may_skip_pkce(rp):
    code = await rp.code(code_challenge=None, code_challenge_method=None)
    response = await rp.token(
        {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    )
    assert response.status_code == 200


async def test_require_pkce_extends_the_rule_to_confidential_clients(rp):
    from tests.protocol.registration.conftest import configure

    no_pkce = {"code_challenge": None, "code_challenge_method": None}
    assert await rp.code(**no_pkce)  # confidential clients may go without by default
    configure(rp.app, require_pkce=True)
    response = await rp.browser.authorize(**rp.params(**no_pkce))
    query = query_of(response.headers["Location"])
    assert query["error"] == "invalid_request"
    assert query["error_description"] == "This server requires PKCE with S256 from every client."
    assert await rp.code()  # with a challenge, all is well
