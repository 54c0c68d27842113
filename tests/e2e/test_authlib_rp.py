"""authlib's OAuth 2.0 client (Python) as the relying party, against a real Portico
server: discovery, the code flow with PKCE, ID-token verification with joserfc,
userinfo, refresh rotation and reuse detection, introspection, revocation, logout,
every client authentication method, client_credentials, ES256/EdDSA ID tokens and
form_post. Nothing here shares code with Portico except the wire."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from authlib.integrations.httpx_client import OAuth2Client, OAuthError
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet, RSAKey
from joserfc.jwt import JWTClaimsRegistry
from tests.e2e.browser_login import EMAIL, USERNAME, Browser, callback_of, forms_of, params_of
from tests.e2e.conftest import Portico

SCOPE = "openid profile email offline_access"


# --- a relying party built from authlib ------------------------------------------------


@dataclass
class Login:
    """What one trip through /authorize produced."""

    callback: str
    state: str
    nonce: str
    verifier: str


class RelyingParty:
    """An authlib ``OAuth2Client`` configured from discovery, plus its bookkeeping."""

    def __init__(
        self,
        portico: Portico,
        registered: dict[str, Any],
        auth_method: str = "client_secret_basic",
        secret: Any = None,
        scope: str | None = SCOPE,
    ) -> None:
        self.portico = portico
        self.meta = portico.metadata
        self.registered = registered
        self.client = OAuth2Client(
            client_id=registered["client_id"],
            client_secret=secret if secret is not None else registered.get("client_secret"),
            token_endpoint_auth_method=auth_method,
            revocation_endpoint_auth_method=auth_method,
            scope=scope,
            redirect_uri=registered["redirect_uri"],
            code_challenge_method="S256",
            token_endpoint=self.meta["token_endpoint"],
            timeout=15,
        )

    def close(self) -> None:
        self.client.close()

    def login(self, person: Browser) -> Login:
        """Build the authorization URL (PKCE S256, state, nonce) and sign in."""
        verifier = secrets.token_urlsafe(48)
        nonce = secrets.token_urlsafe(16)
        url, state = self.client.create_authorization_url(
            self.meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce
        )
        answer = person.sign_in(url)
        return Login(callback_of(answer), state, nonce, verifier)

    def exchange(self, login: Login) -> dict[str, Any]:
        callback = params_of(login.callback)
        assert callback["iss"] == self.portico.issuer  # RFC 9207
        token = self.client.fetch_token(
            authorization_response=login.callback,
            state=login.state,
            code_verifier=login.verifier,
        )
        return dict(token)

    def userinfo(self, access_token: str) -> Any:
        return self.client.get(
            self.meta["userinfo_endpoint"],
            headers={"Authorization": f"Bearer {access_token}"},
            auth=None,
        )

    def introspect(self, token: str, hint: str | None = None) -> dict[str, Any]:
        response = self.client.introspect_token(
            self.meta["introspection_endpoint"], token=token, token_type_hint=hint
        )
        assert response.status_code == 200, response.text
        return response.json()

    def revoke(self, token: str, hint: str | None = None) -> None:
        response = self.client.revoke_token(
            self.meta["revocation_endpoint"], token=token, token_type_hint=hint
        )
        assert response.status_code == 200, response.text

    def refresh_error(self, refresh_token: str) -> str:
        with pytest.raises(OAuthError) as failed:
            self.client.refresh_token(self.meta["token_endpoint"], refresh_token=refresh_token)
        return failed.value.error


@pytest.fixture
def make_rp() -> Iterator[Any]:
    made: list[RelyingParty] = []

    def make(*args: Any, **kwargs: Any) -> RelyingParty:
        rp = RelyingParty(*args, **kwargs)
        made.append(rp)
        return rp

    yield make
    for rp in made:
        rp.close()


# --- independent checks ---------------------------------------------------------------


def half_hash(value: str, alg: str) -> str:
    """OIDC Core §3.1.3.6 at_hash/c_hash, written out here rather than imported."""
    digest = (hashlib.sha512 if alg == "EdDSA" else hashlib.sha256)(value.encode()).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


def verify_id_token(
    portico: Portico,
    id_token: str,
    client_id: str,
    *,
    nonce: str,
    access_token: str,
    alg: str = "RS256",
    original: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Verify the signature with /jwks and every claim an RP must check; ``original``
    is the first ID token's claims when this one came from a refresh (OIDC Core §12.2)."""
    jwks = portico.jwks()
    token = jwt.decode(id_token, KeySet.import_key_set(jwks), algorithms=[alg])
    assert token.header["alg"] == alg
    assert token.header["kid"] in {k["kid"] for k in jwks["keys"]}
    expected: dict[str, Any] = {
        "iss": {"essential": True, "value": portico.issuer},
        "aud": {"essential": True, "value": client_id},
        "sub": {"essential": True},
        "exp": {"essential": True},
        "iat": {"essential": True},
    }
    if original is None:
        expected["nonce"] = {"essential": True, "value": nonce}
    JWTClaimsRegistry(leeway=5, **expected).validate(token.claims)
    claims = dict(token.claims)
    assert claims["azp"] == client_id
    assert claims["exp"] > claims["iat"]
    assert claims["at_hash"] == half_hash(access_token, alg)
    if original is not None:
        assert claims.get("nonce", nonce) == nonce
        assert claims["sub"] == original["sub"]
        assert claims["auth_time"] == original["auth_time"]
    return claims


