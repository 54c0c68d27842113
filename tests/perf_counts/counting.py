"""Count the SQL statements a block of code sends (one module, so the fixture's listener
and the tests share one context variable)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

_bucket: ContextVar[list[str] | None] = ContextVar("statements", default=None)


@contextmanager
def counting() -> Iterator[list[str]]:
    """The SQL of every statement the code run inside this block sends."""
    seen: list[str] = []
    token = _bucket.set(seen)
    try:
        yield seen
    finally:
        _bucket.reset(token)


def record_statement(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
    seen = _bucket.get()
    if seen is not None:
        seen.append(" ".join(statement.split())[:120])
