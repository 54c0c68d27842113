"""``/api/v1/admin/clients``: relying parties per organization, secrets shown once."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from joserfc.jwk import RSAKey
from sqlalchemy import func, select
from tests.api.admin.conftest import World, make_world
from tests.api.admin.test_policy import app_on
from tests.api.conftest import bearer, problem
from tests.helpers import REDIRECT, Browser, pkce, services_of
from tests.protocol.conftest import RP

from portico.protocol.first_party import SYSTEM_CLIENT_ID
from portico.storage.models import AccessToken, AuditEvent, RefreshToken
from portico.storage.repositories.orgs import ScopedOrganizations
from portico.storage.scope import OrgScope

URL = "/api/v1/admin/clients"
WEB = {"name": "Notes", "redirect_uris": [REDIRECT],
       "post_logout_redirect_uris": ["https://rp.example/bye"]}
SERVICE = {"name": "Batch", "grant_types": ["client_credentials"]}


async def create(signed: Any, body: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    response = await signed.post(URL, json={**(body or WEB), **extra})
    created = await response.get_json()
    assert response.status_code == 201, created
    return created


async def patch(signed: Any, client_id: str, body: dict[str, Any]) -> Any:
    return await signed.client().patch(f"{URL}/{client_id}", headers=bearer(signed.access),
                                       json=body)


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode())
            .decode()}


async def client_credentials(app: Any, client_id: str, secret: str, *, post: bool = False) -> Any:
    form = {"grant_type": "client_credentials"}
    if post:
        form.update(client_id=client_id, client_secret=secret)
        return await app.test_client().post("/token", form=form)
    return await app.test_client().post("/token", form=form, headers=basic(client_id, secret))


async def events(world: World, action: str) -> list[AuditEvent]:
    async with services_of(world.app).db.session() as session:
        rows = await session.execute(select(AuditEvent).where(AuditEvent.action == action)
                                     .order_by(AuditEvent.id))
        return list(rows.scalars())


# --- creating -----------------------------------------------------------------------------


async def test_an_admin_of_one_organization_creates_a_client_there(world: World):
    created = await create(world.ann)
    secret = created["client_secret"]
    assert created["organization_id"] == world.acme.id and len(secret) >= 43
    assert created["redirect_uris"] == [REDIRECT] and created["public"] is False
    assert created["grant_types"] == ["authorization_code", "refresh_token"]

    shown = await world.ann.get(f"{URL}/{created['client_id']}")
    text = await shown.get_data(as_text=True)
    assert shown.status_code == 200 and secret not in text
    assert "client_secret" not in await shown.get_json()
    listed = await world.ann.get(URL)
    assert [c["client_id"] for c in (await listed.get_json())["items"]] == [created["client_id"]]
    assert secret not in await listed.get_data(as_text=True)

    [event] = await events(world, "client.created")
    assert (event.org_id, event.actor_id, event.target) == (
        world.acme.id, world.user_id("ann"), f"client:{created['client_id']}")
    assert secret not in json.dumps(event.details) and event.details["via"] == "api"


async def test_the_secret_shown_once_works_and_rotation_retires_the_old_one(world: World):
    created = await create(world.ann, SERVICE)
    old = created["client_secret"]
    assert (await client_credentials(world.app, created["client_id"], old)).status_code == 200

    response = await world.ann.post(f"{URL}/{created['client_id']}/secret")
    rotated = await response.get_json()
    assert response.status_code == 200, rotated
    new = rotated["client_secret"]
    assert rotated["client_id"] == created["client_id"] and new != old and len(new) >= 43
    refused = await client_credentials(world.app, created["client_id"], old)
    assert refused.status_code == 401
    assert (await refused.get_json())["error"] == "invalid_client"
    assert (await client_credentials(world.app, created["client_id"], new)).status_code == 200

    [event] = await events(world, "client.secret_rotated")
    assert event.org_id == world.acme.id and event.actor_id == world.user_id("ann")
    assert old not in json.dumps(event.details) and new not in json.dumps(event.details)
    everything = await (await world.root.get("/api/v1/admin/audit?limit=200")).get_data(
        as_text=True)
    assert old not in everything and new not in everything


async def test_public_clients_get_no_secret_and_nothing_to_rotate(world: World):
    created = await create(world.ann, token_endpoint_auth_method="none")
    assert created["client_secret"] is None and created["public"] is True
    answer = await problem(await world.ann.post(f"{URL}/{created['client_id']}/secret"),
                           409, "conflict")
    assert "none" in answer["detail"]


async def test_http_redirects_are_allowed_on_loopback_only(world: World):
    created = await create(world.ann, redirect_uris=["http://127.0.0.1:9000/cb",
                                                     "http://localhost/cb"])
    assert created["redirect_uris"][0] == "http://127.0.0.1:9000/cb"


@pytest.mark.parametrize(("body", "field"), [
    ({"redirect_uris": ["http://rp.example/cb"]}, "redirect_uris.0"),
    ({"redirect_uris": [REDIRECT, "https://rp.example/cb#frag"]}, "redirect_uris.1"),
    ({"redirect_uris": ["/relative"]}, "redirect_uris.0"),
    ({"redirect_uris": ["https:///nohost"]}, "redirect_uris.0"),
    ({"redirect_uris": ["javascript:alert(1)"]}, "redirect_uris.0"),
    ({"redirect_uris": ["https://rp.example/a b"]}, "redirect_uris.0"),
    ({"redirect_uris": []}, "redirect_uris"),
    ({"post_logout_redirect_uris": ["http://rp.example/bye"]}, "post_logout_redirect_uris.0"),
    ({"name": ""}, "name"),
    ({"name": "tab\there"}, "name"),
    ({"name": None}, "name"),
    ({"token_endpoint_auth_method": "client_secret_jwt"}, "token_endpoint_auth_method"),
    ({"grant_types": ["implicit"]}, "grant_types.0"),
    ({"token_endpoint_auth_method": "none", "grant_types": ["client_credentials"]},
     "grant_types"),
    ({"token_endpoint_auth_method": "private_key_jwt"}, "jwks"),
    ({"token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": "nope"}}, "jwks"),
    ({"scope": "openid admin"}, "scope"),
    ({"id_token_signed_response_alg": "HS256"}, "id_token_signed_response_alg"),
    ({"jwks_uri": "ftp://keys.example/jwks"}, "jwks_uri"),
    ({"bogus": 1}, "bogus"),
    ({"redirect_uris": "https://rp.example/cb"}, "redirect_uris"),
])
async def test_invalid_clients_are_refused_naming_the_field(world: World, body, field):
    answer = await problem(await world.ann.post(URL, json={**WEB, **body}), 400, "validation")
    assert field in answer["errors"], answer
    assert (await (await world.ann.get(URL)).get_json())["items"] == []


async def test_a_private_key_in_jwks_is_refused_and_public_keys_are_kept(world: World):
    key = RSAKey.generate_key(2048, auto_kid=True)
    private = {"keys": [key.as_dict(private=True)]}
    body = {**WEB, "token_endpoint_auth_method": "private_key_jwt", "jwks": private}
    answer = await problem(await world.ann.post(URL, json=body), 400, "validation")
    assert answer["errors"]["jwks"] == "public keys only"
    created = await create(world.ann, body, jwks={"keys": [key.as_dict(private=False)]})
    assert created["client_secret"] is None
    assert "d" not in created["jwks"]["keys"][0]


async def test_members_cannot_manage_clients(world: World):
    await problem(await world.mia.get(URL), 403, "forbidden")
    await problem(await world.mia.post(URL, json=WEB), 403, "forbidden")


async def test_every_route_needs_a_credential(world: World):
    created = await create(world.ann)
    path = f"{URL}/{created['client_id']}"
    anonymous = world.app.test_client()
    for response in (await anonymous.get(URL), await anonymous.post(URL, json=WEB),
                     await anonymous.get(path), await anonymous.patch(path, json={"name": "x"}),
                     await anonymous.delete(path), await anonymous.post(f"{path}/secret")):
        await problem(response, 401, "unauthorized")


async def test_a_read_only_api_key_reads_but_never_changes(world: World):
    created = await create(world.ann)
    path = f"{URL}/{created['client_id']}"
    key = (await (await world.ann.post("/api/v1/auth/api-keys",
                                       json={"name": "r", "access": "read"})).get_json())["key"]
    client, auth = world.app.test_client(), bearer(key)
    assert (await client.get(URL, headers=auth)).status_code == 200
    assert (await client.get(path, headers=auth)).status_code == 200
    for response in (await client.post(URL, headers=auth, json=WEB),
                     await client.patch(path, headers=auth, json={"name": "x"}),
                     await client.delete(path, headers=auth),
                     await client.post(f"{path}/secret", headers=auth)):
        await problem(response, 403, "forbidden")
    assert (await (await world.ann.get(path)).get_json())["name"] == "Notes"


# --- isolation ----------------------------------------------------------------------------


async def test_another_organizations_client_is_not_found(world: World):
    theirs = await create(world.bob)
    for client_id in (theirs["client_id"], "no-such-client"):
        path = f"{URL}/{client_id}"
        await problem(await world.ann.get(path), 404, "not-found")
        await problem(await patch(world.ann, client_id, {"name": "mine now"}), 404, "not-found")
        await problem(await world.ann.delete(path), 404, "not-found")
        await problem(await world.ann.post(f"{path}/secret"), 404, "not-found")
    assert (await (await world.ann.get(URL)).get_json())["items"] == []
    shown = await (await world.bob.get(f"{URL}/{theirs['client_id']}")).get_json()
    assert shown["name"] == "Notes"


async def test_naming_an_organization_you_do_not_administer_is_forbidden(world: World):
    for ref in (world.globex.slug, world.globex.id, "no-such-org"):
        await problem(await world.ann.post(URL, json={**WEB, "organization": ref}), 403,
                      "forbidden")
        await problem(await world.ann.get(URL, query_string={"organization": ref}), 403,
                      "forbidden")
    answer = await problem(await world.root.get(URL, query_string={"organization": "nope"}),
                           400, "validation")
    assert "organization" in answer["errors"]


async def test_an_admin_of_several_organizations_must_name_one(world: World):
    async with services_of(world.app).db.session() as session:
        await ScopedOrganizations(session, OrgScope.everything()).add_member(
            world.globex.id, world.user_id("ann"), "admin")
    answer = await problem(await world.ann.post(URL, json=WEB), 400, "validation")
    assert "organization" in answer["errors"]
    created = await create(world.ann, organization=world.globex.slug)
    assert created["organization_id"] == world.globex.id
    assert [c["client_id"] for c in (await (await world.bob.get(URL)).get_json())["items"]] \
        == [created["client_id"]]


async def test_the_superadmin_sees_all_and_owns_instance_wide_clients(world: World):
    acme = await create(world.ann)
    globex = await create(world.bob)
    instance = await create(world.root)
    assert instance["organization_id"] is None
    assert (await create(world.root, organization="acme"))["organization_id"] == world.acme.id

    listed = await (await world.root.get(URL)).get_json()
    ids = [c["client_id"] for c in listed["items"]]
    assert {acme["client_id"], globex["client_id"], instance["client_id"]} <= set(ids)
    assert len(ids) == 4
    only_acme = await (await world.root.get(URL, query_string={"organization": "acme"}))\
        .get_json()
    assert {c["organization_id"] for c in only_acme["items"]} == {world.acme.id}
    assert len(only_acme["items"]) == 2

    await problem(await world.ann.get(f"{URL}/{instance['client_id']}"), 404, "not-found")
    assert instance["client_id"] not in await (await world.ann.get(URL)).get_data(as_text=True)


async def test_the_built_in_client_is_never_listed_changed_or_deleted(world: World):
    path = f"{URL}/{SYSTEM_CLIENT_ID}"
    listed = await (await world.root.get(URL)).get_json()
    assert SYSTEM_CLIENT_ID not in [c["client_id"] for c in listed["items"]]
    await problem(await world.root.get(path), 404, "not-found")
    await problem(await patch(world.root, SYSTEM_CLIENT_ID, {"name": "x"}), 404, "not-found")
    await problem(await world.root.post(f"{path}/secret"), 404, "not-found")
    await problem(await world.root.delete(path), 404, "not-found")
    assert (await world.ann.get("/api/v1/auth/me")).status_code == 200  # still signs people in


async def test_first_party_trust_is_the_superadmins_call(world: World):
    await problem(await world.ann.post(URL, json={**WEB, "first_party": True}), 403,
                  "forbidden")
    trusted = await create(world.root, organization="acme", first_party=True)
    assert trusted["first_party"] is True
    await problem(await patch(world.ann, trusted["client_id"], {"first_party": False}), 403,
                  "forbidden")
    renamed = await patch(world.ann, trusted["client_id"], {"name": "Renamed",
                                                           "first_party": True})
    assert renamed.status_code == 200 and (await renamed.get_json())["first_party"] is True
    ordinary = await create(world.ann)
    await problem(await patch(world.ann, ordinary["client_id"], {"first_party": True}), 403,
                  "forbidden")
    changed = await patch(world.root, ordinary["client_id"], {"first_party": True})
    assert (await changed.get_json())["first_party"] is True


# --- changing and deleting ----------------------------------------------------------------


async def test_patch_changes_only_what_it_names_and_is_audited(world: World):
    created = await create(world.ann)
    response = await patch(world.ann, created["client_id"], {
        "name": "Notes 2", "redirect_uris": ["https://rp.example/cb2"], "scope": "openid email"})
    body = await response.get_json()
    assert response.status_code == 200, body
    assert (body["name"], body["redirect_uris"], body["scope"]) == (
        "Notes 2", ["https://rp.example/cb2"], "openid email")
    assert body["post_logout_redirect_uris"] == WEB["post_logout_redirect_uris"]
    assert body["client_secret"] is None
    [event] = await events(world, "client.updated")
    assert sorted(event.details["changed"]) == ["name", "redirect_uris", "scope"]
    assert event.org_id == world.acme.id


@pytest.mark.parametrize(("body", "field"), [
    ({"redirect_uris": ["http://rp.example/cb"]}, "redirect_uris.0"),
    ({"name": None}, "name"),
    ({"grant_types": None}, "grant_types"),
    ({"token_endpoint_auth_method": "private_key_jwt"}, "jwks"),
    ({"organization": "globex"}, "organization"),
    ({"client_secret": "mine"}, "client_secret"),
])
async def test_invalid_patches_change_nothing(world: World, body, field):
    created = await create(world.ann)
    answer = await problem(await patch(world.ann, created["client_id"], body), 400,
                           "validation")
    assert field in answer["errors"], answer
    shown = await (await world.ann.get(f"{URL}/{created['client_id']}")).get_json()
    assert shown["redirect_uris"] == [REDIRECT] and shown["name"] == "Notes"
    assert not await events(world, "client.updated")


async def test_switching_authentication_methods_issues_or_drops_the_secret(world: World):
    created = await create(world.ann, SERVICE)
    client_id, secret = created["client_id"], created["client_secret"]
    to_post = await (await patch(world.ann, client_id, {
        "token_endpoint_auth_method": "client_secret_post"})).get_json()
    assert to_post["client_secret"] is None  # the same secret, now sent in the form
    assert (await client_credentials(world.app, client_id, secret, post=True)).status_code == 200

    public = await (await patch(world.ann, client_id, {
        "token_endpoint_auth_method": "none", "grant_types": ["refresh_token"]})).get_json()
    assert public["public"] is True and public["client_secret"] is None
    back = await (await patch(world.ann, client_id, {
        "token_endpoint_auth_method": "client_secret_basic",
        "grant_types": ["client_credentials"]})).get_json()
    fresh = back["client_secret"]
    assert fresh and fresh != secret
    assert (await client_credentials(world.app, client_id, secret)).status_code == 401
    assert (await client_credentials(world.app, client_id, fresh)).status_code == 200
    text = json.dumps([e.details for e in await events(world, "client.updated")])
    assert secret not in text and fresh not in text


async def signed_in_rp(world: World, client: dict[str, Any]) -> RP:
    """mia, signed in through the hosted pages, consented to ``client``."""
    browser = Browser(world.app.test_client())
    _, challenge = pkce()
    response = await browser.authorize(
        client_id=client["client_id"], redirect_uri=REDIRECT, response_type="code",
        scope="openid offline_access", code_challenge=challenge, code_challenge_method="S256")
    response = await browser.consent(await browser.login(response, "mia"))
    await browser.follow(response)
    return RP(world.app, client["client_id"], client["client_secret"], browser)


async def test_deleting_a_client_revokes_everything_issued_to_it(world: World):
    created = await create(world.ann)
    rp = await signed_in_rp(world, created)
    tokens = await rp.tokens(scope="openid offline_access")
    userinfo = world.app.test_client()
    assert (await userinfo.get("/userinfo", headers=bearer(tokens["access_token"]))) \
        .status_code == 200

    response = await world.ann.delete(f"{URL}/{created['client_id']}")
    assert response.status_code == 204
    assert (await userinfo.get("/userinfo", headers=bearer(tokens["access_token"]))) \
        .status_code == 401
    refreshed = await rp.token({"grant_type": "refresh_token",
                                "refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code in (400, 401)
    await problem(await world.ann.get(f"{URL}/{created['client_id']}"), 404, "not-found")
    await problem(await world.ann.delete(f"{URL}/{created['client_id']}"), 404, "not-found")
    [event] = await events(world, "client.removed")
    assert (event.actor_id, event.org_id) == (world.user_id("ann"), world.acme.id)


async def test_pages_follow_the_cursor(world: World):
    made = [(await create(world.root, name=f"c{i}"))["client_id"] for i in range(5)]
    seen: list[str] = []
    cursor = None
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = await (await world.root.get(URL, query_string=query)).get_json()
        seen += [c["client_id"] for c in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == made
    for query, field in (({"limit": "0"}, "limit"), ({"limit": "201"}, "limit"),
                         ({"limit": "many"}, "limit"), ({"cursor": "garbage"}, "cursor"),
                         ({"cursor": base64.urlsafe_b64encode(b'["x", 1]').decode()}, "cursor"),
                         ({"colour": "red"}, "colour")):
        answer = await problem(await world.root.get(URL, query_string=query), 400,
                               "validation")
        assert field in answer["errors"], answer


async def test_scoping_and_revocation_hold_on_every_database(keyed_database_url, tmp_path):
    async with app_on(keyed_database_url, tmp_path) as app:
        world = await make_world(app)
        mine = await create(world.ann, SERVICE)
        theirs = await create(world.bob, SERVICE)
        listed = await (await world.ann.get(URL)).get_json()
        assert [c["client_id"] for c in listed["items"]] == [mine["client_id"]]
        await problem(await world.ann.get(f"{URL}/{theirs['client_id']}"), 404, "not-found")
        issued = await client_credentials(app, mine["client_id"], mine["client_secret"])
        assert issued.status_code == 200
        assert (await world.ann.delete(f"{URL}/{mine['client_id']}")).status_code == 204
        async with services_of(app).db.session() as session:
            for model in (AccessToken, RefreshToken):
                count = await session.execute(select(func.count()).select_from(model).where(
                    model.client_id == mine["client_id"]))
                assert count.scalar_one() == 0
        assert (await world.bob.get(f"{URL}/{theirs['client_id']}")).status_code == 200
