"""SQLite for the async engine with one worker-thread hop per statement.

SQLAlchemy's ``sqlite+aiosqlite`` dialect drives aiosqlite, which hands every cursor
operation to the connection's thread separately: open a cursor, execute, fetch, close,
so four thread hops per statement, plus a ``BEGIN`` of its own and a rollback when the
pool takes the connection back. A hop is a queue put, a thread wake-up and a
``call_soon_threadsafe`` back (~40 µs of CPU here); a UserInfo request spent 17 of them
on three SELECTs. A SELECT by primary key itself costs ~8 µs.

This module has aiosqlite's interface (what SQLAlchemy's adapter calls), so the dialect,
URLs and behaviour stay SQLAlchemy's own, but does the work in fewer hops:

- a statement is executed, fetched and closed in one hop; the cursor keeps the rows;
- ``BEGIN``/``BEGIN IMMEDIATE`` is held back and sent in the same hop as the
  transaction's first statement (nothing can happen in between, so the lock is taken
  at the same point); a transaction that ran no statement commits without a hop;
- a rollback of a connection that is not in a transaction costs no hop;
- writers of one process queue on an asyncio lock per database file before their
  ``BEGIN IMMEDIATE``, handed over the moment the previous writer commits. Without it
  they wait in SQLite's busy handler, which polls by sleeping 1 to 100 ms, so a
  contended write lock sat idle between writers (p99 of 1.4 s at 16 concurrent token
  requests). Other processes (``--workers``, the CLI) still meet at SQLite's own lock
  and busy timeout.

Blocking work (lock waits, I/O) still happens on the connection's own thread, never on
the event loop. ``storage/db.py`` plugs it in; nothing else imports it.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import threading
import weakref
from collections.abc import Callable, Generator, Iterable, Sequence
from queue import SimpleQueue
from sqlite3 import (  # noqa: F401  re-exported: SQLAlchemy reads them off the driver
    DatabaseError,
    Error,
    IntegrityError,
    NotSupportedError,
    OperationalError,
    ProgrammingError,
    sqlite_version,
    sqlite_version_info,
)
from typing import Any

_STOP = object()
_Job = tuple[asyncio.Future[Any] | None, Callable[[], Any]]


def _deliver(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():  # the awaiting task was cancelled; the work happened anyway
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


class _Jobs(SimpleQueue):  # type: ignore[type-arg]
    """The thread's queue; counts what was put (on the event loop's thread), so that
    with the thread's count of finished jobs the loop knows whether one is running."""

    queued = 0

    def put_nowait(self, item: Any) -> None:
        self.queued += 1
        super().put_nowait(item)


def _worker(jobs: _Jobs, finished: list[int]) -> None:
    while True:
        job = jobs.get()
        if job is _STOP:
            return
        future, function = job  # type: ignore[misc]
        try:
            result, error = function(), None
        except BaseException as exc:  # noqa: BLE001  handed to the awaiting task
            result, error = None, exc
        finished[0] += 1  # written by this thread only
        if future is None:  # fire and forget (``Connection.stop``)
            continue
        future.get_loop().call_soon_threadsafe(_deliver, future, result, error)


def _is_begin(sql: str, parameters: Any) -> bool:
    return not parameters and sql.lstrip()[:5].upper() == "BEGIN"


def _takes_write_lock(begin: str) -> bool:
    words = begin.upper().split()
    return len(words) > 1 and words[1] in ("IMMEDIATE", "EXCLUSIVE")


# Per event loop, per database file: the lock this process's writers queue on.
_writers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[str, asyncio.Lock]] = (
    weakref.WeakKeyDictionary())


def _writer_lock(database: str) -> asyncio.Lock:
    per_file = _writers.setdefault(asyncio.get_running_loop(), {})
    return per_file.setdefault(database, asyncio.Lock())


