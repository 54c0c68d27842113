"""Per-client access-token algorithm (``access_token_signed_response_alg``): RS256 unless
the client registered another supported one; userinfo and introspection verify each
token with the algorithm of the key its ``kid`` names, never the one its header claims."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from click.testing import CliRunner
from tests.api.admin.conftest import make_world
from tests.conftest import on_database
from tests.helpers import REDIRECT, Browser, add_client, add_user, jwt_claims, pkce, query_of
from tests.helpers import services_of as svc_of

from portico.cli import main
from portico.errors import ValidationFailed
from portico.settings import Settings
from portico.storage.db import Database


@pytest.fixture
def settings(settings: Settings, keyed_database_url: str) -> Settings:
    """The usual settings, on SQLite or on PostgreSQL (each copied from a template)."""
    return on_database(settings, keyed_database_url)


def header(token: str) -> dict[str, Any]:
    part = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


async def client_with(app: Any, alg: str | None, **kw: Any) -> tuple[str, str]:
    metadata = {"access_token_signed_response_alg": alg} if alg else None
    reg = await add_client(svc_of(app), first_party=True, metadata=metadata, grant_types=[
        "authorization_code", "refresh_token", "client_credentials"], **kw)
    assert reg.secret is not None
    return reg.client.id, reg.secret


async def user_token(app: Any, client: tuple[str, str]) -> str:
    """An access token from the code flow, for alice."""
    browser = Browser(app.test_client())
    verifier, challenge = pkce()
    response = await browser.authorize(
        client_id=client[0], redirect_uri=REDIRECT, response_type="code",
        scope="openid profile", code_challenge=challenge, code_challenge_method="S256")
    response = await browser.follow(await browser.login(response))
    code = query_of(response.headers["Location"])["code"]
    token = await app.test_client().post("/token", auth=client, form={
        "grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT,
        "code_verifier": verifier})
    assert token.status_code == 200, await token.get_data()
    return (await token.get_json())["access_token"]


@pytest.mark.parametrize("alg", [None, "RS256", "ES256", "EdDSA"])
async def test_client_credentials_tokens_use_the_clients_algorithm(app, alg):
    client = await client_with(app, alg)
    response = await app.test_client().post("/token", auth=client,
                                            form={"grant_type": "client_credentials"})
    assert response.status_code == 200, await response.get_data()
    token = (await response.get_json())["access_token"]
    keys = await svc_of(app).keys.load()
    expected = alg or "RS256"
    assert header(token) == {"alg": expected, "kid": keys.signers[expected].kid, "typ": "at+jwt"}
    assert jwt_claims(token)["client_id"] == client[0]
    introspected = await (await app.test_client().post(
        "/introspect", auth=client, form={"token": token})).get_json()
    assert introspected["active"] is True and introspected["client_id"] == client[0]


@pytest.mark.parametrize("alg", ["ES256", "EdDSA"])
async def test_userinfo_and_introspection_accept_a_users_token_of_any_supported_alg(app, alg):
    await add_user(svc_of(app), name="Alice Liddell")
    client = await client_with(app, alg)
    token = await user_token(app, client)
    assert header(token)["alg"] == alg
    info = await app.test_client().get("/userinfo", headers={"Authorization": f"Bearer {token}"})
    assert info.status_code == 200, await info.get_data()
    assert (await info.get_json())["name"] == "Alice Liddell"
    introspected = await (await app.test_client().post(
        "/introspect", auth=client, form={"token": token})).get_json()
    assert introspected["active"] is True


async def test_a_header_naming_another_algorithm_for_the_kid_is_refused(app):
    await add_user(svc_of(app))
    client = await client_with(app, "ES256")
    token = await user_token(app, client)
    forged = dict(header(token), alg="EdDSA")
    raw = base64.urlsafe_b64encode(json.dumps(forged).encode()).rstrip(b"=").decode()
    tampered = ".".join([raw, *token.split(".")[1:]])
    info = await app.test_client().get("/userinfo",
                                       headers={"Authorization": f"Bearer {tampered}"})
    assert info.status_code == 401
    assert (await info.get_json())["error"] == "invalid_token"
    introspected = await (await app.test_client().post(
        "/introspect", auth=client, form={"token": tampered})).get_json()
    assert introspected == {"active": False}


async def test_an_unsupported_algorithm_is_refused_with_the_field_named(app):
    with pytest.raises(ValidationFailed) as caught:
        await client_with(app, "HS256")
    assert "access_token_signed_response_alg" in caught.value.fields


async def test_the_admin_api_sets_and_changes_the_algorithm(app):
    world = await make_world(app)
    created = await world.root.post("/api/v1/admin/clients", json={
        "name": "API", "redirect_uris": ["https://rp.example/cb"],
        "grant_types": ["client_credentials"], "access_token_signed_response_alg": "ES256"})
    body = await created.get_json()
    assert created.status_code == 201, body
    assert body["access_token_signed_response_alg"] == "ES256"
    url = f"/api/v1/admin/clients/{body['client_id']}"
    auth = {"Authorization": f"Bearer {world.root.access}"}
    changed = await app.test_client().patch(
        url, headers=auth, json={"access_token_signed_response_alg": None})
    assert (await changed.get_json())["access_token_signed_response_alg"] is None
    refused = await app.test_client().patch(
        url, headers=auth, json={"access_token_signed_response_alg": "HS256"})
    assert refused.status_code == 400


def test_the_cli_registers_a_client_with_an_access_token_algorithm(tmp_path):
    env = {
        "PORTICO_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'p.db'}",
        "PORTICO_KEYS_DIR": str(tmp_path / "keys"),
        "PORTICO_CONFIG": str(tmp_path / "none.toml"),
    }
    runner = CliRunner()
    assert runner.invoke(main, ["init"], env=env).exit_code == 0
    added = runner.invoke(main, ["client", "add", "--name", "M2M", "--grant",
                                 "client_credentials", "--access-token-alg", "ES256", "--json"],
                          env=env)
    assert added.exit_code == 0, added.output
    client_id = json.loads(added.output)["client_id"]

    async def stored() -> str | None:
        from portico.storage.repositories.clients import Clients

        db = Database(env["PORTICO_DATABASE_URL"])
        try:
            async with db.read() as session:
                row = await Clients(session).get(client_id)
                assert row is not None
                return row.access_token_signed_response_alg
        finally:
            await db.dispose()

    import asyncio

    assert asyncio.run(stored()) == "ES256"
    bad = runner.invoke(main, ["client", "add", "--name", "M2M", "--grant",
                               "client_credentials", "--access-token-alg", "HS256"], env=env)
    assert bad.exit_code != 0
