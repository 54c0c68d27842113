"""Parse request parameters once: single values, size limits, repeated names noted.

RFC 6749 §3.1: "Request and response parameters MUST NOT be included more than
once." Repeats are recorded and rejected by the endpoint once it knows where an
error may be sent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

MAX_PARAMS = 64
MAX_NAME = 64
MAX_VALUE = 4096
LONG_VALUES = {"request", "claims", "id_token_hint", "client_assertion"}
# RFC 8707 §2: "resource" may be given more than once; every value is kept in ``multi``.
MULTI_VALUED = {"resource"}


@dataclass
class Params:
    """Parameters by name (first value), plus what was wrong with the raw input."""

    values: dict[str, str] = field(default_factory=dict)
    repeated: set[str] = field(default_factory=set)
    oversized: set[str] = field(default_factory=set)
    multi: dict[str, list[str]] = field(default_factory=dict)

    def get(self, name: str) -> str | None:
        """A parameter's value; empty strings count as absent (OAuth 2.0 §3.1)."""
        value = self.values.get(name)
        return value if value else None


def parse(items: Iterable[tuple[str, str]], long_limit: int = 16384) -> Params:
    """Collect ``items`` (a MultiDict's ``items(multi=True)``) into ``Params``."""
    params = Params()
    for count, (name, value) in enumerate(items):
        if count >= MAX_PARAMS or len(name) > MAX_NAME:
            continue
        limit = long_limit if name in LONG_VALUES else MAX_VALUE
        if len(value) > limit:
            params.oversized.add(name)
            continue
        if name in MULTI_VALUED:
            params.multi.setdefault(name, []).append(value)
        if name in params.values:
            if name not in MULTI_VALUED:
                params.repeated.add(name)
            continue
        params.values[name] = value
    return params
