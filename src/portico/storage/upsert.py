"""``INSERT … ON CONFLICT`` in the session's own dialect.

SQLite and PostgreSQL both have it, through different SQLAlchemy constructs; the
dialect module is imported when first needed, so a server on SQLite never loads
PostgreSQL's (~2 MiB).
"""

from __future__ import annotations

import importlib
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession


def insert(session: AsyncSession, table: Any) -> Any:
    """An ``Insert`` for ``table`` with ``on_conflict_do_nothing``/``_do_update``."""
    name = session.get_bind().dialect.name
    module = importlib.import_module(
        "sqlalchemy.dialects.postgresql" if name == "postgresql" else "sqlalchemy.dialects.sqlite")
    return module.insert(table)
