"""Engine and sessions: one async engine per process, transactions retried on conflicts.

Every statement is a round trip (to the SQLite connection's thread, see
sqlite_driver.py, or to PostgreSQL), and one costs more than an ES256 signature, so hot
paths keep their count small and fixed: tests/perf_counts asserts the number per
endpoint.

SQLite runs in WAL mode with a busy timeout so readers never block the writer and
concurrent writers wait instead of failing. On PostgreSQL (and its distributed
cousins) a transaction that fails with SQLSTATE 40001 is retried from the top.
"""

from __future__ import annotations

import asyncio
import random
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import event
from sqlalchemy.dialects.sqlite.aiosqlite import AsyncAdapt_aiosqlite_dbapi
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from portico.storage import sqlite_driver

T = TypeVar("T")
READ_ONLY = "portico_read_only"
_RETRY_SQLSTATES = {"40001", "40P01"}


def create_engine(url: str) -> AsyncEngine:
    """An engine tuned for the dialect in ``url``."""
    if url.startswith("sqlite"):
        # aiosqlite's interface with fewer thread hops per statement (sqlite_driver.py).
        driver = AsyncAdapt_aiosqlite_dbapi(sqlite_driver, sqlite3)  # type: ignore[arg-type]
        engine = create_async_engine(url, connect_args={"timeout": 30}, module=driver)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            # Let SQLAlchemy's "begin" hook below own transaction starts.
            dbapi_conn.isolation_level = None
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            # Large databases: index pages are read through a memory map (no read()
            # per page, shared with the OS page cache) and a 16 MiB page cache per
            # connection keeps the upper B-tree levels of the token tables hot. Pages
            # count in RSS only once touched (bench/README.md, "--big").
            cur.execute("PRAGMA mmap_size=268435456")
            cur.execute("PRAGMA cache_size=-16384")
            cur.close()

        @event.listens_for(engine.sync_engine, "begin")
        def _sqlite_begin(conn: Any) -> None:
            # Take the write lock at BEGIN so two writers queue instead of deadlocking
            # on a read-then-write upgrade (SQLite's SQLITE_BUSY_SNAPSHOT). A read-only
            # session (``Database.read``) takes no lock: WAL readers never wait.
            if conn.get_execution_options().get(READ_ONLY):
                conn.exec_driver_sql("BEGIN")
            else:
                conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def _is_retryable(exc: DBAPIError) -> bool:
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return code in _RETRY_SQLSTATES


class Database:
    """Holds the engine and hands out transactional sessions."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self.sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self.read_sessions = async_sessionmaker(
            self.engine, expire_on_commit=False, execution_options={READ_ONLY: True})

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """One transaction: committed on success, rolled back on any exception."""
        async with self.sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A transaction for reads only (hot paths: userinfo, key and policy refresh).

        On SQLite it begins without the write lock, so it never queues behind writers
        nor makes them wait; a write in it would risk ``SQLITE_BUSY``, so never write here.
        On PostgreSQL it is an ordinary transaction."""
        async with self.read_sessions() as session, session.begin():
            yield session

    async def run(self, fn: Callable[[AsyncSession], Awaitable[T]], attempts: int = 5) -> T:
        """Run ``fn`` in a transaction, retrying serialization failures."""
        for attempt in range(attempts):
            try:
                async with self.session() as session:
                    return await fn(session)
            except DBAPIError as exc:
                if not _is_retryable(exc) or attempt == attempts - 1:
                    raise
                await asyncio.sleep(random.uniform(0.005, 0.05) * (attempt + 1))
        raise AssertionError("unreachable")

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()
