"""``/api/v1/admin/organizations`` and their members: every route's success, input
errors, isolation, credentials refused, and the audit event of each mutation."""

from __future__ import annotations

from typing import Any

import pytest
from tests.api.admin.conftest import World
from tests.api.admin.test_users import call, events, join, last_event, ok, read_only_key
from tests.api.conftest import bearer, problem

ORGS = "/api/v1/admin/organizations"


def routes(world: World, org: str | None = None) -> list[tuple[str, str, Any, bool]]:
    """(method, path, body, mutates) for every organization route, aimed at acme."""
    one = f"{ORGS}/{org or world.acme.id}"
    mia = world.user_id("mia")
    return [
        ("GET", ORGS, None, False),
        ("POST", ORGS, {"name": "Initech"}, True),
        ("GET", one, None, False),
        ("PATCH", one, {"name": "Acme Inc"}, True),
        ("DELETE", one, None, True),
        ("POST", f"{one}/transfer-ownership", {"user_id": mia}, True),
        ("GET", f"{one}/members", None, False),
        ("POST", f"{one}/members", {"user_id": world.user_id("max")}, True),
        ("PATCH", f"{one}/members/{mia}", {"role": "admin"}, True),
        ("DELETE", f"{one}/members/{mia}", None, True),
    ]


ROUTE_IDS = ["list", "create", "get", "patch", "delete", "transfer", "members",
             "add-member", "set-role", "remove-member"]
SUPERADMIN_ONLY = {"create", "delete"}


async def state(world: World) -> dict[str, Any]:
    """What the isolation tests must leave untouched."""
    body = await ok(await world.root.get(f"{ORGS}/{world.acme.id}"))
    members = await ok(await world.root.get(f"{ORGS}/{world.acme.id}/members"))
    return {"org": body, "members": members["items"],
            "orgs": len((await ok(await world.root.get(ORGS)))["items"])}


# --- who may call ----------------------------------------------------------------------


@pytest.mark.parametrize("index", range(len(ROUTE_IDS)), ids=ROUTE_IDS)
async def test_every_route_needs_credentials(world: World, index: int):
    method, path, body, _ = routes(world)[index]
    await problem(await call(world, None, method, path, body), 401, "unauthorized")


@pytest.mark.parametrize("index", range(len(ROUTE_IDS)), ids=ROUTE_IDS)
async def test_members_are_refused_everywhere(world: World, index: int):
    method, path, body, _ = routes(world)[index]
    await problem(await call(world, world.mia, method, path, body), 403, "forbidden")


@pytest.mark.parametrize("index", range(len(ROUTE_IDS)), ids=ROUTE_IDS)
async def test_read_only_api_keys_only_read(world: World, index: int):
    method, path, body, mutates = routes(world)[index]
    before = await state(world)
    response = await call(world, await read_only_key(world.root), method, path, body)
    if mutates:
        assert "read-only" in (await problem(response, 403, "forbidden"))["detail"]
    else:
        await ok(response)
    assert await state(world) == before


@pytest.mark.parametrize("index", range(len(ROUTE_IDS)), ids=ROUTE_IDS)
async def test_another_organization_is_not_found(world: World, index: int):
    method, path, body, _ = routes(world)[index]
    before = await state(world)
    response = await call(world, world.bob, method, path, body)
    if ROUTE_IDS[index] in SUPERADMIN_ONLY:
        await problem(response, 403, "forbidden")
    elif path == ORGS:
        assert [o["slug"] for o in (await ok(response))["items"]] == ["globex"]
    else:
        await problem(response, 404, "not-found")
    assert await state(world) == before


@pytest.mark.parametrize("index", range(2, len(ROUTE_IDS)), ids=ROUTE_IDS[2:])
async def test_a_missing_organization_is_not_found(world: World, index: int):
    method, path, body, _ = routes(world, "0" * 32)[index]
    await problem(await call(world, world.root, method, path, body), 404, "not-found")


# --- organizations ----------------------------------------------------------------------


async def test_list_is_scoped_searchable_and_paged(world: World):
    assert [o["slug"] for o in (await ok(await world.ann.get(ORGS)))["items"]] == ["acme"]
    everything = await ok(await world.root.get(ORGS))
    assert [o["slug"] for o in everything["items"]] == ["default", "acme", "globex"]
    assert set(everything["items"][0]) == {"id", "slug", "name", "created_at"}
    assert [o["slug"] for o in (await ok(await world.root.get(f"{ORGS}?q=GLOB")))["items"]] \
        == ["globex"]
    assert (await ok(await world.ann.get(f"{ORGS}?q=glob")))["items"] == []
    first = await ok(await world.root.get(f"{ORGS}?limit=2"))
    second = await ok(await world.root.get(f"{ORGS}?limit=2&cursor={first['next_cursor']}"))
    assert [o["slug"] for o in first["items"] + second["items"]] == [
        "default", "acme", "globex"]
    assert second["next_cursor"] is None


