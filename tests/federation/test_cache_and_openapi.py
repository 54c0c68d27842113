"""The per-process connector cache follows the row's version (the database decides),
and the federation routes are in the OpenAPI document."""

from __future__ import annotations

from tests.federation.support import add_provider
from tests.helpers import services_of

from portico.federation.cache import ConnectorCache
from portico.federation.providers import update_provider
from portico.storage.repositories.federation import Providers


async def test_a_changed_row_is_reopened_and_an_unchanged_one_is_reused(app):
    svc = services_of(app)
    row = await add_provider(app, {"slug": "c", "kind": "oidc", "client_id": "x",
                                   "issuer": "https://idp.example", "client_secret": "one"})
    cache = ConnectorCache(svc.box, 5.0)
    first = cache.open(row)
    assert cache.open(row) is first and first.config.client_secret == "one"
    # Another instance changes the provider: this one sees the new version on next read.
    await update_provider(svc.db, svc.box, row.id, {"client_secret": "two"}, actor_id=None)
    async with svc.db.session() as s:
        fresh = await Providers(s).get(row.id)
    reopened = cache.open(fresh)
    assert reopened is not first and reopened.config.client_secret == "two"
    assert "two" not in repr(reopened.config) and "two" not in repr(cache)


async def test_the_routes_are_documented(app):
    spec = await (await app.test_client().get("/api/v1/openapi.json")).get_json()
    paths = spec["paths"]
    # start and callback are browser hops (302s and pages), hidden from the API document.
    assert "/api/v1/external-auth/{slug}/callback" not in paths
    for path in ("/api/v1/external-auth/providers",
                 "/api/v1/admin/external-auth/providers",
                 "/api/v1/admin/external-auth/providers/{provider_id}",
                 "/api/v1/admin/external-auth/providers/{provider_id}/test",
                 "/api/v1/admin/external-auth/providers/{provider_id}/mapping/preview",
                 "/api/v1/admin/external-auth/provider-kinds"):
        assert path in paths, sorted(paths)
