"""``/api/v1/admin/audit``: the audit log, filtered and paginated, per organization."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from tests.api.admin.conftest import World, make_world
from tests.api.admin.test_policy import app_on
from tests.api.conftest import problem
from tests.helpers import services_of

from portico.storage.models import AuditEvent
from portico.storage.repositories.audit import AuditLog

URL = "/api/v1/admin/audit"
T0 = datetime(2030, 1, 1, 12, 0, tzinfo=UTC)


async def seed(world: World) -> dict[str, int]:
    """Events at known times, in known organizations (ids by label)."""
    ids: dict[str, int] = {}
    rows = [
        ("acme-login", "login.succeeded", "success", "ann", world.acme.id, 0),
        ("acme-fail", "login.failed", "failure", "mia", world.acme.id, 1),
        ("globex-login", "login.succeeded", "success", "bob", world.globex.id, 2),
        ("instance", "maintenance.ran", "success", None, None, 3),
        ("acme-odd", "login_x.odd", "success", "ann", world.acme.id, 4),
        ("acme-odd2", "loginyx.odd", "success", "ann", world.acme.id, 5),
    ]
    async with services_of(world.app).db.session() as session:
        for label, action, outcome, actor, org_id, minutes in rows:
            event = AuditEvent(action=action, outcome=outcome, org_id=org_id,
                               actor_id=world.user_id(actor) if actor else None,
                               at=T0 + timedelta(minutes=minutes), details={"n": minutes})
            await AuditLog(session).append(event)
            ids[label] = event.id
    return ids


async def listing(signed: Any, **query: str) -> list[int]:
    response = await signed.get(URL, query_string={"limit": "200", **query})
    body = await response.get_json()
    assert response.status_code == 200, body
    return [e["id"] for e in body["items"]]


async def test_admins_read_their_organizations_events_only(world: World):
    ids = await seed(world)
    acme = {ids["acme-login"], ids["acme-fail"], ids["acme-odd"], ids["acme-odd2"]}
    mine = set(await listing(world.ann, since="2030-01-01T00:00:00Z"))
    assert mine == acme
    assert set(await listing(world.bob, since="2030-01-01T00:00:00Z")) == {ids["globex-login"]}
    assert set(await listing(world.root, since="2030-01-01T00:00:00Z")) == set(ids.values())
    everything = await (await world.ann.get(URL, query_string={"limit": "200"})).get_json()
    assert {e["organization_id"] for e in everything["items"]} == {world.acme.id}


async def test_members_and_strangers_cannot_read_the_log(world: World):
    await problem(await world.mia.get(URL), 403, "forbidden")
    await problem(await world.app.test_client().get(URL), 401, "unauthorized")


async def test_filters_narrow_by_actor_organization_outcome_and_action(world: World):
    ids = await seed(world)
    since = {"since": "2030-01-01T00:00:00Z"}
    assert await listing(world.root, actor=world.user_id("mia"), **since) == [ids["acme-fail"]]
    assert await listing(world.root, outcome="failure", **since) == [ids["acme-fail"]]
    assert await listing(world.root, organization="globex", **since) == [ids["globex-login"]]
    assert await listing(world.root, organization=world.globex.id, **since) \
        == [ids["globex-login"]]
    assert await listing(world.ann, action="login.succeeded", **since) == [ids["acme-login"]]
    assert await listing(world.root, action="login.*", **since) == [
        ids["globex-login"], ids["acme-fail"], ids["acme-login"]]
    # LIKE wildcards in a prefix are literal characters.
    assert await listing(world.root, action="login_*", **since) == [ids["acme-odd"]]
    assert await listing(world.root, action="*", **since) == sorted(ids.values(), reverse=True)


async def test_naming_an_organization_you_do_not_administer_is_forbidden(world: World):
    for ref in ("globex", world.globex.id, "no-such-org"):
        await problem(await world.ann.get(URL, query_string={"organization": ref}), 403,
                      "forbidden")
    answer = await problem(await world.root.get(URL, query_string={"organization": "nope"}),
                           400, "validation")
    assert "organization" in answer["errors"]


async def test_time_windows_are_inclusive_and_take_any_offset(world: World):
    ids = await seed(world)
    assert await listing(world.root, since="2030-01-01T12:01:00Z",
                         until="2030-01-01T12:02:00Z") == [ids["globex-login"], ids["acme-fail"]]
    # 13:01+01:00 is 12:01Z; an unencoded "+" arrives as a space and is taken as meant.
    assert await listing(world.root, since="2030-01-01T13:01:00+01:00",
                         until="2030-01-01T12:01:00.000Z") == [ids["acme-fail"]]
    assert await listing(world.root, since="2030-01-01T13:01:00 01:00",
                         until="2030-01-01t12:01:00z") == [ids["acme-fail"]]


@pytest.mark.parametrize(("query", "field"), [
    ({"since": "yesterday"}, "since"),
    ({"since": "2030-01-01"}, "since"),
    ({"until": "2030-01-01T12:00:00"}, "until"),  # no offset
    ({"until": "2030-02-30T12:00:00Z"}, "until"),
    ({"since": "2030-01-02T00:00:00Z", "until": "2030-01-01T00:00:00Z"}, "since"),
    ({"action": "lo*gin*"}, "action"),
    ({"limit": "0"}, "limit"),
    ({"limit": "201"}, "limit"),
    ({"cursor": "bm9wZQ"}, "cursor"),
    ({"cursor": "WyJ4Il0"}, "cursor"),  # ["x"]
    ({"cursor": "W3RydWVd"}, "cursor"),  # [true]
    ({"actr": "x"}, "actr"),
])
async def test_bad_filters_are_refused_naming_the_field(world: World, query, field):
    answer = await problem(await world.root.get(URL, query_string=query), 400, "validation")
    assert field in answer["errors"], answer


async def test_pages_run_newest_first_without_gaps_or_repeats(world: World):
    await seed(world)
    expected = await listing(world.root)
    seen: list[int] = []
    cursor = None
    while True:
        query = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        page = await (await world.root.get(URL, query_string=query)).get_json()
        seen += [e["id"] for e in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == expected == sorted(expected, reverse=True) and len(seen) > 6


async def test_admin_actions_appear_without_their_secrets(world: World):
    created = await (await world.ann.post("/api/v1/admin/clients", json={
        "name": "Notes", "redirect_uris": ["https://rp.example/cb"]})).get_json()
    rotated = await (await world.ann.post(
        f"/api/v1/admin/clients/{created['client_id']}/secret")).get_json()
    response = await world.ann.get(URL, query_string={"action": "client.*"})
    body = await response.get_json()
    assert [e["action"] for e in body["items"]] == ["client.secret_rotated", "client.created"]
    assert body["items"][1]["details"]["name"] == "Notes"
    text = await response.get_data(as_text=True)
    assert created["client_secret"] not in text and rotated["client_secret"] not in text


async def test_filters_hold_on_every_database(keyed_database_url, tmp_path):
    async with app_on(keyed_database_url, tmp_path) as app:
        world = await make_world(app)
        ids = await seed(world)
        since = {"since": "2030-01-01T12:01:00+00:00", "until": "2030-01-01T12:04:00Z"}
        assert await listing(world.ann, action="login*", **since) == [
            ids["acme-odd"], ids["acme-fail"]]
        assert await listing(world.root, action="login_*", **since) == [ids["acme-odd"]]
        assert await listing(world.root, outcome="failure", organization="acme", **since) \
            == [ids["acme-fail"]]
        assert ids["instance"] in await listing(world.root, **since)
        assert ids["instance"] not in await listing(world.ann)