@pytest.mark.parametrize(("query", "field"), [
    ("limit=0", "limit"), ("limit=999", "limit"), ("cursor=%21%21", "cursor"),
    ("q=" + "x" * 101, "q"), ("sort=name", "sort"),
])
async def test_list_refuses_bad_queries(world: World, query: str, field: str):
    body = await problem(await world.root.get(f"{ORGS}?{query}"), 400, "validation")
    assert field in body["errors"], body


async def test_create_by_the_superadmin(world: World):
    body = await ok(await world.root.post(ORGS, json={
        "name": "Initech", "owner_id": world.user_id("mia"),
        "settings": {"theme": "dark", "seats": 10, "beta": True, "note": None}}), 201)
    assert body["slug"] == "initech" and body["owner_id"] == world.user_id("mia")
    assert (body["member_count"], body["admin_count"]) == (1, 1)
    assert body["settings"] == {"theme": "dark", "seats": 10, "beta": True, "note": None}
    event = await last_event(world, "org.created")
    assert (event.actor_id, event.org_id, event.target) == (
        world.user_id("root"), body["id"], f"org:{body['id']}")
    assert event.ip
    again = await problem(await world.root.post(ORGS, json={"name": "X", "slug": "initech"}),
                          409, "conflict")
    assert again["errors"] == {"slug": "already taken"}
    refused = await problem(await world.ann.post(ORGS, json={"name": "Mine"}), 403, "forbidden")
    assert "superadmin" in refused["detail"]


@pytest.mark.parametrize(("body", "field"), [
    ({}, "name"), ({"name": ""}, "name"), ({"name": "   "}, "name"),
    ({"name": "A", "slug": "Not A Slug!"}, "slug"),
    ({"name": "A", "owner_id": "0" * 32}, "owner_id"),
    ({"name": "A", "settings": []}, "settings"),
    ({"name": "A", "settings": {"nested": {"a": 1}}}, "settings"),
    ({"name": "A", "settings": {"list": [1]}}, "settings"),
    ({"name": "A", "settings": {f"k{i}": i for i in range(51)}}, "settings"),
    ({"name": "A", "settings": {"big": "x" * 9000}}, "settings"),
    ({"name": "A", "settings": {"": 1}}, "settings"),
    ({"name": "A", "colour": "red"}, "colour"),
])
async def test_create_refuses_bad_input(world: World, body: dict[str, Any], field: str):
    answer = await problem(await world.root.post(ORGS, json=body), 400, "validation")
    assert field in answer["errors"], answer
    assert await events(world, "org.created") == []


async def test_get_shows_counts_owner_and_settings(world: World):
    body = await ok(await world.ann.get(f"{ORGS}/{world.acme.id}"))
    assert (body["slug"], body["name"]) == ("acme", "Acme")
    assert (body["member_count"], body["admin_count"]) == (2, 1)
    assert body["owner_id"] == world.user_id("ann") and body["settings"] == {}


async def test_patch_renames_reslugs_and_sets_preferences(world: World):
    path = f"{ORGS}/{world.acme.id}"
    body = await ok(await call(world, world.ann, "PATCH", path, {
        "name": "Acme Inc", "slug": "acme-inc", "settings": {"locale": "fr"}}))
    assert (body["name"], body["slug"], body["settings"]) == ("Acme Inc", "acme-inc",
                                                              {"locale": "fr"})
    event = await last_event(world, "org.updated")
    assert (event.actor_id, event.org_id, event.target) == (
        world.user_id("ann"), world.acme.id, f"org:{world.acme.id}")
    assert sorted(event.details["changed"]) == ["name", "settings", "slug"] and event.ip
    taken = await problem(await call(world, world.ann, "PATCH", path, {"slug": "globex"}), 409,
                          "conflict")
    assert taken["errors"] == {"slug": "already taken"}


@pytest.mark.parametrize(("body", "field"), [
    ({"name": None}, "name"), ({"slug": None}, "slug"), ({"settings": None}, "settings"),
    ({"name": ""}, "name"), ({"slug": "-bad-"}, "slug"), ({"settings": "dark"}, "settings"),
    ({"settings": {"n": float("inf")}}, "settings"), ({"owner_id": "x"}, "owner_id"),
])
async def test_patch_refuses_bad_input(world: World, body: dict[str, Any], field: str):
    path = f"{ORGS}/{world.acme.id}"
    if body.get("settings") == {"n": float("inf")}:
        response = await world.app.test_client().patch(
            path, headers={"Authorization": f"Bearer {world.ann.access}",
                           "Content-Type": "application/json"},
            data='{"settings": {"n": Infinity}}')
    else:
        response = await call(world, world.ann, "PATCH", path, body)
    answer = await problem(response, 400, "validation")
    assert field in answer["errors"], answer


