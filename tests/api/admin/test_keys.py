"""``/api/v1/admin/keys``: signing keys listed to admins, rotated by the superadmin."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from tests.api.admin.conftest import World
from tests.api.conftest import bearer, login, problem
from tests.helpers import services_of

from portico.storage.repositories.audit import AuditLog

URL = "/api/v1/admin/keys"
ROTATE = f"{URL}/rotate"
PRIVATE_MEMBERS = ('"d"', '"p"', '"q"', '"dp"', '"dq"', '"qi"', "private")


def by_status(items: list[dict[str, Any]], alg: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {"next": [], "active": [], "retired": []}
    for key in items:
        if key["alg"] == alg:
            found[key["status"]].append(key["kid"])
    return found


def header_kid(token: str) -> str:
    part = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))["kid"]


async def test_any_admin_lists_public_facts_only(world: World):
    response = await world.bob.get(URL)
    body = await response.get_json()
    assert response.status_code == 200, body
    assert len(body["items"]) == 6 and body["next_cursor"] is None
    for alg in ("RS256", "ES256", "EdDSA"):
        states = by_status(body["items"], alg)
        assert (len(states["active"]), len(states["next"]), states["retired"]) == (1, 1, [])
    assert set(body["items"][0]) == {"kid", "alg", "status", "created_at", "activated_at",
                                     "retired_at", "expires_at"}
    text = await response.get_data(as_text=True)
    assert not [m for m in PRIVATE_MEMBERS if m in text]


async def test_members_and_strangers_cannot_list_keys(world: World):
    await problem(await world.max.get(URL), 403, "forbidden")
    await problem(await world.app.test_client().get(URL), 401, "unauthorized")


async def test_rotation_promotes_the_published_key_and_is_audited(world: World):
    before = (await (await world.root.get(URL)).get_json())["items"]
    response = await world.root.post(ROTATE, json={"algs": ["RS256"]})
    body = await response.get_json()
    assert response.status_code == 200, body
    old, new = by_status(before, "RS256"), by_status(body["items"], "RS256")
    assert new["active"] == old["next"] and new["retired"] == old["active"]
    assert len(new["next"]) == 1 and new["next"] != old["next"]
    retired = next(k for k in body["items"] if k["kid"] == old["active"][0])
    assert retired["retired_at"] and retired["expires_at"] > retired["retired_at"]
    assert by_status(body["items"], "ES256") == by_status(before, "ES256")

    # This instance signs with the promoted key at once; the retired one stays published.
    assert header_kid((await login(world.app, "mia")).access) == new["active"][0]
    jwks = await (await world.app.test_client().get("/jwks")).get_json()
    assert {old["active"][0], new["active"][0], new["next"][0]} <= {k["kid"] for k in jwks["keys"]}

    async with services_of(world.app).db.session() as session:
        [event] = [e for e in await AuditLog(session).recent(limit=50)
                   if e.action == "keys.rotated"]
    assert event.actor_id == world.user_id("root") and event.details["algs"] == ["RS256"]
    assert event.details["activated"] == [new["active"][0][:12]]


async def test_rotation_without_a_body_rotates_every_algorithm(world: World):
    before = (await (await world.root.get(URL)).get_json())["items"]
    response = await world.root.post(ROTATE)
    body = await response.get_json()
    assert response.status_code == 200, body
    for alg in ("RS256", "ES256", "EdDSA"):
        assert by_status(body["items"], alg)["active"] == by_status(before, alg)["next"]


async def test_only_the_superadmin_rotates(world: World):
    for signed in (world.ann, world.bob, world.mia):
        await problem(await signed.post(ROTATE), 403, "forbidden")
    await problem(await world.app.test_client().post(ROTATE), 401, "unauthorized")
    key = await (await world.root.post("/api/v1/auth/api-keys",
                                       json={"name": "r", "access": "read"})).get_json()
    readonly = await world.app.test_client().post(ROTATE, headers=bearer(key["key"]))
    await problem(readonly, 403, "forbidden")
    items = (await (await world.root.get(URL)).get_json())["items"]
    assert not [k for k in items if k["status"] == "retired"]


@pytest.mark.parametrize(("body", "field"), [
    ({"algs": ["HS256"]}, "algs.0"),
    ({"algs": []}, "algs"),
    ({"algs": "RS256"}, "algs"),
    ({"alg": "RS256"}, "alg"),
])
async def test_invalid_rotations_are_refused_naming_the_field(world: World, body, field):
    answer = await problem(await world.root.post(ROTATE, json=body), 400, "validation")
    assert field in answer["errors"], answer


@pytest.mark.parametrize("data", ["algs=RS256", "false", "null", "[]", '"RS256"'])
async def test_a_body_that_is_not_a_json_object_is_refused(world: World, data):
    response = await world.root.client().post(
        ROTATE, data=data, headers={**bearer(world.root.access),
                                    "Content-Type": "application/json"})
    await problem(response, 400, "validation")
    items = (await (await world.root.get(URL)).get_json())["items"]
    assert not [k for k in items if k["status"] == "retired"]


async def test_pages_follow_the_cursor_newest_first(world: World):
    await world.root.post(ROTATE)
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {"limit": "4", **({"cursor": cursor} if cursor else {})}
        page = await (await world.ann.get(URL, query_string=query)).get_json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 9 and len({k["kid"] for k in seen}) == 9
    stamps = [k["created_at"] for k in seen]
    assert stamps == sorted(stamps, reverse=True)
    for query in ({"limit": "0"}, {"cursor": "nonsense"}):
        await problem(await world.ann.get(URL, query_string=query), 400, "validation")
