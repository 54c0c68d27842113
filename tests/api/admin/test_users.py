"""``/api/v1/admin/users``: every route's success, input errors, isolation between
organizations, credentials refused, and the audit event each mutation writes.

The world (see conftest): root is the superadmin; ann administers acme (mia is a
member there); bob administers globex (max is a member there).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from tests.api.admin.conftest import World
from tests.api.conftest import Signed, bearer, login, problem
from tests.helpers import PASSWORD, services_of

from portico.accounts.passwords import PasswordPolicy
from portico.accounts.users import create_user
from portico.orgs.memberships import Actor, add_member
from portico.storage.models import AccessToken, ApiKey, AuditEvent, Session, User
from portico.storage.models.base import utcnow
from portico.storage.repositories.users import Users
from portico.storage.scope import OrgScope

USERS = "/api/v1/admin/users"
NEW = {"username": "nina", "email": "nina@acme.example", "password": "Nina-pass-1"}


# --- helpers (shared with test_orgs) ---------------------------------------------------


async def call(world: World, who: Signed | dict[str, str] | None, method: str, path: str,
               body: Any = None) -> Any:
    """One request as ``who`` (a signed-in person, raw headers, or nobody)."""
    headers = bearer(who.access) if isinstance(who, Signed) else dict(who or {})
    kw = {} if body is None else {"json": body}
    return await world.app.test_client().open(path, method=method, headers=headers, **kw)


async def ok(response: Any, status: int = 200) -> Any:
    body = await response.get_json() if status != 204 else None
    assert response.status_code == status, body
    return body


async def read_only_key(who: Signed) -> dict[str, str]:
    """Headers carrying a fresh read-only API key of ``who``."""
    created = await who.post("/api/v1/auth/api-keys", json={"name": "ro", "access": "read"})
    return bearer((await ok(created, 201))["key"])


async def events(world: World, action: str) -> list[AuditEvent]:
    async with services_of(world.app).db.session() as session:
        rows = await session.execute(
            select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id))
        return list(rows.scalars())


async def last_event(world: World, action: str) -> AuditEvent:
    found = await events(world, action)
    assert found, f"no {action} event"
    return found[-1]


async def as_root(world: World) -> Actor:
    async with services_of(world.app).db.session() as session:
        root = await Users(session).get(world.user_id("root"))
    return Actor(root, OrgScope.everything())


async def join(world: World, name: str, org_id: str, role: str = "member") -> None:
    """Make ``name`` a member of another organization too (as the superadmin)."""
    await add_member(services_of(world.app).db, await as_root(world), org_id,
                     world.user_id(name), role)


async def new_person(world: World, username: str, org: str, **kw: Any) -> User:
    return await create_user(services_of(world.app).db, username=username,
                             email=f"{username}@{org}.example", password=PASSWORD,
                             policy=PasswordPolicy(), rounds=4, org_slug=org, **kw)


def routes(world: World, user: str = "mia") -> list[tuple[str, str, Any, bool]]:
    """(method, path, body, mutates) for every users route, aimed at ``user``."""
    one = f"{USERS}/{world.user_id(user)}"
    return [
        ("GET", USERS, None, False),
        ("POST", USERS, NEW, True),
        ("GET", one, None, False),
        ("PATCH", one, {"name": "Renamed"}, True),
        ("POST", f"{one}/disable", None, True),
        ("POST", f"{one}/enable", None, True),
        ("DELETE", one, None, True),
        ("POST", f"{one}/reset-password", None, True),
        ("POST", f"{one}/unlock", None, True),
    ]


ROUTE_IDS = ["list", "create", "get", "patch", "disable", "enable", "delete", "reset", "unlock"]


# --- who may call ------------------------------------------------------------------------


@pytest.mark.parametrize("index", range(len(ROUTE_IDS)), ids=ROUTE_IDS)
async def test_every_route_needs_credentials(world: World, index: int):
    method, path, body, _ = routes(world)[index]
    await problem(await call(world, None, method, path, body), 401, "unauthorized")


@pytest.mark.parametrize("index", range(len(ROUTE_IDS)), ids=ROUTE_IDS)
async def test_members_are_refused_everywhere(world: World, index: int):
    method, path, body, _ = routes(world, "max")[index]
    await problem(await call(world, world.max, method, path, body), 403, "forbidden")
    await problem(await call(world, world.mia, method, path, body), 403, "forbidden")


@pytest.mark.parametrize("index", range(len(ROUTE_IDS)), ids=ROUTE_IDS)
async def test_read_only_api_keys_only_read(world: World, index: int):
    method, path, body, mutates = routes(world)[index]
    response = await call(world, await read_only_key(world.ann), method, path, body)
    if mutates:
        body = await problem(response, 403, "forbidden")
        assert "read-only" in body["detail"]
    else:
        await ok(response)


@pytest.mark.parametrize("index", range(2, len(ROUTE_IDS)), ids=ROUTE_IDS[2:])
async def test_another_organizations_people_are_not_found(world: World, index: int):
    method, path, body, _ = routes(world, "mia")[index]
    await problem(await call(world, world.bob, method, path, body), 404, "not-found")
    missing = path.replace(world.user_id("mia"), "0" * 32)
    await problem(await call(world, world.ann, method, missing, body), 404, "not-found")
    async with services_of(world.app).db.session() as session:
        mia = await Users(session).get(world.user_id("mia"))
    assert mia is not None and not mia.disabled and mia.name is None


# --- list ------------------------------------------------------------------------------------


async def test_list_shows_only_people_of_administered_organizations(world: World):
    body = await ok(await world.ann.get(USERS))
    assert [u["username"] for u in body["items"]] == ["ann", "mia"]
    assert body["next_cursor"] is None
    ann = body["items"][0]
    assert ann["memberships"] == [
        {"org_id": world.acme.id, "slug": "acme", "role": "admin", "is_owner": True}]
    assert set(ann) >= {"id", "email", "email_verified", "name", "disabled", "locked_until",
                        "must_change_password", "created_at"}
    everyone = await ok(await world.root.get(USERS))
    assert [u["username"] for u in everyone["items"]] == ["root", "ann", "mia", "bob", "max"]


async def test_list_shows_only_memberships_in_scope(world: World):
    await join(world, "mia", world.globex.id)
    mia = world.user_id("mia")
    seen_by_ann = (await ok(await world.ann.get(f"{USERS}/{mia}")))["memberships"]
    assert [m["slug"] for m in seen_by_ann] == ["acme"]
    seen_by_bob = (await ok(await world.bob.get(f"{USERS}?username=mia")))["items"]
    assert [m["slug"] for m in seen_by_bob[0]["memberships"]] == ["globex"]
    seen_by_root = (await ok(await world.root.get(f"{USERS}/{mia}")))["memberships"]
    assert [m["slug"] for m in seen_by_root] == ["acme", "globex"]


async def test_list_filters(world: World):
    async def names(who: Signed, query: str) -> list[str]:
        return [u["username"] for u in (await ok(await who.get(f"{USERS}?{query}")))["items"]]

    assert await names(world.root, "username=M") == ["mia", "max"]
    assert await names(world.root, "username=%25") == []  # wildcards are literal
    assert await names(world.root, "email=GLOBEX") == ["bob", "max"]
    assert await names(world.root, "organization=acme") == ["ann", "mia"]
    assert await names(world.root, f"organization={world.globex.id}&role=member") == ["max"]
    assert await names(world.ann, "role=admin") == ["ann"]
    async with services_of(world.app).db.session() as session:
        await session.execute(update(User).where(User.id == world.user_id("mia"))
                              .values(locked_until=utcnow() + timedelta(minutes=5)))
        await session.execute(update(User).where(User.id == world.user_id("max"))
                              .values(disabled=True, locked_until=utcnow() - timedelta(hours=1)))
    assert await names(world.root, "locked=true") == ["mia"]
    assert await names(world.root, "locked=false&disabled=true") == ["max"]
    assert await names(world.ann, "disabled=false") == ["ann", "mia"]
    mia = (await ok(await world.ann.get(f"{USERS}?locked=1")))["items"][0]
    assert mia["locked_until"] is not None


async def test_list_pages_with_a_cursor(world: World):
    seen, cursor = [], None
    for _ in range(6):
        query = f"?limit=2&cursor={cursor}" if cursor else "?limit=2"
        body = await ok(await world.root.get(USERS + query))
        seen += [u["username"] for u in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == ["root", "ann", "mia", "bob", "max"]


@pytest.mark.parametrize(("query", "field"), [
    ("limit=0", "limit"), ("limit=201", "limit"), ("limit=x", "limit"),
    ("cursor=garbage", "cursor"), ("cursor=WyJ4IiwgMV0", "cursor"), ("role=owner", "role"),
    ("disabled=perhaps", "disabled"), ("colour=red", "colour"),
])
async def test_list_refuses_bad_queries(world: World, query: str, field: str):
    body = await problem(await world.ann.get(f"{USERS}?{query}"), 400, "validation")
    assert field in body["errors"], body


async def test_list_refuses_naming_an_organization_one_does_not_administer(world: World):
    for ref in ("globex", world.globex.id, "no-such-org"):
        await problem(await world.ann.get(f"{USERS}?organization={ref}"), 403, "forbidden")
    body = await problem(await world.root.get(f"{USERS}?organization=nope"), 400, "validation")
    assert "organization" in body["errors"]


# --- create ----------------------------------------------------------------------------------


async def test_create_puts_the_person_in_the_admins_organization(world: World):
    body = await ok(await world.ann.post(USERS, json={**NEW, "name": "Nina N"}), 201)
    assert body["username"] == "nina" and body["name"] == "Nina N"
    assert body["temporary_password"] is None and body["must_change_password"] is False
    assert body["memberships"] == [
        {"org_id": world.acme.id, "slug": "acme", "role": "member", "is_owner": False}]
    await login(world.app, "nina", NEW["password"])
    event = await last_event(world, "user.created")
    assert (event.actor_id, event.org_id, event.target) == (
        world.user_id("ann"), world.acme.id, f"user:{body['id']}")
    assert event.ip and event.details["role"] == "member"
    assert NEW["password"] not in str(event.details)


async def test_create_without_a_password_shows_a_temporary_one_once(world: World):
    new = {"username": "otto", "email": "otto@globex.example", "role": "admin"}
    body = await ok(await world.bob.post(USERS, json=new), 201)
    assert body["must_change_password"] is True and len(body["temporary_password"]) >= 20
    assert body["memberships"][0]["role"] == "admin"
    otto = await login(world.app, "otto", body["temporary_password"])
    await problem(await otto.get("/api/v1/auth/sessions"), 403, "password-change-required")
    fetched = await ok(await world.bob.get(f"{USERS}/{body['id']}"))
    assert "temporary_password" not in fetched
    event = await last_event(world, "user.created")
    assert event.details["forced_change"] is True
    assert body["temporary_password"] not in str(event.details)


async def test_create_in_a_named_organization(world: World):
    body = await ok(await world.root.post(USERS, json={**NEW, "organization": "globex"}), 201)
    assert [m["slug"] for m in body["memberships"]] == ["globex"]
    await problem(await world.ann.post(USERS, json={**NEW, "organization": "globex"}), 403,
                  "forbidden")
    await problem(await world.ann.post(USERS, json={**NEW, "organization": world.globex.id}),
                  403, "forbidden")


async def test_create_reports_taken_usernames_and_emails(world: World):
    taken = {"username": "MIA", "email": "ann@acme.example", "password": "Good-pass-1"}
    body = await problem(await world.ann.post(USERS, json=taken), 409, "conflict")
    assert body["errors"] == {"username": "already taken", "email": "already registered"}
    # Taken anywhere, not only in the caller's organizations (bob's address):
    other = {**NEW, "email": "bob@globex.example"}
    assert (await problem(await world.ann.post(USERS, json=other), 409, "conflict"))[
        "errors"] == {"email": "already registered"}


@pytest.mark.parametrize(("change", "field", "kind"), [
    ({"password": "short"}, "password", "password-policy"),
    ({"email": "not-an-email"}, "email", "validation"),
    ({"username": "has space"}, "username", "validation"),
    ({"username": None}, "username", "validation"),
    ({"role": "owner"}, "role", "validation"),
    ({"name": "bad\x00name"}, "body", "validation"),  # the input guard's answer
    ({"is_superadmin": True}, "is_superadmin", "validation"),
])
async def test_create_refuses_bad_input(world: World, change: dict[str, Any], field: str,
                                        kind: str):
    before = len(await events(world, "user.created"))
    body = await problem(await world.ann.post(USERS, json={**NEW, **change}), 400, kind)
    assert field in body["errors"], body
    assert len(await events(world, "user.created")) == before


async def test_missing_fields_are_named(world: World):
    body = await problem(await world.ann.post(USERS, json={}), 400, "validation")
    assert {"username", "email"} <= set(body["errors"])


# --- get and patch ------------------------------------------------------------------------------


async def test_get_one_person(world: World):
    body = await ok(await world.ann.get(f"{USERS}/{world.user_id('mia')}"))
    assert body["username"] == "mia" and body["email"] == "mia@acme.example"
    assert (await ok(await world.root.get(f"{USERS}/{world.user_id('max')}")))["id"] == \
        world.user_id("max")


async def test_patch_changes_the_profile(world: World):
    mia = world.user_id("mia")
    async with services_of(world.app).db.session() as session:
        await session.execute(update(User).where(User.id == mia).values(email_verified=True))
    body = await ok(await call(world, world.ann, "PATCH", f"{USERS}/{mia}",
                               {"username": "Mia2", "email": "Mia2@Acme.example", "name": "M"}))
    assert (body["username"], body["email"], body["name"]) == ("Mia2", "mia2@acme.example", "M")
    assert body["email_verified"] is False  # a new address is unverified
    await login(world.app, "MIA2")
    event = await last_event(world, "user.updated")
    assert (event.actor_id, event.org_id, event.target) == (
        world.user_id("ann"), world.acme.id, f"user:{mia}")
    assert sorted(event.details["changed"]) == ["email", "email_verified", "name", "username"]
    body = await ok(await call(world, world.ann, "PATCH", f"{USERS}/{mia}",
                               {"email_verified": True, "name": None}))
    assert body["email_verified"] is True and body["name"] is None
    before = len(await events(world, "user.updated"))
    await ok(await call(world, world.ann, "PATCH", f"{USERS}/{mia}", {"name": None}))
    assert len(await events(world, "user.updated")) == before  # nothing changed


async def test_patch_reports_taken_fields(world: World):
    path = f"{USERS}/{world.user_id('mia')}"
    body = await problem(await call(world, world.ann, "PATCH", path,
                                    {"username": "ANN", "email": "max@globex.example"}),
                         409, "conflict")
    assert body["errors"] == {"username": "already taken", "email": "already registered"}
    await ok(await call(world, world.ann, "PATCH", path, {"username": "mia"}))  # its own


@pytest.mark.parametrize(("change", "field"), [
    ({"username": None}, "username"), ({"email": "nope"}, "email"),
    ({"email_verified": "maybe"}, "email_verified"), ({"disabled": True}, "disabled"),
    ({"username": ""}, "username"), ({"name": "x" * 201}, "name"),
])
async def test_patch_refuses_bad_input(world: World, change: dict[str, Any], field: str):
    path = f"{USERS}/{world.user_id('mia')}"
    body = await problem(await call(world, world.ann, "PATCH", path, change), 400, "validation")
    assert field in body["errors"], body


# --- account-level changes need every organization of the person ------------------------


@pytest.mark.parametrize("index", range(3, len(ROUTE_IDS)), ids=ROUTE_IDS[3:])
async def test_account_changes_need_all_of_the_persons_organizations(world: World,
                                                                       index: int):
    await join(world, "mia", world.globex.id)
    method, path, body, _ = routes(world, "mia")[index]
    refused = await problem(await call(world, world.ann, method, path, body), 403, "forbidden")
    assert "do not administer" in refused["detail"]
    assert (await ok(await world.ann.get(f"{USERS}/{world.user_id('mia')}")))["id"]


@pytest.mark.parametrize("index", range(3, len(ROUTE_IDS)), ids=ROUTE_IDS[3:])
async def test_only_the_superadmin_acts_on_a_superadmin(world: World, index: int):
    other = await new_person(world, "root2", "acme", superadmin=True)
    method, path, body, _ = routes(world)[index]
    path = path.replace(world.user_id("mia"), other.id)
    refused = await problem(await call(world, world.ann, method, path, body), 403, "forbidden")
    assert "superadmin" in refused["detail"]
    assert (await call(world, world.root, method, path, body)).status_code in (200, 204)


@pytest.mark.parametrize("index", range(3, len(ROUTE_IDS)), ids=ROUTE_IDS[3:])
async def test_only_the_superadmin_acts_on_an_owners_account(world: World, index: int):
    """Another admin of acme could otherwise reset ann's password and take acme."""
    await ok(await call(world, world.ann, "PATCH",
                        f"/api/v1/admin/organizations/{world.acme.id}/members/"
                        f"{world.user_id('mia')}", {"role": "admin"}))
    method, path, body, _ = routes(world, "ann")[index]
    refused = await problem(await call(world, world.mia, method, path, body), 403, "forbidden")
    assert "owner" in refused["detail"]
    await ok(await world.ann.get("/api/v1/auth/me"))


