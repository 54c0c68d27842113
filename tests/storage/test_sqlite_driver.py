"""The SQLite driver under the async engine (storage/sqlite_driver.py): transactions,
writers queueing in one process and across processes, and the hop count it exists for."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from portico.storage import sqlite_driver
from portico.storage.db import Database


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with database.session() as session:
        await session.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER)"))
        await session.execute(text("INSERT INTO counter VALUES (1, 0)"))
    yield database
    await database.dispose()


async def _count(db: Database) -> int:
    async with db.read() as session:
        return int((await session.execute(text("SELECT n FROM counter"))).scalar_one())


async def test_concurrent_writers_of_one_process_each_see_the_last_commit(db: Database) -> None:
    async def bump() -> None:
        async with db.session() as session:
            n = (await session.execute(text("SELECT n FROM counter"))).scalar_one()
            await asyncio.sleep(0)  # let the others try to get in between
            await session.execute(text("UPDATE counter SET n = :n"), {"n": n + 1})

    await asyncio.gather(*(bump() for _ in range(40)))
    assert await _count(db) == 40


async def test_a_failed_transaction_rolls_back_and_lets_the_next_writer_in(db: Database) -> None:
    with pytest.raises(IntegrityError):
        async with db.session() as session:
            await session.execute(text("UPDATE counter SET n = 99"))
            await session.execute(text("INSERT INTO counter VALUES (1, 5)"))
    async with db.session() as session:
        await session.execute(text("UPDATE counter SET n = n + 1"))
    assert await _count(db) == 1


async def test_an_empty_transaction_and_a_reader_beside_a_writer(db: Database) -> None:
    async with db.session():
        pass  # BEGIN was held back and never sent
    async with db.session() as writer:
        await writer.execute(text("UPDATE counter SET n = 7"))
        assert await _count(db) == 0  # WAL: the reader sees the last commit, never waits
    assert await _count(db) == 7


async def test_a_writer_waits_for_another_process_holding_the_lock(
    db: Database, tmp_path: Path
) -> None:
    other = sqlite3.connect(tmp_path / "driver.db", isolation_level=None,
                            check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    other.execute("UPDATE counter SET n = 10")
    timer = threading.Timer(0.3, lambda: other.execute("COMMIT"))
    timer.start()
    try:
        async with db.session() as session:
            await session.execute(text("UPDATE counter SET n = n + 1"))
    finally:
        timer.join()
        other.close()
    assert await _count(db) == 11


async def test_a_read_transaction_costs_one_hop_per_statement(
    db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _count(db)  # the pool has a connection already
    hops: list[Any] = []
    real = sqlite_driver.Connection._run

    def counted(self: sqlite_driver.Connection, function: Any) -> Any:
        hops.append(function)
        return real(self, function)

    monkeypatch.setattr(sqlite_driver.Connection, "_run", counted)
    async with db.read() as session:
        for _ in range(3):
            await session.execute(text("SELECT n FROM counter"))
    # Three statements (BEGIN rides with the first) and the commit; no pool-reset rollback.
    assert len(hops) == 4


async def test_a_rollback_waits_for_a_statement_whose_task_was_cancelled(
    db: Database, tmp_path: Path
) -> None:
    conn = await sqlite_driver.connect(str(tmp_path / "driver.db"))
    other = sqlite3.connect(tmp_path / "driver.db", timeout=0.1, isolation_level=None)
    try:
        conn._live().isolation_level = None
        busy = conn._run(lambda: time.sleep(0.2))  # the thread is busy for a while
        cursor = await conn.cursor()
        await cursor.execute("BEGIN IMMEDIATE")
        write = asyncio.ensure_future(cursor.execute("UPDATE counter SET n = 5"))
        await asyncio.sleep(0.01)
        write.cancel()  # its job is queued: it will BEGIN and write after this
        await conn.rollback()  # so this must run after it, not skip it
        await busy
        await conn._run(lambda: None)  # everything queued before has run
        assert not conn._live().in_transaction
        other.execute("BEGIN IMMEDIATE")  # no write lock left behind
        assert other.execute("SELECT n FROM counter").fetchone() == (0,)
        other.execute("ROLLBACK")
    finally:
        other.close()
        await conn.close()
