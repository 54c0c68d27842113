"""Discovery and JWKS are precomputed, carry a strong ETag, answer ``If-None-Match``
with 304 (RFC 9110 §13.1.2), and follow a key rotation made by any instance."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import httpx
import pytest
from tests.conftest import make_settings
from tests.helpers import services_of

from portico.app import create_app
from portico.crypto import signing_keys
from portico.protocol.discovery import openid_configuration
from portico.services import build_services

PATHS = ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server",
         "/jwks")
SECURITY = ("X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy",
            "Content-Security-Policy", "Cross-Origin-Opener-Policy")


def strong_tag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


@pytest.mark.parametrize("path", PATHS)
async def test_each_document_has_a_strong_etag_of_its_bytes_and_the_usual_headers(app, path):
    response = await app.test_client().get(path)
    body = await response.get_data()
    assert response.status_code == 200
    assert response.headers["ETag"] == strong_tag(body)
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Cache-Control"] == (
        "public, max-age=60" if path == "/jwks" else "public, max-age=300")
    for name in SECURITY:
        assert name in response.headers, name
    assert json.loads(body)


async def test_discovery_is_the_computed_document(app):
    svc = services_of(app)
    body = await (await app.test_client().get(PATHS[0])).get_json()
    assert body == openid_configuration(svc.settings, svc.bridge.server)


@pytest.mark.parametrize("path", PATHS)
async def test_a_matching_if_none_match_gets_304_without_a_body(app, path):
    client = app.test_client()
    tag = (await client.get(path)).headers["ETag"]
    for value in (tag, f"W/{tag}", f'"other", {tag}', "*"):
        response = await client.get(path, headers={"If-None-Match": value})
        assert response.status_code == 304, value
        assert await response.get_data() == b""
        assert response.headers["ETag"] == tag
        assert "Cache-Control" in response.headers
    stale = await client.get(path, headers={"If-None-Match": '"not-it"'})
    assert stale.status_code == 200


async def test_head_and_a_query_string_get_the_same_document(app):
    client = app.test_client()
    full = await client.get("/jwks")
    head = await client.head("/jwks")
    assert head.status_code == 200 and await head.get_data() == b""
    assert head.headers["ETag"] == full.headers["ETag"]
    # A query string goes through Quart's route, which answers from the same cache.
    routed = await client.get("/jwks?x=1")
    assert await routed.get_data() == await full.get_data()
    assert routed.headers["ETag"] == full.headers["ETag"]
    assert (await client.get("/jwks?x=1", headers={"If-None-Match": full.headers["ETag"]})
            ).status_code == 304


async def test_only_get_and_head_are_answered(app):
    response = await app.test_client().post("/jwks")
    assert response.status_code == 405


async def test_cors_headers_only_for_a_configured_origin(settings):
    allowed = "https://spa.example"
    quart_app = create_app(settings.model_copy(update={"cors_origins": [allowed]}))
    async with quart_app.test_app() as test_app:
        client = test_app.test_client()
        for path in PATHS:
            mine = await client.get(path, headers={"Origin": allowed})
            assert mine.headers["Access-Control-Allow-Origin"] == allowed
            assert mine.headers["Vary"] == "Origin"
            other = await client.get(path, headers={"Origin": "https://evil.example"})
            assert "Access-Control-Allow-Origin" not in other.headers


async def test_rotation_changes_the_jwks_and_its_etag_at_once(app):
    svc = services_of(app)
    client = app.test_client()
    before = await client.get("/jwks")
    await svc.keys.rotate()
    after = await client.get("/jwks")
    assert after.headers["ETag"] != before.headers["ETag"]
    assert (await client.get("/jwks", headers={"If-None-Match": before.headers["ETag"]})
            ).status_code == 200


async def test_a_rotation_by_another_instance_is_published_after_the_recheck(
        migrated_database_url, tmp_path, monkeypatch):
    settings = make_settings(migrated_database_url, tmp_path)
    other = build_services(settings)
    try:
        async with create_app(settings).test_app() as first:
            client = first.test_client()
            before = await client.get("/jwks")
            await other.keys.rotate()
            # Within the cache period this instance still publishes what it had...
            assert (await client.get("/jwks")).headers["ETag"] == before.headers["ETag"]
            # ...and once the period is over, one query shows the change.
            monkeypatch.setattr(signing_keys, "CACHE_SECONDS", 0.0)
            after = await client.get("/jwks")
            assert after.headers["ETag"] != before.headers["ETag"]
            assert after.headers["ETag"] == (await other.keys.load(force=True)).etag
            kids = {k["kid"] for k in (await after.get_json())["keys"]}
            signer = (await services_of(first).keys.load()).signers["RS256"]
            assert signer.kid in kids
    finally:
        await other.fetcher.aclose()
        await other.db.dispose()


async def test_an_unchanged_key_set_is_not_reopened(app, monkeypatch):
    keys = services_of(app).keys
    first = await keys.load(force=True)
    opened: list[str] = []
    real_open = keys._open

    def counting_open(row: Any) -> Any:
        opened.append(row.kid)
        return real_open(row)

    monkeypatch.setattr(keys, "_open", counting_open)
    again = await keys.load(force=True)
    assert opened == []
    assert again.etag == first.etag and again.signers == first.signers
    await keys.rotate(("ES256",))
    rotated = await keys.load()
    # Only the newly active ES256 key is opened; the others are reused.
    assert len(opened) == 1 and rotated.signers["ES256"].kid == opened[0]
    assert rotated.signers["RS256"] is first.signers["RS256"]


def test_a_real_server_answers_conditional_requests(live_server):
    with httpx.Client(base_url=live_server.url) as http:
        for path in PATHS:
            first = http.get(path)
            assert first.status_code == 200
            assert first.headers["etag"] == strong_tag(first.content)
            again = http.get(path, headers={"If-None-Match": first.headers["etag"]})
            assert again.status_code == 304 and again.content == b""
            assert again.headers["x-content-type-options"] == "nosniff"
