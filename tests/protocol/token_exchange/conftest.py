"""Settings a test may adjust (``overrides``), on every supported database."""

from __future__ import annotations

from typing import Any

import pytest
from tests.conftest import on_database

from portico.settings import Settings


@pytest.fixture
def overrides() -> dict[str, Any]:
    """Settings a test changes; parametrize ``overrides`` to set them."""
    return {}


@pytest.fixture
def settings(settings: Settings, keyed_database_url: str, overrides: dict[str, Any]) -> Settings:
    """The usual settings with ``overrides``, on SQLite or on PostgreSQL (each copied
    from a template)."""
    return on_database(settings, keyed_database_url, **overrides)
