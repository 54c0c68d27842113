"""The admin API for providers: kinds, CRUD (superadmin), reads for any admin, tests
against a real upstream, mapping previews, audit, and a secret never given back."""

from __future__ import annotations

import json

from sqlalchemy import select
from tests.api.admin.conftest import World
from tests.api.conftest import problem
from tests.conftest import free_port
from tests.federation.conftest import Upstream
from tests.helpers import services_of

from portico.storage.models import AuditEvent, IdentityProvider

BASE = "/api/v1/admin/external-auth"


async def _create(world: World, body: dict) -> dict:
    response = await world.root.post(f"{BASE}/providers", json=body)
    data = await response.get_json()
    assert response.status_code == 201, data
    return data


async def test_the_kinds_are_listed_with_their_options_and_presets(world: World):
    response = await world.ann.get(f"{BASE}/provider-kinds")
    kinds = {k["name"]: k for k in (await response.get_json())["items"]}
    assert set(kinds) == {"oidc", "oauth2", "github", "google", "microsoft", "gitlab"}
    assert kinds["github"]["default_scopes"] == ["read:user", "user:email"]
    assert kinds["microsoft"]["issuer"] == "derived"
    assert "authorization_endpoint" in kinds["oauth2"]["options_schema"]["properties"]
    assert (await world.mia.get(f"{BASE}/provider-kinds")).status_code == 403


async def test_crud_keeps_the_secret_write_only_and_audits_every_change(
        world: World, upstream: Upstream):
    created = await _create(world, upstream.provider())
    assert created["has_client_secret"] is True and "client_secret" not in created
    assert created["version"] == 1 and created["scopes"] == ["openid", "email", "profile"]
    pid = created["id"]

    patched = await world.root.client().patch(
        f"{BASE}/providers/{pid}", json={"display_name": "Renamed", "client_secret": "n3w-s3cret"
                                         "-value-long-enough-0000000000"},
        headers={"Authorization": f"Bearer {world.root.access}"})
    body = await patched.get_json()
    assert patched.status_code == 200, body
    assert body["version"] == 2 and body["display_name"] == "Renamed"

    listed = await (await world.ann.get(f"{BASE}/providers")).get_json()
    assert [p["slug"] for p in listed["items"]] == ["upstream"] and listed["next_cursor"] is None
    one = await world.bob.get(f"{BASE}/providers/{pid}")
    for text in (json.dumps(created), json.dumps(body), json.dumps(listed),
                 await one.get_data(as_text=True)):
        assert upstream.client_secret not in text and "n3w-s3cret" not in text

    assert (await world.root.delete(f"{BASE}/providers/{pid}")).status_code == 204
    await problem(await world.root.get(f"{BASE}/providers/{pid}"), 404, "not-found")
    async with services_of(world.app).db.session() as s:
        events = list(await s.scalars(select(AuditEvent).where(
            AuditEvent.action.like("provider.%")).order_by(AuditEvent.id)))
    assert [e.action for e in events] == ["provider.created", "provider.updated",
                                          "provider.deleted"]
    assert events[1].details["credentials_changed"] is True
    dumped = json.dumps([e.details for e in events])
    assert upstream.client_secret not in dumped and "n3w-s3cret" not in dumped


async def test_only_the_superadmin_changes_providers(world: World, upstream: Upstream):
    body = upstream.provider()
    await problem(await world.ann.post(f"{BASE}/providers", json=body), 403, "forbidden")
    await problem(await world.mia.get(f"{BASE}/providers"), 403, "forbidden")
    created = await _create(world, body)
    await problem(await world.ann.delete(f"{BASE}/providers/{created['id']}"), 403,
                  "forbidden")
    await problem(await world.ann.post(f"{BASE}/providers/{created['id']}/test"), 403,
                  "forbidden")


