"""``/api/v1/admin/policy``: the authentication policy admins change at run time, and its
effect on this instance at once and on every other instance within the cache delay."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from tests.api.admin.conftest import World, make_world
from tests.api.conftest import bearer, login, problem
from tests.conftest import TEST_MASTER_KEY, make_settings
from tests.helpers import PASSWORD, jwt_claims, services_of

from portico.policy import CACHE_SECONDS, POLICY_FIELDS, PolicyStore
from portico.settings import Settings
from portico.storage.models import InstanceSetting
from portico.storage.repositories.audit import AuditLog

URL = "/api/v1/admin/policy"


@asynccontextmanager
async def app_on(database_url: str, tmp_path: Path, **overrides: Any) -> AsyncIterator[Any]:
    """An in-process app over ``database_url``, a ``keyed_database_url`` of any supported
    kind (already migrated: ``serve`` migrates SQLite only)."""
    async with apps_on(database_url, tmp_path, 1, **overrides) as (app,):
        yield app


@asynccontextmanager
async def apps_on(database_url: str, tmp_path: Path, count: int,
                  **overrides: Any) -> AsyncIterator[tuple[Any, ...]]:
    """``count`` instances (separate services, caches and engines) over one database."""
    from contextlib import AsyncExitStack

    from portico.app import create_app

    settings = make_settings(database_url, tmp_path, secret_key=TEST_MASTER_KEY, **overrides)
    async with AsyncExitStack() as stack:
        yield tuple([await stack.enter_async_context(create_app(settings).test_app())
                     for _ in range(count)])


async def patch(world_or_signed: Any, body: dict[str, Any], token: str | None = None) -> Any:
    signed = getattr(world_or_signed, "root", world_or_signed)  # a World: its superadmin
    return await signed.client().patch(URL, headers=bearer(token or signed.access), json=body)


async def register(app: Any, name: str) -> Any:
    return await app.test_client().post("/api/v1/auth/register", json={
        "username": name, "email": f"{name}@example.org", "password": PASSWORD})


# --- reading ------------------------------------------------------------------------------


async def test_any_admin_reads_every_field_with_its_source(world: World):
    response = await world.ann.get(URL)
    body = await response.get_json()
    assert response.status_code == 200, body
    assert set(body["fields"]) == set(POLICY_FIELDS)
    assert body["fields"]["access_token_ttl"] == {
        "value": 900, "source": "configuration", "configured": 900, "updated_at": None,
        "updated_by": None}
    assert body["fields"]["registration"]["value"] == "invite"


async def test_members_and_strangers_cannot_read_the_policy(world: World):
    await problem(await world.mia.get(URL), 403, "forbidden")
    await problem(await world.app.test_client().get(URL), 401, "unauthorized")


# --- changing -----------------------------------------------------------------------------


async def test_the_superadmin_sets_and_resets_fields_audited_with_before_and_after(world: World):
    response = await patch(world, {"access_token_ttl": 300, "registration": "closed"})
    body = await response.get_json()
    assert response.status_code == 200, body
    ttl = body["fields"]["access_token_ttl"]
    assert (ttl["value"], ttl["source"], ttl["configured"]) == (300, "admin", 900)
    assert ttl["updated_by"] == world.user_id("root") and ttl["updated_at"]
    assert body["fields"]["id_token_ttl"]["source"] == "configuration"
    assert (await (await world.bob.get(URL)).get_json())["fields"]["registration"]["value"] \
        == "closed"

    reset = await (await patch(world, {"access_token_ttl": None})).get_json()
    assert reset["fields"]["access_token_ttl"]["source"] == "configuration"
    assert reset["fields"]["access_token_ttl"]["value"] == 900
    assert reset["fields"]["registration"]["value"] == "closed"

    async with services_of(world.app).db.session() as session:
        events = [e for e in await AuditLog(session).recent(limit=50)
                  if e.action == "policy.updated"]
    assert [e.details["changes"] for e in events] == [
        [{"field": "access_token_ttl", "before": 300, "before_source": "admin", "after": 900,
          "after_source": "configuration"}],
        [{"field": "registration", "before": "invite", "before_source": "configuration",
          "after": "closed", "after_source": "admin"},
         {"field": "access_token_ttl", "before": 900, "before_source": "configuration",
          "after": 300, "after_source": "admin"}],
    ]
    assert all(e.actor_id == world.user_id("root") for e in events)


async def test_an_empty_patch_changes_nothing_and_writes_no_event(world: World):
    response = await patch(world, {})
    assert response.status_code == 200
    async with services_of(world.app).db.session() as session:
        assert not [e for e in await AuditLog(session).recent(limit=50)
                    if e.action == "policy.updated"]


@pytest.mark.parametrize(("body", "field"), [
    ({"access_token_ttl": 59}, "access_token_ttl"),  # settings: ge=60
    ({"auth_code_ttl": 601}, "auth_code_ttl"),  # settings: le=600
    ({"password_min_length": 7}, "password_min_length"),
    ({"max_login_attempts": 0}, "max_login_attempts"),
    ({"registration": "sometimes"}, "registration"),
    ({"session_ttl": "86400"}, "session_ttl"),  # no quiet coercion
    ({"lockout_duration": True}, "lockout_duration"),
    ({"password_require_classes": "yes"}, "password_require_classes"),
    ({"bcrypt_rounds": 4}, "bcrypt_rounds"),  # configuration only
    ({"issuer": "https://evil.example"}, "issuer"),
])
async def test_invalid_values_are_refused_naming_the_field(world: World, body, field):
    answer = await problem(await patch(world, body), 400, "validation")
    assert field in answer["errors"], answer
    fields = (await (await world.root.get(URL)).get_json())["fields"]
    assert all(f["source"] == "configuration" for f in fields.values())


async def test_only_the_superadmin_changes_the_policy(world: World):
    for signed in (world.ann, world.bob, world.mia):
        await problem(await patch(signed, {"registration": "open"}), 403, "forbidden")
    await problem(await world.app.test_client().patch(URL, json={"registration": "open"}),
                  401, "unauthorized")
    key = await (await world.root.post("/api/v1/auth/api-keys",
                                       json={"name": "r", "access": "read"})).get_json()
    await problem(await patch(world, {"registration": "open"}, token=key["key"]), 403,
                  "forbidden")
    fields = (await (await world.root.get(URL)).get_json())["fields"]
    assert fields["registration"]["source"] == "configuration"


# --- effect -------------------------------------------------------------------------------


async def test_registration_follows_the_policy_at_once(world: World):
    app = world.app
    await problem(await register(app, "early"), 403, "forbidden")  # configured: invite
    await patch(world, {"registration": "open"})
    assert (await register(app, "eve")).status_code == 201
    await patch(world, {"registration": "closed"})
    closed = await problem(await register(app, "fay"), 403, "forbidden")
    assert "closed" in closed["detail"]
    await patch(world, {"registration": None})
    again = await problem(await register(app, "gus"), 403, "forbidden")
    assert "invitation" in again["detail"]


async def test_a_shorter_access_token_ttl_applies_to_new_tokens(world: World):
    await patch(world, {"access_token_ttl": 120, "refresh_token_ttl": 600})
    signed = await login(world.app, "mia")
    claims = jwt_claims(signed.access)
    assert claims["exp"] - claims["iat"] == 120 and signed.body["expires_in"] == 120
    # The OAuth token endpoint (authlib bridge) sees the same value.
    created = await (await world.root.post("/api/v1/admin/clients", json={
        "name": "svc", "grant_types": ["client_credentials"]})).get_json()
    credentials = f"{created['client_id']}:{created['client_secret']}".encode()
    response = await world.app.test_client().post(
        "/token", form={"grant_type": "client_credentials"},
        headers={"Authorization": "Basic " + base64.b64encode(credentials).decode()})
    body = await response.get_json()
    assert response.status_code == 200, body
    assert body["expires_in"] == 120
    assert jwt_claims(body["access_token"])["exp"] - jwt_claims(body["access_token"])["iat"] \
        == 120


async def test_a_stricter_password_policy_applies_to_new_passwords(world: World):
    await patch(world, {"registration": "open", "password_min_length": 20})
    answer = await problem(await register(world.app, "hal"), 400, "password-policy")
    assert "password" in answer["errors"]


async def test_the_key_service_keeps_retired_keys_as_long_as_the_longest_token(world: World):
    svc = services_of(world.app)
    before = svc.keys.retire_grace
    await patch(world, {"id_token_ttl": 3600 + 7200})
    assert (svc.keys.retire_grace - before).total_seconds() == 7200


async def test_a_second_instance_applies_a_change_within_the_cache_delay(
        keyed_database_url, tmp_path):
    async with apps_on(keyed_database_url, tmp_path, 2, registration="open") as (a, b):
        client = a.test_client()
        setup = {"username": "root", "email": "root@example.org", "password": PASSWORD}
        assert (await client.post("/api/v1/auth/setup", json=setup)).status_code == 201
        root = await login(a, "root")
        assert (await register(b, "early")).status_code == 201  # b has read the policy

        assert (await patch(root, {"registration": "closed"})).status_code == 200
        changed_at = time.monotonic()
        await problem(await register(a, "on-a"), 403, "forbidden")  # at once where changed
        # Timed by when each attempt starts: on a loaded machine one registration may
        # take a while, and what counts is which policy a request that began then met.
        attempts = 0
        started = time.monotonic()
        while (await register(b, f"b{attempts}")).status_code == 201:
            assert started - changed_at < CACHE_SECONDS + 1.0, "b never applied it"
            attempts += 1
            await asyncio.sleep(0.1)
            started = time.monotonic()
        assert started - changed_at <= CACHE_SECONDS + 1.0
        fields = (await (await b.test_client().get(URL, headers=bearer(root.access)))
                  .get_json())["fields"]
        assert fields["registration"]["source"] == "admin"


async def test_upserts_work_on_every_database(keyed_database_url, tmp_path):
    async with app_on(keyed_database_url, tmp_path) as app:
        world = await make_world(app)
        for value in (120, 180, None, 240):
            assert (await patch(world, {"access_token_ttl": value})).status_code == 200
        fields = (await (await world.ann.get(URL)).get_json())["fields"]
        assert (fields["access_token_ttl"]["value"], fields["access_token_ttl"]["source"]) \
            == (240, "admin")
        claims = jwt_claims((await login(app, "mia")).access)
        assert claims["exp"] - claims["iat"] == 240


# --- the store itself ---------------------------------------------------------------------


async def test_a_hand_edited_out_of_bounds_row_is_ignored(world: World):
    svc = services_of(world.app)
    async with svc.db.session() as session:
        session.add(InstanceSetting(name="access_token_ttl", value=5))
        session.add(InstanceSetting(name="registration", value="open"))
    effective = await svc.policy.effective(force=True)
    assert effective.access_token_ttl == 900 and effective.registration == "open"
    fields = (await (await world.root.get(URL)).get_json())["fields"]
    assert fields["access_token_ttl"]["source"] == "configuration"


class _BrokenDatabase:
    def session(self) -> Any:
        raise OSError("connection refused")


class _HangingDatabase:
    @asynccontextmanager
    async def session(self) -> AsyncIterator[Any]:
        await asyncio.sleep(60)
        yield None


async def test_the_last_known_policy_stays_while_the_database_is_unreachable(
        settings: Settings):
    store = PolicyStore(settings, _BrokenDatabase())  # type: ignore[arg-type]
    store._effective = changed = settings.model_copy(update={"registration": "closed"})
    assert await store.effective(force=True) is changed


async def test_a_hanging_database_holds_up_one_request_briefly(settings: Settings):
    store = PolicyStore(settings, _HangingDatabase())  # type: ignore[arg-type]
    store.read_timeout = 0.3
    started = time.monotonic()
    refreshing = asyncio.create_task(store.effective())
    await asyncio.sleep(0.05)
    # Others do not queue behind the read in progress: they keep the value they have.
    assert await asyncio.wait_for(store.effective(), 0.05) is settings
    assert await refreshing is settings
    assert time.monotonic() - started < 1.0


async def test_the_policy_is_read_at_most_once_per_cache_period(world: World):
    store = services_of(world.app).policy
    first = await store.effective(force=True)
    async with services_of(world.app).db.session() as session:
        session.add(InstanceSetting(name="registration", value="open"))
    assert await store.effective() is first  # cached
    store._loaded_at -= CACHE_SECONDS
    assert (await store.effective()).registration == "open"


def test_the_patch_schema_documents_the_bounds_of_configuration():
    from portico.api.admin.platform_schemas import PolicyPatch

    schema = json.dumps(PolicyPatch.model_json_schema())
    assert '"minimum": 60' in schema and '"maximum": 600' in schema
