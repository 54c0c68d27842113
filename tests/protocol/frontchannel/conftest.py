"""Clients with front-channel logout URIs, on every supported database."""

from __future__ import annotations

import pytest
from tests.protocol.logout_support import settings_on

from portico.settings import Settings


@pytest.fixture
async def settings(settings: Settings, database_url: str) -> Settings:
    return await settings_on(settings, database_url)
