"""Settings a test may adjust (``overrides``), on every supported database."""

from __future__ import annotations

from typing import Any

import pytest

from portico.settings import Settings
from portico.storage.db import Database
from portico.storage.migrate import upgrade


@pytest.fixture
def overrides() -> dict[str, Any]:
    """Settings a test changes; parametrize ``overrides`` to set them."""
    return {}


@pytest.fixture
async def settings(settings: Settings, database_url: str, overrides: dict[str, Any]) -> Settings:
    """The usual settings with ``overrides``, on SQLite or on PostgreSQL."""
    if not database_url.startswith("sqlite"):
        db = Database(database_url)
        await upgrade(db)
        await db.dispose()
        overrides = {**overrides, "database_url": database_url}
    return settings.model_copy(update=overrides)
