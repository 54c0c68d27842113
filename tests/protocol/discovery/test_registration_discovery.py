"""Discovery advertises registration, pairwise subjects and JWE exactly as enabled."""

from __future__ import annotations

from tests.protocol.registration.conftest import configure

from portico.crypto.jwe import CONTENT_ENCS, KEY_ALGS


async def documents(app):
    client = app.test_client()
    oidc = await (await client.get("/.well-known/openid-configuration")).get_json()
    oauth = await (await client.get("/.well-known/oauth-authorization-server")).get_json()
    return oidc, oauth


async def test_registration_endpoint_only_when_enabled(app):
    oidc, oauth = await documents(app)
    assert "registration_endpoint" not in oidc and "registration_endpoint" not in oauth
    for mode in ("open", "token"):
        configure(app, client_registration=mode)
        oidc, oauth = await documents(app)
        assert oidc["registration_endpoint"] == "http://127.0.0.1:8000/connect/register"
        assert oauth["registration_endpoint"] == oidc["registration_endpoint"]
        # ... and it is routed: an empty body is a registration error, not a 404.
        response = await app.test_client().post("/connect/register", json={})
        assert response.status_code in (400, 401)


async def test_subject_types_and_encryption_algorithms(app):
    oidc, oauth = await documents(app)
    assert oidc["subject_types_supported"] == ["public", "pairwise"]
    for what in ("id_token", "userinfo"):
        assert oidc[f"{what}_encryption_alg_values_supported"] == list(KEY_ALGS)
        assert oidc[f"{what}_encryption_enc_values_supported"] == list(CONTENT_ENCS)
        assert "A128CBC-HS256" in oidc[f"{what}_encryption_enc_values_supported"]
        assert f"{what}_encryption_alg_values_supported" not in oauth  # OIDC-only members
    # Request objects are not decrypted, so no request_object_encryption_* is claimed.
    assert not [k for k in oidc if k.startswith("request_object_encryption")]
