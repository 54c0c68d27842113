"""A migrated database of every supported kind, for the storage conformance suite."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from portico.storage.db import Database


@pytest.fixture
async def db(migrated_database_url: str) -> AsyncIterator[Database]:
    """The schema at head (copied from a template; tests/storage/test_schema.py runs the
    migrations themselves from an empty database)."""
    database = Database(migrated_database_url)
    yield database
    await database.dispose()
