"""Keep credentials out of Hypercorn's access log.

Query strings are never logged (Hypercorn logs the path only), but some paths carry a
secret themselves (``/invite/<token>``). A filter on ``hypercorn.access`` passes every
string atom of a record through the audit log's token scrubber before it is
formatted, whatever the log format.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from typing import Any

from portico.audit.redact import scrub_text


class _Scrubbed(Mapping[str, Any]):
    """Hypercorn's atoms, with token-shaped substrings of string values masked."""

    def __init__(self, atoms: Mapping[str, Any]) -> None:
        self.atoms = atoms

    def __getitem__(self, key: str) -> Any:
        value = self.atoms[key]
        return scrub_text(value) if isinstance(value, str) else value

    def __iter__(self) -> Iterator[str]:
        return iter(self.atoms)

    def __len__(self) -> int:
        return len(self.atoms)


class ScrubTokens(logging.Filter):
    """Wraps the record's atoms so formatting only ever sees scrubbed values."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, Mapping) and not isinstance(record.args, _Scrubbed):
            record.args = _Scrubbed(record.args)
        return True


def install() -> None:
    """Add the filter once per process (each worker builds its own app)."""
    access = logging.getLogger("hypercorn.access")
    if not any(isinstance(f, ScrubTokens) for f in access.filters):
        access.addFilter(ScrubTokens())