def verify_access_token(portico: Portico, access_token: str) -> dict[str, Any]:
    """RFC 9068: a JWT typed at+jwt, verifiable with the issuer's JWKS."""
    token = jwt.decode(access_token, KeySet.import_key_set(portico.jwks()))
    assert token.header["typ"] == "at+jwt"
    JWTClaimsRegistry(
        iss={"essential": True, "value": portico.issuer},
        exp={"essential": True},
        jti={"essential": True},
    ).validate(token.claims)
    return dict(token.claims)


def prompt_none_url(rp: RelyingParty, state: str) -> str:
    """A silent authorization request (prompt=none), built by authlib."""
    url, _ = rp.client.create_authorization_url(
        rp.meta["authorization_endpoint"],
        state=state,
        code_verifier=secrets.token_urlsafe(48),
        scope="openid",
        prompt="none",
    )
    return url


# --- the core flow, on every database ----------------------------------------------------


def test_authlib_client_discovers_portico_and_signs_in_with_verified_tokens(
    portico, person, make_rp
):
    meta = portico.metadata
    assert meta["issuer"] == portico.issuer
    assert "S256" in meta["code_challenge_methods_supported"]
    rp = make_rp(portico, portico.add_client("authlib core"))
    login = rp.login(person)
    assert person.pages == ["/login", "/consent"]
    token = rp.exchange(login)

    assert token["token_type"] == "Bearer"
    assert set(token["scope"].split()) == set(SCOPE.split())
    assert token["refresh_token"]
    claims = verify_id_token(
        portico,
        token["id_token"],
        rp.registered["client_id"],
        nonce=login.nonce,
        access_token=token["access_token"],
    )
    assert claims["email"] == EMAIL
    assert claims["auth_time"] <= claims["iat"]
    access = verify_access_token(portico, token["access_token"])
    assert access["sub"] == claims["sub"]
    assert access["client_id"] == rp.registered["client_id"]

    info = rp.userinfo(token["access_token"])
    assert info.status_code == 200, info.text
    assert info.json()["sub"] == claims["sub"]
    assert info.json()["email"] == EMAIL
    assert info.json()["preferred_username"] == USERNAME

    active = rp.introspect(token["access_token"], "access_token")
    assert active["active"] is True
    assert active["client_id"] == rp.registered["client_id"]
    assert active["sub"] == claims["sub"]
    assert set(active["scope"].split()) == set(SCOPE.split())


def test_authlib_client_refreshes_and_reuse_revokes_the_family(portico, person, make_rp):
    rp = make_rp(portico, portico.add_client("authlib refresh"))
    login = rp.login(person)
    first = rp.exchange(login)

    claims = verify_id_token(
        portico,
        first["id_token"],
        rp.registered["client_id"],
        nonce=login.nonce,
        access_token=first["access_token"],
    )

    second = dict(rp.client.refresh_token(refresh_token=first["refresh_token"]))
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    verify_id_token(
        portico,
        second["id_token"],
        rp.registered["client_id"],
        nonce=login.nonce,
        access_token=second["access_token"],
        original=claims,
    )
    assert rp.userinfo(second["access_token"]).status_code == 200
    assert rp.introspect(first["refresh_token"])["active"] is False

    # The rotated-out token is refused, and presenting it burns the whole family.
    assert rp.refresh_error(first["refresh_token"]) == "invalid_grant"
    assert rp.refresh_error(second["refresh_token"]) == "invalid_grant"
    assert rp.introspect(second["access_token"])["active"] is False
    refused = rp.userinfo(second["access_token"])
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_token"


