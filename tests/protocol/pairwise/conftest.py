"""Pairwise tests run on every supported database (PostgreSQL when configured)."""

from __future__ import annotations

import pytest

from portico.settings import Settings
from portico.storage.db import Database
from portico.storage.migrate import upgrade


@pytest.fixture
async def settings(settings: Settings, database_url: str) -> Settings:
    if database_url.startswith("sqlite"):
        return settings
    db = Database(database_url)
    await upgrade(db)
    await db.dispose()
    return settings.model_copy(update={"database_url": database_url})
