"""Migrations, types and constraints behave the same on every database."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from portico.crypto.tokens import new_id
from portico.storage.migrate import current_revision, upgrade
from portico.storage.models import User
from portico.storage.models.base import utcnow
from portico.storage.repositories.users import Organizations, Users


async def test_migrations_reach_head_and_are_idempotent(db):
    assert await current_revision(db) == "0005"
    await upgrade(db)
    assert await current_revision(db) == "0005"


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