def test_authlib_client_revokes_a_refresh_token_and_its_family(portico, person, make_rp):
    rp = make_rp(portico, portico.add_client("authlib revoke refresh"))
    token = rp.exchange(rp.login(person))
    assert rp.introspect(token["refresh_token"], "refresh_token")["active"] is True

    rp.revoke(token["refresh_token"], "refresh_token")

    assert rp.introspect(token["refresh_token"], "refresh_token")["active"] is False
    assert rp.introspect(token["access_token"], "access_token") == {"active": False}
    refused = rp.userinfo(token["access_token"])
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_token"
    assert 'error="invalid_token"' in refused.headers["WWW-Authenticate"]
    assert rp.refresh_error(token["refresh_token"]) == "invalid_grant"
    # RFC 7009 §2.2: revoking an already invalid token still answers 200.
    rp.revoke(token["refresh_token"], "refresh_token")


def test_authlib_client_revokes_an_access_token_and_userinfo_refuses_it(portico, person, make_rp):
    rp = make_rp(portico, portico.add_client("authlib revoke access"))
    token = rp.exchange(rp.login(person))

    rp.revoke(token["access_token"], "access_token")

    assert rp.introspect(token["access_token"]) == {"active": False}
    refused = rp.userinfo(token["access_token"])
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_token"
    # Only the access token went: the refresh token still works.
    renewed = rp.client.refresh_token(refresh_token=token["refresh_token"])
    assert rp.userinfo(renewed["access_token"]).status_code == 200


def test_authlib_client_replaying_a_code_is_refused_and_revokes_what_it_issued(
    portico, person, make_rp
):
    rp = make_rp(portico, portico.add_client("authlib code replay"))
    login = rp.login(person)
    token = rp.exchange(login)

    with pytest.raises(OAuthError) as replayed:
        rp.exchange(login)
    assert replayed.value.error == "invalid_grant"
    assert rp.introspect(token["access_token"])["active"] is False
    assert rp.refresh_error(token["refresh_token"]) == "invalid_grant"


def test_authlib_client_logs_out_and_the_session_is_gone(portico, person, make_rp):
    rp = make_rp(portico, portico.add_client("authlib logout"))
    token = rp.exchange(rp.login(person))

    # While signed in, prompt=none gets a code without showing any page.
    silent = params_of(callback_of(person.visit(prompt_none_url(rp, "before"))))
    assert silent["state"] == "before"
    assert "code" in silent

    # A post_logout_redirect_uri that is not registered gets an error page, no redirect,
    # and nobody is signed out.
    foreign = {
        "id_token_hint": token["id_token"],
        "post_logout_redirect_uri": "https://attacker.example/",
        "state": "x",
    }
    refused = person.visit(f"{rp.meta['end_session_endpoint']}?{urlencode(foreign)}")
    assert refused.status_code == 400
    assert "location" not in refused.headers
    assert "code" in params_of(callback_of(person.visit(prompt_none_url(rp, "still"))))

    logout = {
        "id_token_hint": token["id_token"],
        "post_logout_redirect_uri": rp.registered["post_logout_redirect_uri"],
        "state": "bye-123",
    }
    answer = person.visit(f"{rp.meta['end_session_endpoint']}?{urlencode(logout)}")
    location = callback_of(answer)
    assert location == f"{rp.registered['post_logout_redirect_uri']}?state=bye-123"

    after = callback_of(person.visit(prompt_none_url(rp, "after")))
    assert after.startswith(rp.registered["redirect_uri"] + "?")
    assert params_of(after) == {
        "error": "login_required",
        "error_description": params_of(after)["error_description"],
        "state": "after",
        "iss": portico.issuer,
    }


# --- other clients and features, on SQLite -------------------------------------------------


def test_authlib_client_secret_post_client_completes_the_flow(sqlite_portico, person, make_rp):
    portico = sqlite_portico
    registered = portico.add_client("authlib post", "--auth-method", "client_secret_post")
    rp = make_rp(portico, registered, auth_method="client_secret_post")
    login = rp.login(person)
    token = rp.exchange(login)
    verify_id_token(
        portico,
        token["id_token"],
        registered["client_id"],
        nonce=login.nonce,
        access_token=token["access_token"],
    )
    assert rp.introspect(token["access_token"])["active"] is True
    renewed = rp.client.refresh_token(refresh_token=token["refresh_token"])
    rp.revoke(renewed["refresh_token"], "refresh_token")
    assert rp.introspect(renewed["access_token"])["active"] is False

    # The same client presenting its secret the other way is refused.
    basic = make_rp(portico, registered, auth_method="client_secret_basic")
    with pytest.raises(OAuthError) as wrong:
        basic.exchange(basic.login(person))
    assert wrong.value.error == "invalid_client"