async def test_admins_change_their_own_profile(world: World):
    me = f"{USERS}/{world.user_id('ann')}"
    assert (await ok(await call(world, world.ann, "PATCH", me, {"name": "Ann A"})))["name"] \
        == "Ann A"


# --- disable, enable, delete ------------------------------------------------------------------


async def test_disable_revokes_every_credential_and_enable_lets_them_back(world: World):
    mia = world.user_id("mia")
    key = await ok(await world.mia.post("/api/v1/auth/api-keys",
                                        json={"name": "k", "access": "read_write"}), 201)
    body = await ok(await world.ann.post(f"{USERS}/{mia}/disable"))
    assert body["disabled"] is True
    await problem(await world.mia.get("/api/v1/auth/me"), 401, "unauthorized")
    await problem(await call(world, bearer(key["key"]), "GET", "/api/v1/auth/me"), 401,
                  "unauthorized")
    async with services_of(world.app).db.session() as session:
        live = [(await session.execute(select(model).where(model.user_id == mia,
                                                           model.revoked_at.is_(None)))).first()
                for model in (Session, AccessToken, ApiKey)]
    assert live == [None, None, None]
    event = await last_event(world, "user.disabled")
    assert (event.actor_id, event.org_id, event.target) == (
        world.user_id("ann"), world.acme.id, f"user:{mia}")
    assert event.details["session_count"] == 1 and event.details["api_key_count"] == 1
    assert event.ip
    response = await world.app.test_client().post(
        "/api/v1/auth/login", json={"username": "mia", "password": PASSWORD})
    await problem(response, 401, "unauthorized")

    body = await ok(await world.ann.post(f"{USERS}/{mia}/enable"))
    assert body["disabled"] is False
    await login(world.app, "mia")
    assert (await last_event(world, "user.enabled")).actor_id == world.user_id("ann")
    await ok(await world.ann.post(f"{USERS}/{mia}/enable"))  # already enabled: no change
    assert len(await events(world, "user.enabled")) == 1


