"""Encrypted ID tokens and userinfo (OIDC Core §10.2; OIDC Registration §2
``*_encrypted_response_*``): the client decrypts with its private key and finds the
very JWT it would otherwise have received, verifiable with the issuer's JWKS."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from joserfc import jwe, jwt
from joserfc.jwk import ECKey, KeySet, OKPKey, RSAKey
from tests.helpers import REDIRECT, Browser, add_user, pkce, query_of, services_of
from tests.protocol.registration.conftest import register

from portico.crypto.jwe import CONTENT_ENCS, KEY_ALGS, EncryptionError, encrypt, pick_key

ALLOWED = [*KEY_ALGS, *CONTENT_ENCS]


def header_of(token: str) -> dict[str, Any]:
    part = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


async def flow(app: Any, reg: dict[str, Any]) -> dict[str, Any]:
    """alice signs in for the registered client; the token response."""
    browser = Browser(app.test_client())
    verifier, challenge = pkce()
    response = await browser.authorize(
        client_id=reg["client_id"], redirect_uri=REDIRECT, response_type="code",
        scope="openid email", state="s", nonce="n-1", code_challenge=challenge,
        code_challenge_method="S256")
    response = await browser.follow(await browser.consent(await browser.login(response)))
    code = query_of(response.headers["Location"])["code"]
    basic = base64.b64encode(f"{reg['client_id']}:{reg['client_secret']}".encode()).decode()
    answer = await app.test_client().post("/token", headers={"Authorization": f"Basic {basic}"},
                                          form={"grant_type": "authorization_code", "code": code,
                                                "redirect_uri": REDIRECT,
                                                "code_verifier": verifier})
    body = await answer.get_json()
    assert answer.status_code == 200, body
    return body


async def issuer_keys(app: Any) -> KeySet:
    return KeySet.import_key_set(await (await app.test_client().get("/jwks")).get_json())


@pytest.mark.parametrize(("key", "alg", "enc"), [
    (lambda: RSAKey.generate_key(2048, parameters={"use": "enc"}, auto_kid=True),
     "RSA-OAEP-256", None),
    (lambda: RSAKey.generate_key(2048, auto_kid=True), "RSA-OAEP", "A256GCM"),
    (lambda: ECKey.generate_key("P-256", auto_kid=True), "ECDH-ES", "A256GCM"),
    (lambda: ECKey.generate_key("P-384", auto_kid=True), "ECDH-ES+A256KW", "A128CBC-HS256"),
    (lambda: OKPKey.generate_key("X25519", auto_kid=True), "ECDH-ES+A128KW", "A128GCM"),
])
async def test_an_encrypted_id_token_is_a_nested_jwt(app, key, alg, enc):
    await add_user(services_of(app))
    private = key()
    metadata = {"redirect_uris": [REDIRECT], "jwks": {"keys": [private.as_dict(private=False)]},
                "id_token_encrypted_response_alg": alg}
    if enc:
        metadata["id_token_encrypted_response_enc"] = enc
    status, reg = await register(app, metadata)
    assert status == 201, reg
    assert reg["id_token_encrypted_response_enc"] == (enc or "A128CBC-HS256")  # spec default
    body = await flow(app, reg)
    token = body["id_token"]
    assert token.count(".") == 4
    header = header_of(token)
    assert header["alg"] == alg and header["enc"] == (enc or "A128CBC-HS256")
    assert header["cty"] == "JWT" and header["kid"] == private.kid
    inner = jwe.decrypt_compact(token, private, algorithms=ALLOWED).plaintext.decode()
    claims = jwt.decode(inner, await issuer_keys(app)).claims
    assert claims["aud"] == reg["client_id"] and claims["nonce"] == "n-1"
    assert claims["at_hash"]
    assert body["access_token"].count(".") == 2  # access tokens are not for the client


async def test_userinfo_encrypted_signed_or_not(app, documents):
    await add_user(services_of(app), email_verified=True)
    private = RSAKey.generate_key(2048, parameters={"use": "enc"}, auto_kid=True)
    signer = RSAKey.generate_key(2048, parameters={"use": "sig"}, auto_kid=True)
    jwks_uri = documents.publish("jwks.json", {"keys": [signer.as_dict(private=False),
                                                        private.as_dict(private=False)]})
    for signed in (False, True):
        metadata: dict[str, Any] = {
            "redirect_uris": [REDIRECT], "jwks_uri": jwks_uri,
            "userinfo_encrypted_response_alg": "RSA-OAEP-256",
            "userinfo_encrypted_response_enc": "A256GCM"}
        if signed:
            metadata["userinfo_signed_response_alg"] = "ES256"
        status, reg = await register(app, metadata)
        assert status == 201, reg
        tokens = await flow(app, reg)
        assert tokens["id_token"].count(".") == 2  # only userinfo was asked to be encrypted
        response = await app.test_client().get(
            "/userinfo", headers={"Authorization": f"Bearer {tokens['access_token']}"})
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("application/jwt")
        body = await response.get_data(as_text=True)
        assert header_of(body)["kid"] == private.kid  # the enc key, not the sig key
        plain = jwe.decrypt_compact(body, private, algorithms=ALLOWED)
        if signed:
            assert plain.protected["cty"] == "JWT"
            inner = jwt.decode(plain.plaintext.decode(), await issuer_keys(app),
                               algorithms=["ES256"])
            claims = inner.claims
        else:
            assert "cty" not in plain.protected
            claims = json.loads(plain.plaintext)
        assert claims["email"] == "alice@example.org"
        assert claims["iss"] == "http://127.0.0.1:8000" and claims["aud"] == reg["client_id"]


async def test_registration_refuses_encryption_without_a_fitting_key(app, documents):
    ec = ECKey.generate_key("P-256", auto_kid=True)
    signing_only = RSAKey.generate_key(2048, parameters={"use": "sig"}, auto_kid=True)
    for keys in ([ec.as_dict(private=False)], [signing_only.as_dict(private=False)]):
        status, body = await register(app, {
            "redirect_uris": [REDIRECT], "jwks": {"keys": keys},
            "id_token_encrypted_response_alg": "RSA-OAEP-256"})
        assert (status, body["error"]) == (400, "invalid_client_metadata"), body
    uri = documents.publish("ec.json", {"keys": [ec.as_dict(private=False)]})
    status, body = await register(app, {"redirect_uris": [REDIRECT], "jwks_uri": uri,
                                        "userinfo_encrypted_response_alg": "RSA-OAEP"})
    assert (status, body["error"]) == (400, "invalid_client_metadata"), body


async def test_a_vanished_key_is_a_clean_error_not_a_500(app, documents):
    await add_user(services_of(app))
    private = RSAKey.generate_key(2048, auto_kid=True)
    uri = documents.publish("rot.json", {"keys": [private.as_dict(private=False)]})
    status, reg = await register(app, {"redirect_uris": [REDIRECT], "jwks_uri": uri,
                                       "id_token_encrypted_response_alg": "RSA-OAEP-256"})
    assert status == 201, reg
    documents.docs.pop("rot.json")
    services_of(app).fetcher._jwks.clear()  # as after the five-minute cache
    browser = Browser(app.test_client())
    verifier, challenge = pkce()
    response = await browser.authorize(
        client_id=reg["client_id"], redirect_uri=REDIRECT, response_type="code",
        scope="openid", code_challenge=challenge, code_challenge_method="S256")
    response = await browser.follow(await browser.consent(await browser.login(response)))
    code = query_of(response.headers["Location"])["code"]
    basic = base64.b64encode(f"{reg['client_id']}:{reg['client_secret']}".encode()).decode()
    answer = await app.test_client().post("/token", headers={"Authorization": f"Basic {basic}"},
                                          form={"grant_type": "authorization_code", "code": code,
                                                "redirect_uri": REDIRECT,
                                                "code_verifier": verifier})
    assert answer.status_code == 400
    body = await answer.get_json()
    assert body["error"] == "invalid_request" and "encrypted" in body["error_description"]


def test_pick_key_prefers_enc_keys_and_skips_private_or_mismatched_ones():
    sig = RSAKey.generate_key(2048, parameters={"use": "sig"}, auto_kid=True)
    plain = RSAKey.generate_key(2048, auto_kid=True)
    enc = RSAKey.generate_key(2048, parameters={"use": "enc", "alg": "RSA-OAEP-256"},
                              auto_kid=True)
    keys = KeySet.import_key_set({"keys": [k.as_dict(private=False) for k in (sig, plain, enc)]})
    assert pick_key(keys, "RSA-OAEP-256").kid == enc.kid
    assert pick_key(keys, "RSA-OAEP").kid == plain.kid  # enc's alg is RSA-OAEP-256
    with pytest.raises(EncryptionError):
        pick_key(keys, "ECDH-ES")
    with pytest.raises(EncryptionError):
        pick_key(KeySet([plain]), "RSA-OAEP-256")  # a private key is never used
    with pytest.raises(EncryptionError):
        encrypt("x", keys, "RSA-OAEP-256", "A999GCM", nested_jwt=False)