def test_authlib_public_client_uses_pkce_without_a_secret(sqlite_portico, person, make_rp):
    portico = sqlite_portico
    registered = portico.add_client("authlib public", "--auth-method", "none")
    assert registered["client_secret"] is None
    rp = make_rp(portico, registered, auth_method="none")
    login = rp.login(person)
    token = rp.exchange(login)
    verify_id_token(
        portico,
        token["id_token"],
        registered["client_id"],
        nonce=login.nonce,
        access_token=token["access_token"],
    )
    renewed = rp.client.refresh_token(refresh_token=token["refresh_token"])
    assert rp.userinfo(renewed["access_token"]).status_code == 200
    rp.revoke(renewed["refresh_token"], "refresh_token")
    assert rp.refresh_error(renewed["refresh_token"]) == "invalid_grant"

    # The code is bound to the challenge: another verifier does not redeem it.
    stolen = rp.login(person)
    stolen.verifier = secrets.token_urlsafe(48)
    with pytest.raises(OAuthError) as refused:
        rp.exchange(stolen)
    assert refused.value.error == "invalid_grant"

    # And a public client cannot even start without PKCE.
    query = {
        "response_type": "code",
        "client_id": registered["client_id"],
        "redirect_uri": registered["redirect_uri"],
        "scope": "openid",
        "state": "no-pkce",
    }
    answer = person.visit(f"{rp.meta['authorization_endpoint']}?{urlencode(query)}")
    error = params_of(callback_of(answer))
    assert error["error"] == "invalid_request"
    assert error["state"] == "no-pkce"


def test_authlib_private_key_jwt_client_authenticates_with_a_signed_assertion(
    sqlite_portico, person, make_rp, tmp_path: Path
):
    portico = sqlite_portico
    key = RSAKey.generate_key(2048, parameters={"kid": "rp-key-1", "use": "sig", "alg": "RS256"})
    jwks_file = tmp_path / "rp-jwks.json"
    jwks_file.write_text(json.dumps({"keys": [key.as_dict(private=False)]}))
    registered = portico.add_client(
        "authlib private_key_jwt",
        "--auth-method",
        "private_key_jwt",
        "--jwks-file",
        str(jwks_file),
    )
    assert registered["client_secret"] is None
    rp = make_rp(portico, registered, auth_method="private_key_jwt", secret=key)
    rp.client.register_client_auth_method(PrivateKeyJWT())
    login = rp.login(person)
    token = rp.exchange(login)
    verify_id_token(
        portico,
        token["id_token"],
        registered["client_id"],
        nonce=login.nonce,
        access_token=token["access_token"],
    )
    renewed = rp.client.refresh_token(refresh_token=token["refresh_token"])
    assert rp.introspect(renewed["access_token"])["active"] is True
    rp.revoke(renewed["refresh_token"])
    assert rp.introspect(renewed["access_token"])["active"] is False

    # An assertion is single use (its jti is remembered).
    endpoint = rp.meta["introspection_endpoint"]
    assertion = PrivateKeyJWT().sign(rp.client.client_auth("private_key_jwt"), endpoint)
    form = {
        "token": renewed["access_token"],
        "client_id": registered["client_id"],
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": assertion,
    }
    first = rp.client.post(endpoint, data=form, auth=None)
    assert first.status_code == 200, first.text
    replayed = rp.client.post(endpoint, data=form, auth=None)
    # RFC 6749 §5.2: 400 or 401 (401 is only required for the Authorization header).
    assert replayed.status_code in (400, 401)
    assert replayed.json()["error"] == "invalid_client"

    # A key the client never registered is refused.
    stranger = ECKey.generate_key("P-256", parameters={"kid": "rp-key-1"})
    impostor = make_rp(portico, registered, auth_method="private_key_jwt", secret=stranger)
    impostor.client.register_client_auth_method(PrivateKeyJWT(alg="ES256"))
    with pytest.raises(OAuthError) as refused:
        impostor.exchange(impostor.login(person))
    assert refused.value.error == "invalid_client"