async def test_bad_configurations_are_refused_naming_the_field(world: World,
                                                               upstream: Upstream):
    cases = [
        ({"kind": "saml"}, "kind"),
        ({"issuer": None}, "issuer"),
        ({"issuer": "http://idp.example.com"}, "issuer"),
        ({"slug": "Not A Slug"}, "slug"),
        ({"claim_mapping": {"username": {"template": 3}}}, "claim_mapping.username.template"),
        ({"claim_mapping": {"shoe_size": "x"}}, "claim_mapping.shoe_size"),
        ({"claim_mapping": {"subject": None}}, "claim_mapping.subject"),
        ({"email_domains": ["not a domain"]}, "email_domains"),
        ({"options": {"fetch_userinfo": "perhaps", "nope": 1}}, "options.nope"),
        ({"icon": "https://cdn.example/x.png"}, "icon"),
        ({"org_id": "nope"}, "org_id"),
    ]
    for change, field in cases:
        body = {**upstream.provider(), **change}
        answer = await problem(await world.root.post(f"{BASE}/providers", json=body), 400,
                               "validation")
        assert field in answer["errors"], (change, answer)
    await _create(world, upstream.provider())
    taken = await problem(await world.root.post(f"{BASE}/providers", json=upstream.provider()),
                          409, "conflict")
    assert taken["errors"] == {"slug": "already taken"}
    async with services_of(world.app).db.session() as s:
        assert len(list(await s.scalars(select(IdentityProvider)))) == 1


async def test_a_saved_provider_is_tested_against_the_real_upstream(world: World,
                                                                   upstream: Upstream):
    good = await _create(world, upstream.provider())
    report = await (await world.root.post(f"{BASE}/providers/{good['id']}/test")).get_json()
    checks = {c["name"]: c for c in report["checks"]}
    assert report["ok"] is True, report
    assert set(checks) >= {"discovery", "issuer", "jwks", "algorithms", "token_endpoint",
                           "authorization_endpoint", "client_credentials"}
    assert checks["client_credentials"]["ok"] is True

    bad = await _create(world, upstream.provider("other", client_secret="wrong-" + "x" * 40))
    report = await (await world.root.post(f"{BASE}/providers/{bad['id']}/test")).get_json()
    creds = next(c for c in report["checks"] if c["name"] == "client_credentials")
    assert report["ok"] is False and creds["ok"] is False
    async with services_of(world.app).db.session() as s:
        outcomes = [e.outcome for e in await s.scalars(select(AuditEvent).where(
            AuditEvent.action == "provider.tested").order_by(AuditEvent.id))]
    assert outcomes == ["success", "failure"]


async def test_an_unsaved_configuration_can_be_tested(world: World, upstream: Upstream):
    ok = await world.root.post(f"{BASE}/providers/test", json=upstream.provider())
    assert (await ok.get_json())["ok"] is True
    down = await world.root.post(f"{BASE}/providers/test", json=upstream.provider(
        issuer=f"http://127.0.0.1:{free_port()}"))
    report = await down.get_json()
    assert down.status_code == 200 and report["ok"] is False
    assert report["checks"][0]["name"] == "discovery" and report["checks"][0]["ok"] is False
    async with services_of(world.app).db.session() as s:
        assert list(await s.scalars(select(IdentityProvider))) == []


async def test_the_mapping_preview_applies_presets_overrides_and_templates(
        world: World, upstream: Upstream):
    created = await _create(world, upstream.provider(claim_mapping={
        "username": {"path": ["https://corp.example/claims", "login"], "default": "anon"},
        "name": {"template": "{given_name} {family_name}"},
    }))
    sample = {"sub": "s-1", "email": "Ann@Corp.example", "email_verified": "true",
              "given_name": "Ann", "family_name": "Lee", "picture": "https://p/x.png",
              "https://corp.example/claims": {"login": "alee"}}
    answer = await world.ann.post(f"{BASE}/providers/{created['id']}/mapping/preview",
                                  json={"claims": sample})
    body = await answer.get_json()
    assert answer.status_code == 200, body
    assert body["attributes"] == {
        "subject": "s-1", "username": "alee", "email": "Ann@Corp.example",
        "email_verified": True, "name": "Ann Lee",
        "profile": {"given_name": "Ann", "family_name": "Lee", "picture": "https://p/x.png"}}
    tried = await world.ann.post(f"{BASE}/providers/{created['id']}/mapping/preview",
                                 json={"claims": {"sub": 7}, "claim_mapping": {
                                     "username": {"value": "fixed"}}})
    assert (await tried.get_json())["attributes"]["username"] == "fixed"
    assert (await tried.get_json())["attributes"]["subject"] == "7"
    bad = await world.ann.post(f"{BASE}/providers/{created['id']}/mapping/preview",
                               json={"claims": {}, "claim_mapping": {"name": {"eval": "1"}}})
    await problem(bad, 400, "validation")
