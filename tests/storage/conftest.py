"""A migrated database of every supported kind, for the storage conformance suite."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from portico.storage.db import Database
from portico.storage.migrate import upgrade


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await upgrade(database)
    yield database
    await database.dispose()
