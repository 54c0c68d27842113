"""Opened connectors, cached per process by (provider id, version).

The database row is read on every use (one small query); only the connector it
opens, with its discovery document and JWKS, is kept. Any change bumps the row's
version, so every instance reopens at its next use: the database decides. Entries
also age out, so a provider's rotated keys or endpoints are rediscovered.
"""

from __future__ import annotations

import time

from portico.crypto.secretbox import SecretBox
from portico.federation.base import Connector
from portico.federation.kinds import get_kind
from portico.federation.providers import provider_config
from portico.storage.models import IdentityProvider

MAX_AGE = 3600.0


class ConnectorCache:
    """Connectors of one process."""

    def __init__(self, box: SecretBox, timeout: float, max_age: float = MAX_AGE) -> None:
        self.box = box
        self.timeout = timeout
        self.max_age = max_age
        self._entries: dict[str, tuple[int, float, Connector]] = {}

    def __repr__(self) -> str:
        return f"ConnectorCache({len(self._entries)} open)"

    def open(self, row: IdentityProvider) -> Connector:
        """The connector for this row's current version (reopened when it changed)."""
        found = self._entries.get(row.id)
        now = time.monotonic()
        if found and found[0] == row.version and now - found[1] < self.max_age:
            return found[2]
        connector = get_kind(row.kind).factory(provider_config(row, self.box, self.timeout))
        self._entries[row.id] = (row.version, now, connector)
        return connector

    def forget(self, provider_id: str) -> None:
        self._entries.pop(provider_id, None)