async def test_delete_by_the_superadmin_only_when_nobody_is_stranded(world: World):
    created = await ok(await world.root.post(ORGS, json={"name": "Shortlived"}), 201)
    await join(world, "max", created["id"])
    path = f"{ORGS}/{created['id']}"
    assert (await world.root.delete(path)).status_code == 204  # max still has globex
    await problem(await world.root.get(path), 404, "not-found")
    event = await last_event(world, "org.deleted")
    assert (event.actor_id, event.org_id, event.target) == (
        world.user_id("root"), created["id"], f"org:{created['id']}")
    stranded = await problem(await world.root.delete(f"{ORGS}/{world.acme.id}"), 409,
                             "conflict")
    assert "no other organization" in stranded["detail"]
    await problem(await world.ann.delete(f"{ORGS}/{world.acme.id}"), 403, "forbidden")


async def test_transfer_ownership(world: World):
    path = f"{ORGS}/{world.acme.id}/transfer-ownership"
    mia = world.user_id("mia")
    body = await ok(await world.ann.post(path, json={"user_id": mia}))
    assert body["owner_id"] == mia and body["admin_count"] == 2
    event = await last_event(world, "org.ownership_transferred")
    assert (event.actor_id, event.org_id, event.target) == (
        world.user_id("ann"), world.acme.id, f"user:{mia}")
    assert event.details["previous"] == f"user:{world.user_id('ann')}" and event.ip
    # ann is an admin now, not the owner: only the owner (or the superadmin) transfers.
    await problem(await world.ann.post(path, json={"user_id": world.user_id("ann")}), 403,
                  "forbidden")
    body = await ok(await world.root.post(path, json={"user_id": world.user_id("ann")}))
    assert body["owner_id"] == world.user_id("ann")


@pytest.mark.parametrize(("body", "field"), [
    ({}, "user_id"), ({"user_id": ""}, "user_id"), ({"user_id": 7}, "user_id"),
])
async def test_transfer_refuses_bad_input(world: World, body: dict[str, Any], field: str):
    path = f"{ORGS}/{world.acme.id}/transfer-ownership"
    answer = await problem(await world.ann.post(path, json=body), 400, "validation")
    assert field in answer["errors"], answer


async def test_transfer_to_a_non_member_is_refused(world: World):
    path = f"{ORGS}/{world.acme.id}/transfer-ownership"
    answer = await problem(await world.ann.post(path, json={"user_id": world.user_id("max")}),
                           400, "validation")
    assert answer["errors"] == {"user_id": "must be a member first"}
    assert await events(world, "org.ownership_transferred") == []


# --- memberships ----------------------------------------------------------------------------


async def test_members_are_listed_and_paged(world: World):
    path = f"{ORGS}/{world.acme.id}/members"
    body = await ok(await world.ann.get(path))
    assert [(m["username"], m["role"], m["is_owner"]) for m in body["items"]] == [
        ("ann", "admin", True), ("mia", "member", False)]
    first = await ok(await world.ann.get(f"{path}?limit=1"))
    second = await ok(await world.ann.get(f"{path}?limit=1&cursor={first['next_cursor']}"))
    assert [m["username"] for m in first["items"] + second["items"]] == ["ann", "mia"]
    assert second["next_cursor"] is None
    for query in ("limit=0", "cursor=bad", "cursor=WyIyMDI2LTAxLTAxVDAwOjAwOjAwKzAwOjAwIiwiYSJd"):
        answer = await problem(await world.ann.get(f"{path}?{query}"), 400, "validation")
        assert set(answer["errors"]) <= {"limit", "cursor"} and answer["errors"]


async def test_add_member(world: World):
    path = f"{ORGS}/{world.acme.id}/members"
    body = await ok(await world.root.post(path, json={"user_id": world.user_id("max"),
                                                      "role": "admin"}), 201)
    assert (body["username"], body["role"], body["is_owner"]) == ("max", "admin", False)
    event = await last_event(world, "membership.added")
    assert (event.actor_id, event.org_id, event.target) == (
        world.user_id("root"), world.acme.id, f"user:{world.user_id('max')}")
    assert event.details["role"] == "admin" and event.ip
    again = await problem(await world.root.post(path, json={"user_id": world.user_id("max")}),
                          409, "conflict")
    assert again["errors"] == {"user_id": "already a member"}


