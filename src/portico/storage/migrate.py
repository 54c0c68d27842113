"""Apply Alembic migrations from inside a running event loop.

Alembic is imported only when a migration has to run: checking the schema against
``HEAD`` is one plain SELECT, so a server started on a current database (every start
after the first, and every instance after ``portico migrate`` on deploy) never loads it,
which keeps ~14 MiB out of its memory (bench/README.md, RSS).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from portico.storage.db import Database

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# The newest revision under migrations/versions; tests/storage/test_schema.py checks it
# against Alembic's own view of the scripts, so a new migration must move it.
HEAD = "0005"


def alembic_config(url: str, connection: Connection | None = None) -> Config:
    """An Alembic config pointing at Portico's migrations (no alembic.ini needed)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


async def upgrade(db: Database, revision: str = "head") -> None:
    """Bring the schema to ``revision``; safe (and cheap) to call on every start."""
    if revision == "head" and await current_revision(db) == HEAD:
        return
    from alembic import command

    async with db.engine.begin() as conn:
        await conn.run_sync(lambda sync: command.upgrade(alembic_config(db.url, sync), revision))


def _applied(sync: Connection) -> str | None:
    if not inspect(sync).has_table("alembic_version"):
        return None
    return sync.execute(text("SELECT version_num FROM alembic_version")).scalar_one_or_none()


async def current_revision(db: Database) -> str | None:
    """The applied revision, or None for an empty database."""
    async with db.engine.connect() as conn:
        return await conn.run_sync(_applied)
