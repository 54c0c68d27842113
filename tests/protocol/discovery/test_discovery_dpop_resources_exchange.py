"""Discovery advertises DPoP, and token exchange only when it is switched on."""

from __future__ import annotations

from tests.conftest import make_settings

from portico.app import create_app

EXCHANGE = "urn:ietf:params:oauth:grant-type:token-exchange"


async def test_dpop_algorithms_are_advertised_and_exchange_is_off(app):
    doc = await (await app.test_client().get("/.well-known/openid-configuration")).get_json()
    algs = doc["dpop_signing_alg_values_supported"]
    assert "ES256" in algs and "PS256" in algs
    assert not {"none", "HS256"} & set(algs)
    assert EXCHANGE not in doc["grant_types_supported"]
    response = await app.test_client().post("/token", form={"grant_type": EXCHANGE})
    assert (await response.get_json())["error"] == "unsupported_grant_type"


async def test_token_exchange_is_advertised_when_enabled(template_db, tmp_path):
    import shutil

    from tests.conftest import TEST_MASTER_KEY

    shutil.copyfile(template_db, tmp_path / "portico.db")
    settings = make_settings(f"sqlite+aiosqlite:///{tmp_path / 'portico.db'}", tmp_path,
                             secret_key=TEST_MASTER_KEY, token_exchange=True)
    async with create_app(settings).test_app() as test_app:
        client = test_app.test_client()
        for path in ("/.well-known/openid-configuration",
                     "/.well-known/oauth-authorization-server"):
            doc = await (await client.get(path)).get_json()
            assert EXCHANGE in doc["grant_types_supported"]
            assert "dpop_signing_alg_values_supported" in doc