class Connection:
    """One ``sqlite3`` connection and the thread that runs its statements."""

    def __init__(self, database: str, **kwargs: Any) -> None:
        self._database = database
        self._kwargs = {**kwargs, "check_same_thread": False}
        self._tx = _Jobs()  # SQLAlchemy puts jobs here too (isolation level)
        # Jobs the thread finished, written by it only: a job still running after its
        # task was cancelled may have begun a transaction (``rollback``).
        self._finished = [0]
        self._thread = threading.Thread(target=_worker, args=(self._tx, self._finished),
                                        daemon=True)
        self._conn: sqlite3.Connection | None = None
        self._pending_begin: str | None = None
        self._writer: asyncio.Lock | None = None  # held from BEGIN IMMEDIATE to the end
        self._lock_timeout = float(kwargs.get("timeout", 5.0))

    def __await__(self) -> Generator[Any, None, Connection]:
        return self._open().__await__()

    async def _open(self) -> Connection:
        self._thread.start()
        self._conn = await self._run(lambda: sqlite3.connect(self._database, **self._kwargs))
        return self

    @property
    def _connection(self) -> sqlite3.Connection | None:
        return self._conn

    def _run(self, function: Callable[[], Any]) -> asyncio.Future[Any]:
        future = asyncio.get_running_loop().create_future()
        self._tx.put_nowait((future, function))
        return future

    def _live(self) -> sqlite3.Connection:
        if self._conn is None:
            raise ValueError("no active connection")
        return self._conn

    async def _submit(self, function: Callable[[sqlite3.Connection], Any]) -> Any:
        """Run ``function`` on the thread, after the held-back BEGIN if there is one
        (and, for a writer, once this process's previous writer is done)."""
        conn, begin = self._live(), self._pending_begin
        if begin is None:
            return await self._run(lambda: function(conn))
        if self._writer is None and _takes_write_lock(begin):
            lock = _writer_lock(self._database)
            try:
                async with asyncio.timeout(self._lock_timeout):
                    await lock.acquire()
            except TimeoutError:
                raise OperationalError("database is locked") from None
            self._writer = lock
        self._pending_begin = None

        def run() -> Any:
            conn.execute(begin)
            return function(conn)

        return await self._run(run)

    def _release_writer(self) -> None:
        lock, self._writer = self._writer, None
        if lock is not None:
            lock.release()

    @property
    def in_transaction(self) -> bool:
        return self._pending_begin is not None or self._live().in_transaction

    @property
    def isolation_level(self) -> str | None:
        return self._live().isolation_level

    def cursor(self) -> _CursorOpening:
        return _CursorOpening(Cursor(self))

    async def execute(self, sql: str, parameters: Any = None) -> Cursor:
        cursor = Cursor(self)
        await cursor.execute(sql, parameters)
        return cursor

    async def commit(self) -> None:
        if self._pending_begin is not None:  # the transaction never ran a statement
            self._pending_begin = None
            return
        conn = self._live()
        try:
            if conn.in_transaction:
                await self._run(conn.commit)
        finally:
            if not conn.in_transaction:
                self._release_writer()

    async def rollback(self) -> None:
        self._pending_begin = None
        conn = self._live()

        def rollback() -> None:
            if conn.in_transaction:
                conn.rollback()

        try:
            # Skipped (no hop) only when nothing is open and nothing is still running.
            if conn.in_transaction or self._tx.queued != self._finished[0]:
                await self._run(rollback)
        finally:
            self._release_writer()

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        conn = self._live()
        await self._run(lambda: conn.create_function(*args, **kwargs))

    async def close(self) -> None:
        if self._conn is None:
            return
        conn, self._conn = self._conn, None
        self._release_writer()
        try:
            await self._run(conn.close)
        finally:
            self._tx.put_nowait(_STOP)

    def stop(self) -> None:
        """Close without waiting (SQLAlchemy's terminate, garbage collection)."""
        conn, self._conn = self._conn, None
        with contextlib.suppress(RuntimeError):  # its event loop is gone, waiters too
            self._release_writer()
        if conn is not None:
            self._tx.put_nowait((None, conn.close))
        self._tx.put_nowait(_STOP)


class _CursorOpening:
    """What ``Connection.cursor()`` returns: awaitable and an async context manager, as
    aiosqlite's is, without a hop (the real cursor is made with each statement)."""

    def __init__(self, cursor: Cursor) -> None:
        self._cursor = cursor

    def __await__(self) -> Generator[Any, None, Cursor]:
        return self.__aenter__().__await__()

    async def __aenter__(self) -> Cursor:
        return self._cursor

    async def __aexit__(self, *_: object) -> None:
        return None


class Cursor:
    """Holds one statement's outcome: description, rows, rowcount, lastrowid."""

    arraysize = 1

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self.description: Any = None
        self.rowcount = -1
        self.lastrowid: int | None = None
        self._rows: list[Any] = []

    async def __aenter__(self) -> Cursor:
        return self

    async def __aexit__(self, *_: object) -> None:
        return None

    async def execute(self, sql: str, parameters: Any = None) -> Cursor:
        if _is_begin(sql, parameters):
            self._connection._pending_begin = sql
            self.description, self.rowcount, self._rows = None, -1, []
            return self

        def run(conn: sqlite3.Connection) -> tuple[Any, list[Any], int, int | None]:
            cur = conn.execute(sql, parameters) if parameters else conn.execute(sql)
            try:
                rows = cur.fetchall() if cur.description else []
                return cur.description, rows, cur.rowcount, cur.lastrowid
            finally:
                cur.close()

        outcome = await self._connection._submit(run)
        self.description, self._rows, self.rowcount, self.lastrowid = outcome
        return self

    async def executemany(self, sql: str, seq_of_parameters: Iterable[Any]) -> Cursor:
        batch = list(seq_of_parameters)

        def run(conn: sqlite3.Connection) -> tuple[int, int | None]:
            cur = conn.executemany(sql, batch)
            try:
                return cur.rowcount, cur.lastrowid
            finally:
                cur.close()

        outcome = await self._connection._submit(run)
        self.description, self._rows = None, []
        self.rowcount, self.lastrowid = outcome
        return self

    async def fetchone(self) -> Any:
        return self._rows.pop(0) if self._rows else None

    async def fetchmany(self, size: int | None = None) -> Sequence[Any]:
        count = size or self.arraysize
        taken, self._rows = self._rows[:count], self._rows[count:]
        return taken

    async def fetchall(self) -> Sequence[Any]:
        taken, self._rows = self._rows, []
        return taken

    async def close(self) -> None:
        self._rows = []


def connect(database: str, **kwargs: Any) -> Connection:
    """Like ``aiosqlite.connect``: await the result to open the connection."""
    return Connection(database, **kwargs)
