"""PAR tests run on every supported database (PostgreSQL when configured)."""

from __future__ import annotations

import pytest
from tests.conftest import on_database

from portico.settings import Settings


@pytest.fixture
def settings(settings: Settings, keyed_database_url: str) -> Settings:
    """The usual settings, on SQLite or on PostgreSQL (each copied from a template)."""
    return on_database(settings, keyed_database_url)
