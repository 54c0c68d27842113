"""Open dynamic registration on a deployment that keeps fetches public: a client cannot
point Portico at the network it runs in."""

from __future__ import annotations

from typing import Any

import pytest

from portico.settings import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"client_registration": "open",
                                       "fetch_private_addresses": False})


async def test_a_sector_identifier_on_a_private_address_is_refused(app: Any) -> None:
    uris = ["https://a.example/cb"]
    response = await app.test_client().post("/connect/register", json={
        "redirect_uris": uris, "subject_type": "pairwise",
        "sector_identifier_uri": "https://169.254.169.254/latest/meta-data/"})
    body = await response.get_json()
    assert response.status_code == 400 and body["error"] == "invalid_client_metadata", body
    assert "public address" in body["error_description"]
