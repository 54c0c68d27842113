"""The whole code flow in-process: authorize → login → consent → token → userinfo."""

from __future__ import annotations

from tests.helpers import (
    REDIRECT,
    Browser,
    add_client,
    add_user,
    jwt_claims,
    pkce,
    query_of,
    services_of,
)


async def test_code_flow_with_pkce_returns_verifiable_tokens(app):
    svc = services_of(app)
    await add_user(svc)
    reg = await add_client(svc)
    verifier, challenge = pkce()
    browser = Browser(app.test_client())
    r = await browser.authorize(
        client_id=reg.client.id,
        redirect_uri=REDIRECT,
        response_type="code",
        scope="openid email",
        state="s1",
        nonce="n1",
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    r = await browser.login(r)
    r = await browser.consent(r)
    r = await browser.follow(r)
    q = query_of(r.headers["Location"])
    assert q["state"] == "s1" and q["iss"] == "http://127.0.0.1:8000"
    token = await app.test_client().post(
        "/token",
        form={
            "grant_type": "authorization_code",
            "code": q["code"],
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
            "client_id": reg.client.id,
            "client_secret": reg.secret,
        },
        headers={},
    )
    assert token.status_code == 401  # client_secret_post is not this client's method
    import base64

    basic = base64.b64encode(f"{reg.client.id}:{reg.secret}".encode()).decode()
    token = await app.test_client().post(
        "/token",
        form={
            "grant_type": "authorization_code",
            "code": q["code"],
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
        headers={"Authorization": f"Basic {basic}"},
    )
    body = await token.get_json()
    assert token.status_code == 200, body
    claims = jwt_claims(body["id_token"])
    assert claims["nonce"] == "n1" and claims["aud"] == reg.client.id
