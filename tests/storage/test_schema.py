"""Migrations, types and constraints behave the same on every database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.exc import IntegrityError

from portico.crypto.tokens import new_id
from portico.storage.db import Database
from portico.storage.migrate import current_revision, upgrade
from portico.storage.models import User
from portico.storage.models.base import utcnow
from portico.storage.repositories.users import Organizations, Users


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """An empty database migrated here, from nothing to head: this module tests the
    migrations themselves (elsewhere the schema is copied from a template)."""
    database = Database(database_url)
    await upgrade(database)
    yield database
    await database.dispose()


async def test_migrations_reach_head_and_are_idempotent(db):
    assert await current_revision(db) == "0005"
    await upgrade(db)
    assert await current_revision(db) == "0005"


def test_head_names_the_newest_migration_script():
    # Servers compare the database with HEAD without loading Alembic (storage/migrate.py).
    from alembic.script import ScriptDirectory

    from portico.storage.migrate import HEAD, MIGRATIONS_DIR, alembic_config

    cfg = alembic_config("sqlite://")
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    assert ScriptDirectory.from_config(cfg).get_current_head() == HEAD


async def test_the_migrations_build_exactly_the_models(db):
    # A model changed without a migration (or the reverse) shows up here, per database.
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from portico.storage.models import Base

    async with db.engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata))
    assert diff == []


async def test_datetimes_come_back_aware_in_utc(db):
    async with db.session() as s:
        await Users(s).add(
            User(id="u1", username="a", username_key="a", email="a@x.org", profile={})
        )
    async with db.session() as s:
        user = await Users(s).get("u1")
        assert user.created_at.tzinfo is not None
        assert abs((utcnow() - user.created_at).total_seconds()) < 60


async def test_usernames_and_emails_are_unique(db):
    async with db.session() as s:
        await Users(s).add(
            User(id=new_id(), username="Bob", username_key="bob", email="bob@x.org", profile={})
        )
    with pytest.raises(IntegrityError):
        async with db.session() as s:
            await Users(s).add(
                User(
                    id=new_id(), username="BOB", username_key="bob", email="other@x.org", profile={}
                )
            )


async def test_the_default_organization_is_created_once(db):
    async with db.session() as s:
        first = await Organizations(s).default()
    async with db.session() as s:
        second = await Organizations(s).default()
    assert first.id == second.id and first.slug == "default"
