"""How many SQL statements each hot endpoint sends, as an upper bound per endpoint.

Time is noisy on a shared machine; statement counts are deterministic, and each
statement is a round trip that costs more than an ES256 signature (storage/db.py). A
change that adds a query to a hot path fails here and has to raise the bound on
purpose. Bounds are per dialect: SQLite counts its ``BEGIN`` as a statement, asyncpg's
transaction control is not a cursor execution.
"""

from __future__ import annotations

from typing import Any

from tests.helpers import REDIRECT
from tests.perf_counts.conftest import World
from tests.perf_counts.counting import counting

# endpoint -> (SQLite bound, PostgreSQL bound), each the count measured when it was set.
BOUNDS = {
    "discovery": (0, 0),
    "jwks": (0, 0),
    "userinfo": (2, 1),
    "introspection": (3, 2),
    "client_credentials": (3, 2),
    "refresh_token": (8, 7),
    "authorization_code": (7, 6),
}


def bound(world: World, endpoint: str) -> int:
    sqlite, postgresql = BOUNDS[endpoint]
    return sqlite if world.dialect == "sqlite" else postgresql


async def measured(world: World, endpoint: str, call: Any) -> list[str]:
    with counting() as seen:
        response = await call
    assert response.status_code == 200, await response.get_data()
    assert len(seen) <= bound(world, endpoint), "\n".join(seen)
    return seen


async def test_discovery_and_jwks_send_no_statement_once_loaded(world: World) -> None:
    client = world.app.test_client()
    await client.get("/jwks")  # the key snapshot is loaded (or re-checked) here
    for path in ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server"):
        assert await measured(world, "discovery", client.get(path)) == []
    assert await measured(world, "jwks", client.get("/jwks")) == []


async def test_userinfo_reads_in_a_bounded_number_of_statements(world: World) -> None:
    bearer = {"Authorization": f"Bearer {world.tokens['access_token']}"}
    seen = await measured(world, "userinfo",
                          world.app.test_client().get("/userinfo", headers=bearer))
    # A read transaction: it never takes SQLite's write lock.
    assert "BEGIN IMMEDIATE" not in seen


async def test_introspection_is_bounded(world: World) -> None:
    await measured(world, "introspection", world.app.test_client().post(
        "/introspect", form={"token": world.tokens["access_token"]}, auth=world.basic))


async def test_client_credentials_is_bounded(world: World) -> None:
    await measured(world, "client_credentials", world.app.test_client().post(
        "/token", form={"grant_type": "client_credentials"}, auth=world.basic))


async def test_refresh_token_rotation_is_bounded(world: World) -> None:
    await measured(world, "refresh_token", world.app.test_client().post(
        "/token", form={"grant_type": "refresh_token",
                        "refresh_token": world.tokens["refresh_token"]}, auth=world.basic))


async def test_code_redemption_is_bounded(world: World) -> None:
    code, verifier = await world.code()
    await measured(world, "authorization_code", world.app.test_client().post(
        "/token", form={"grant_type": "authorization_code", "code": code,
                        "redirect_uri": REDIRECT, "code_verifier": verifier},
        auth=world.basic))