def test_authlib_client_credentials_grant_gets_an_access_token_for_the_client(
    sqlite_portico, make_rp
):
    portico = sqlite_portico
    registered = portico.add_client(
        "authlib service", "--grant", "client_credentials", logout=False
    )
    rp = make_rp(portico, registered, scope=None)
    token = dict(rp.client.fetch_token(grant_type="client_credentials"))
    assert token["token_type"] == "Bearer"
    assert "refresh_token" not in token
    assert "id_token" not in token
    claims = verify_access_token(portico, token["access_token"])
    assert claims["sub"] == registered["client_id"]
    assert claims["client_id"] == registered["client_id"]
    active = rp.introspect(token["access_token"])
    assert active["active"] is True
    assert active["sub"] == registered["client_id"]
    refused = rp.userinfo(token["access_token"])
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_token"

    # A client registered without the grant may not use it.
    web_app = make_rp(portico, portico.add_client("authlib web app"), scope=None)
    with pytest.raises(OAuthError) as denied:
        web_app.client.fetch_token(grant_type="client_credentials")
    assert denied.value.error == "unauthorized_client"


@pytest.mark.parametrize(
    "alg",
    [
        "ES256",
        # OIDC registers "EdDSA"; joserfc warns that RFC 9864 prefers "Ed25519".
        pytest.param("EdDSA", marks=pytest.mark.filterwarnings("ignore:EdDSA is deprecated")),
    ],
)
def test_authlib_client_verifies_id_tokens_and_signed_userinfo_for_the_registered_alg(
    sqlite_portico, person, make_rp, alg
):
    portico = sqlite_portico
    assert alg in portico.metadata["id_token_signing_alg_values_supported"]
    registered = portico.add_client(f"authlib {alg}", "--id-token-alg", alg, "--userinfo-alg", alg)
    rp = make_rp(portico, registered)
    login = rp.login(person)
    token = rp.exchange(login)
    claims = verify_id_token(
        portico,
        token["id_token"],
        registered["client_id"],
        nonce=login.nonce,
        access_token=token["access_token"],
        alg=alg,
    )
    refreshed = rp.client.refresh_token(refresh_token=token["refresh_token"])
    verify_id_token(
        portico,
        refreshed["id_token"],
        registered["client_id"],
        nonce=login.nonce,
        access_token=refreshed["access_token"],
        alg=alg,
        original=claims,
    )

    info = rp.userinfo(refreshed["access_token"])
    assert info.status_code == 200, info.text
    assert info.headers["content-type"].startswith("application/jwt")
    signed = jwt.decode(info.text, KeySet.import_key_set(portico.jwks()), algorithms=[alg])
    assert signed.header["alg"] == alg
    JWTClaimsRegistry(
        iss={"essential": True, "value": portico.issuer},
        aud={"essential": True, "value": registered["client_id"]},
        sub={"essential": True, "value": claims["sub"]},
    ).validate(signed.claims)
    assert signed.claims["email"] == EMAIL


def test_authlib_client_receives_the_code_by_form_post(sqlite_portico, person, make_rp):
    portico = sqlite_portico
    assert "form_post" in portico.metadata["response_modes_supported"]
    registered = portico.add_client("authlib form_post")
    rp = make_rp(portico, registered)
    verifier = secrets.token_urlsafe(48)
    url, state = rp.client.create_authorization_url(
        rp.meta["authorization_endpoint"],
        code_verifier=verifier,
        nonce="form-post-nonce",
        response_mode="form_post",
    )
    page = person.sign_in(url)

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "no-store" in page.headers["cache-control"]
    [form] = forms_of(page.text)
    assert form.method == "post"
    assert form.action == registered["redirect_uri"]
    assert set(form.fields) == {"code", "state", "iss"}
    assert form.fields["state"] == state
    assert form.fields["iss"] == portico.issuer

    callback = f"{registered['redirect_uri']}?{urlencode(form.fields)}"
    token = rp.exchange(Login(callback, state, "form-post-nonce", verifier))
    verify_id_token(
        portico,
        token["id_token"],
        registered["client_id"],
        nonce="form-post-nonce",
        access_token=token["access_token"],
    )

    # Errors travel the same way: a silent request from a browser with no session.
    with portico.browser() as stranger:
        page = stranger.visit(f"{prompt_none_url(rp, 'silent')}&response_mode=form_post")
    assert page.status_code == 200
    [form] = forms_of(page.text)
    assert form.action == registered["redirect_uri"]
    assert form.fields["error"] == "login_required"
    assert form.fields["state"] == "silent"
    assert form.fields["iss"] == portico.issuer
    assert "code" not in form.fields