async def test_nobody_disables_or_deletes_themselves(world: World):
    for who, name in ((world.ann, "ann"), (world.root, "root")):
        me = f"{USERS}/{world.user_id(name)}"
        await problem(await who.post(f"{me}/disable"), 409, "conflict")
        await problem(await who.delete(me), 409, "conflict")
    assert await events(world, "user.disabled") == []


async def test_delete_removes_the_account(world: World):
    mia = world.user_id("mia")
    assert (await world.ann.delete(f"{USERS}/{mia}")).status_code == 204
    await problem(await world.ann.get(f"{USERS}/{mia}"), 404, "not-found")
    await problem(await world.mia.get("/api/v1/auth/me"), 401, "unauthorized")
    event = await last_event(world, "user.deleted")
    assert (event.actor_id, event.org_id, event.target) == (
        world.user_id("ann"), world.acme.id, f"user:{mia}")
    assert event.details["username"] == "mia" and event.ip


async def test_delete_never_takes_an_owner_or_the_last_admin(world: World):
    body = await problem(await world.root.delete(f"{USERS}/{world.user_id('ann')}"), 409,
                         "conflict")
    assert "transfer ownership" in body["detail"]
    org = await ok(await world.root.post("/api/v1/admin/organizations",
                                         json={"name": "Ownerless"}), 201)
    await join(world, "max", org["id"], "admin")
    body = await problem(await world.root.delete(f"{USERS}/{world.user_id('max')}"), 409,
                         "conflict")
    assert "last admin" in body["detail"]
    await join(world, "mia", org["id"], "admin")
    assert (await world.root.delete(f"{USERS}/{world.user_id('max')}")).status_code == 204
    assert await events(world, "user.deleted") != []


