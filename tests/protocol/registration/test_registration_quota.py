"""The per-organization limit on dynamically registered clients holds under
concurrent registrations (a count then an insert, serialised by a row lock)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tests.protocol.registration.conftest import register

from portico.settings import Settings


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"client_registration_max_clients": 3})


async def test_concurrent_registrations_never_exceed_the_limit(app: Any) -> None:
    body = {"redirect_uris": ["https://rp.example/cb"], "client_name": "Racer"}
    results = await asyncio.gather(*(register(app, body) for _ in range(8)))
    statuses = sorted(status for status, _ in results)
    assert statuses == [201] * 3 + [403] * 5, results
    refused = [answer for status, answer in results if status == 403]
    assert all("limit of 3" in answer["error_description"] for answer in refused)