async def test_an_admin_adds_only_people_they_can_see(world: World):
    path = f"{ORGS}/{world.acme.id}/members"
    answer = await problem(await world.ann.post(path, json={"user_id": world.user_id("max")}),
                           400, "validation")
    assert answer["errors"] == {"user_id": "no such user"}
    await join(world, "ann", world.globex.id, "admin")  # ann now administers globex too
    added = await world.ann.post(path, json={"user_id": world.user_id("max")})
    assert (await ok(added, 201))["username"] == "max"


@pytest.mark.parametrize(("body", "field"), [
    ({}, "user_id"), ({"user_id": "x", "role": "owner"}, "role"),
    ({"user_id": "x", "is_owner": True}, "is_owner"),
])
async def test_add_member_refuses_bad_input(world: World, body: dict[str, Any], field: str):
    answer = await problem(await world.root.post(f"{ORGS}/{world.acme.id}/members", json=body),
                           400, "validation")
    assert field in answer["errors"], answer


async def test_change_role(world: World):
    path = f"{ORGS}/{world.acme.id}/members/{world.user_id('mia')}"
    body = await ok(await call(world, world.ann, "PATCH", path, {"role": "admin"}))
    assert body["role"] == "admin"
    event = await last_event(world, "membership.role_changed")
    assert (event.actor_id, event.org_id, event.target) == (
        world.user_id("ann"), world.acme.id, f"user:{world.user_id('mia')}")
    assert (event.details["before"], event.details["after"]) == ("member", "admin")
    owner = f"{ORGS}/{world.acme.id}/members/{world.user_id('ann')}"
    answer = await problem(await call(world, world.mia, "PATCH", owner, {"role": "member"}),
                           409, "conflict")
    assert "owner" in answer["detail"]
    for bad in ({"role": "owner"}, {}, {"role": None}):
        answer = await problem(await call(world, world.ann, "PATCH", path, bad), 400,
                               "validation")
        assert "role" in answer["errors"]
    stranger = f"{ORGS}/{world.acme.id}/members/{world.user_id('max')}"
    await problem(await call(world, world.ann, "PATCH", stranger, {"role": "admin"}), 404,
                  "not-found")


async def test_the_last_admin_is_never_demoted(world: World):
    org = await ok(await world.root.post(ORGS, json={"name": "Ownerless"}), 201)
    await join(world, "max", org["id"], "admin")
    path = f"{ORGS}/{org['id']}/members/{world.user_id('max')}"
    answer = await problem(await call(world, world.root, "PATCH", path, {"role": "member"}),
                           409, "conflict")
    assert "at least one admin" in answer["detail"]
    await problem(await world.root.delete(path), 409, "conflict")


async def test_remove_member(world: World):
    await join(world, "max", world.acme.id)
    path = f"{ORGS}/{world.acme.id}/members/{world.user_id('max')}"
    assert (await world.ann.delete(path)).status_code == 204
    await problem(await world.ann.delete(path), 404, "not-found")
    event = await last_event(world, "membership.removed")
    assert (event.actor_id, event.org_id, event.target) == (
        world.user_id("ann"), world.acme.id, f"user:{world.user_id('max')}")
    owner = await problem(
        await world.root.delete(f"{ORGS}/{world.acme.id}/members/{world.user_id('ann')}"),
        409, "conflict")
    assert "transfer ownership" in owner["detail"]
    only = await problem(
        await world.ann.delete(f"{ORGS}/{world.acme.id}/members/{world.user_id('mia')}"),
        409, "conflict")
    assert "only organization" in only["detail"]
    assert len(await events(world, "membership.removed")) == 1


async def test_unstorable_input_is_a_clean_error(world: World):
    headers = {**bearer(world.root.access), "Content-Type": "application/json"}
    client = world.app.test_client()
    response = await client.post(ORGS, headers=headers,
                                 data='{"name": "A\\ud800", "settings": {"k\\udfff": 1}}')
    # Lone surrogates are refused for every JSON route by the input guard, before the
    # route's own checks.
    assert "body" in (await problem(response, 400, "validation"))["errors"]
    response = await client.post(f"{ORGS}/{world.acme.id}/members", headers=headers,
                                 data='{"user_id": "\\ud800"}')
    assert "body" in (await problem(response, 400, "validation"))["errors"]
    for bad in ("%00", "x" * 3000):
        await problem(await world.root.get(f"{ORGS}/{bad}"), 404, "not-found")
        await problem(await world.root.get(f"{ORGS}/{bad}/members"), 404, "not-found")
        path = f"{ORGS}/{world.acme.id}/members/{bad}"
        await problem(await call(world, world.root, "PATCH", path, {"role": "admin"}), 404,
                      "not-found")