# --- reset password and unlock --------------------------------------------------------------


async def test_reset_password_gives_a_temporary_password_once(world: World):
    mia = world.user_id("mia")
    body = await ok(await world.ann.post(f"{USERS}/{mia}/reset-password"))
    assert body["must_change_password"] is True and len(body["temporary_password"]) >= 20
    await problem(await world.mia.get("/api/v1/auth/me"), 401, "unauthorized")
    again = await login(world.app, "mia", body["temporary_password"])
    await problem(await again.get("/api/v1/auth/sessions"), 403, "password-change-required")
    event = await last_event(world, "password.reset_by_admin")
    assert (event.actor_id, event.org_id, event.target) == (
        world.user_id("ann"), world.acme.id, f"user:{mia}")
    assert event.ip and body["temporary_password"] not in str(event.details)


async def test_unlock_lifts_a_lockout(world: World):
    mia = world.user_id("mia")
    async with services_of(world.app).db.session() as session:
        await session.execute(update(User).where(User.id == mia).values(
            failed_logins=5, locked_until=utcnow() + timedelta(minutes=10)))
    assert (await ok(await world.ann.get(f"{USERS}/{mia}")))["locked_until"] is not None
    body = await ok(await world.ann.post(f"{USERS}/{mia}/unlock"))
    assert body["locked_until"] is None
    await login(world.app, "mia")
    event = await last_event(world, "account.unlocked")
    assert (event.actor_id, event.org_id, event.target) == (
        world.user_id("ann"), world.acme.id, f"user:{mia}")
    assert event.ip and event.details["was_locked"] is True


# --- input no database could store ------------------------------------------------------


async def test_unstorable_input_is_a_clean_error(world: World):
    headers = {**bearer(world.ann.access), "Content-Type": "application/json"}
    raw = ('{"username": "nina", "email": "nina@acme.example", "password": "Nina-pass-1\\ud800",'
           ' "name": "N\\udfff"}')
    response = await world.app.test_client().post(USERS, headers=headers, data=raw)
    # Lone surrogates are refused for every JSON route by the input guard.
    body = await problem(response, 400, "validation")
    assert "body" in body["errors"]
    response = await world.app.test_client().patch(
        f"{USERS}/{world.user_id('mia')}", headers=headers, data='{"email": "\\ud800@x.org"}')
    assert "body" in (await problem(response, 400, "validation"))["errors"]
    for bad in ("%00", "a%00b", "x" * 3000, "%C3%28"):
        await problem(await world.ann.get(f"{USERS}/{bad}"), 404, "not-found")
        await problem(await world.ann.post(f"{USERS}/{bad}/disable"), 404, "not-found")
