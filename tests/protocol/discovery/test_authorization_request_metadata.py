"""Discovery advertises the authorization-request features exactly as configured:
PAR (RFC 9126 §5), JAR (RFC 9101 §10.5), JARM, implicit and hybrid response types."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import urlencode

from tests.helpers import REDIRECT, add_client, query_of, services_of

from portico.app import create_app

ISSUER = "http://127.0.0.1:8000"


@asynccontextmanager
async def app_with(settings: Any, **changes: Any):
    quart_app = create_app(settings.model_copy(update=changes))
    async with quart_app.test_app() as test_app:
        yield test_app


async def metadata(app: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    client = app.test_client()
    oidc = await (await client.get("/.well-known/openid-configuration")).get_json()
    oauth = await (await client.get("/.well-known/oauth-authorization-server")).get_json()
    return oidc, oauth


async def test_defaults_advertise_par_jarm_and_every_response_type(app):
    for doc in await metadata(app):
        assert doc["pushed_authorization_request_endpoint"] == f"{ISSUER}/par"
        assert doc["require_pushed_authorization_requests"] is False
        assert doc["require_signed_request_object"] is False
        assert doc["response_types_supported"] == [
            "code", "id_token", "id_token token", "code id_token", "code token",
            "code id_token token"]
        assert doc["response_modes_supported"] == [
            "query", "fragment", "form_post", "query.jwt", "fragment.jwt", "form_post.jwt",
            "jwt"]
        assert doc["authorization_signing_alg_values_supported"] == ["RS256", "ES256", "EdDSA"]
        assert doc["request_parameter_supported"] is True


async def test_the_par_endpoint_is_routed_for_post_only(app):
    client = app.test_client()
    assert (await client.get("/par")).status_code == 405
    response = await client.post("/par", form={})
    assert response.status_code == 401
    assert (await response.get_json())["error"] == "invalid_client"


async def test_required_par_and_signed_objects_are_advertised_and_enforced(settings):
    async with app_with(settings, require_pushed_authorization_requests=True,
                        require_signed_request_object=True) as app:
        for doc in await metadata(app):
            assert doc["require_pushed_authorization_requests"] is True
            assert doc["require_signed_request_object"] is True
        reg = await add_client(services_of(app), first_party=True)
        response = await app.test_client().get("/authorize?" + urlencode({
            "client_id": reg.client.id, "redirect_uri": REDIRECT, "response_type": "code",
            "scope": "openid", "state": "s"}))
        got = query_of(response.headers["Location"])
        assert (got["error"], got["error_description"]) == (
            "invalid_request", "This client must push its authorization requests to /par first.")
