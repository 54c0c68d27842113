"""Fixtures for the security suite: services over every supported database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tests.conftest import make_settings

from portico.services import Services, build_services


@pytest.fixture
async def svc(migrated_database_url: str, tmp_path: Path) -> AsyncIterator[Services]:
    """Services on a migrated database (SQLite, and PostgreSQL when configured)."""
    services = build_services(make_settings(migrated_database_url, tmp_path,
                                            max_login_attempts=5))
    yield services
    await services.fetcher.aclose()
    await services.db.dispose()
