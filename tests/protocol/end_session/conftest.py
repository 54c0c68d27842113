"""RP-initiated logout on every supported database."""

from __future__ import annotations

import pytest
from tests.conftest import on_database

from portico.settings import Settings


@pytest.fixture
def settings(settings: Settings, keyed_database_url: str) -> Settings:
    return on_database(settings, keyed_database_url)
