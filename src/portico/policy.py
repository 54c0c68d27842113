"""The authentication policy admins change at run time, layered over configuration.

Configuration (environment, ``portico.toml``) gives every value; the superadmin may
override a few of them through the admin API (SPEC §4, "settings that affect
authentication policy"). Design, kept in this one module:

1. **Storage.** ``instance_settings`` holds only the overrides (name → JSON value, who
   and when). Deleting a row (``null`` in a PATCH) falls back to configuration.
2. **Effective settings.** ``PolicyStore`` (one per process, on ``Services``) reads that
   table of a dozen rows at most once per ``CACHE_SECONDS`` and builds the effective
   ``Settings`` with ``base.model_copy(update=overrides)``. The copy is rebuilt only when
   the overrides change, so asking for it per request is free. One request re-reads
   while the others go on with the value they have, and a read gives up after
   ``READ_TIMEOUT``: a stalled database never queues every request behind the policy.
3. **Installation.** ``install_policy`` puts the effective settings where every reader
   already looks: ``services().settings`` (handlers, pages, CLI), the protocol bridge's
   ``settings`` (authlib's token hooks read it per call) and the key service's retire
   grace (a retired key must stay published as long as the longest token it signed).
   ``app.py`` calls it before each request, the CLI once after building services.

So every instance applies a change within ``CACHE_SECONDS`` and the instance that made
it at once (the change reinstalls with ``force``), with the database as the only
channel: no messages between instances, nothing beyond a primary-key scan per second.

Values are checked with the very field definitions of ``Settings`` (type and bounds),
when an admin writes them and again when they are read back, so a hand-edited row can
never install an out-of-bounds value; such a row is ignored and logged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import TypeAdapter, ValidationError
from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from portico.audit.recorder import record
from portico.errors import ValidationFailed
from portico.settings import Settings
from portico.storage import upsert
from portico.storage.db import Database
from portico.storage.models import InstanceSetting
from portico.storage.models.base import utcnow

if TYPE_CHECKING:
    from portico.services import Services

log = logging.getLogger("portico.policy")
CACHE_SECONDS = 1.0
READ_TIMEOUT = 2.0
POLICY_FIELDS = (
    "registration", "password_min_length", "password_require_classes", "max_login_attempts",
    "lockout_duration", "access_token_ttl", "id_token_ttl", "refresh_token_ttl", "session_ttl",
    "session_idle_ttl", "auth_code_ttl", "invite_ttl",
)


def field_type(name: str) -> Any:
    """The type of setting ``name`` with its constraints (``ge``, ``le``, literals)."""
    info = Settings.model_fields[name]
    return Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation


_ADAPTERS = {name: TypeAdapter(field_type(name)) for name in POLICY_FIELDS}
_WARNED: set[str] = set()


def check_value(name: str, value: Any) -> Any:
    """``value`` for setting ``name``, strictly typed (no "5" for 5, no 1 for true) and
    within the bounds configuration has; ``ValidationFailed`` naming the field if not."""
    if name not in _ADAPTERS:
        raise ValidationFailed("unknown policy field", {name: "not a policy field"})
    try:
        return _ADAPTERS[name].validate_python(value, strict=True)
    except ValidationError as exc:
        raise ValidationFailed("invalid policy value",
                               {name: exc.errors()[0].get("msg", "invalid")}) from None


@dataclass(frozen=True)
class PolicyEntry:
    """One field as admins see it: the value in force and where it comes from."""

    name: str
    value: Any
    source: str  # "configuration" or "admin"
    configured: Any
    updated_at: datetime | None
    updated_by: str | None


async def _rows(session: AsyncSession) -> dict[str, InstanceSetting]:
    stmt = (select(InstanceSetting).where(InstanceSetting.name.in_(POLICY_FIELDS))
            .execution_options(populate_existing=True))
    rows: dict[str, InstanceSetting] = {}
    for row in (await session.execute(stmt)).scalars():
        try:
            check_value(row.name, row.value)
        except ValidationFailed:
            if row.name not in _WARNED:  # once per process, not at every re-read
                _WARNED.add(row.name)
                log.warning("ignoring invalid stored policy value for %s", row.name)
            continue
        rows[row.name] = row
    return rows


def _entries(base: Settings, rows: dict[str, InstanceSetting]) -> list[PolicyEntry]:
    out = []
    for name in POLICY_FIELDS:
        row = rows.get(name)
        configured = getattr(base, name)
        if row is None:
            out.append(PolicyEntry(name, configured, "configuration", configured, None, None))
        else:
            out.append(PolicyEntry(name, row.value, "admin", configured, row.updated_at,
                                   row.updated_by))
    return out


class PolicyStore:
    """This process's view of the policy: configuration plus the overrides, cached briefly."""

    def __init__(self, base: Settings, db: Database) -> None:
        self.base = base
        self.db = db
        self._overrides: dict[str, Any] = {}
        self._effective = base
        self.read_timeout = READ_TIMEOUT
        self._loaded_at = float("-inf")
        self._tried = False
        self._failing = False
        self._lock = asyncio.Lock()

    def _fresh(self) -> bool:
        return time.monotonic() - self._loaded_at < CACHE_SECONDS

    async def effective(self, force: bool = False) -> Settings:
        """The settings in force, re-read when older than ``CACHE_SECONDS`` (or forced).

        One request re-reads while the others keep the value they have, so a slow
        database holds up one request, for at most ``read_timeout``. Only the very first
        read is waited for: no request may run on configuration alone while an admin's
        policy is stored. If the database cannot be read the last known policy stays (the
        request will meet the outage on its own anyway)."""
        if not force and (self._fresh() or (self._lock.locked() and self._tried)):
            return self._effective
        async with self._lock:
            if not force and self._fresh():
                return self._effective
            self._tried = True
            try:
                async with asyncio.timeout(self.read_timeout):
                    async with self.db.session() as session:
                        overrides = {n: r.value for n, r in (await _rows(session)).items()}
            except (SQLAlchemyError, OSError) as exc:  # TimeoutError is an OSError
                if not self._failing:
                    log.warning("cannot read the authentication policy: %s", type(exc).__name__)
                self._failing = True
                self._loaded_at = time.monotonic()
                return self._effective
            self._failing = False
            if overrides != self._overrides:
                self._overrides = overrides
                self._effective = self.base.model_copy(update=overrides)
            self._loaded_at = time.monotonic()
            return self._effective

    async def entries(self) -> list[PolicyEntry]:
        """Every field, read from the database now (not the cache)."""
        async with self.db.session() as session:
            return _entries(self.base, await _rows(session))


async def _put(session: AsyncSession, name: str, value: Any, actor_id: str | None) -> None:
    """Insert or replace one override; two admins setting the same field at once both
    succeed (the later wins) instead of one meeting a unique-key error."""
    values = {"name": name, "value": value, "updated_at": utcnow(), "updated_by": actor_id}
    stmt = upsert.insert(session, InstanceSetting).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=[InstanceSetting.name],
        set_={"value": stmt.excluded.value, "updated_at": stmt.excluded.updated_at,
              "updated_by": stmt.excluded.updated_by})
    await session.execute(stmt)


async def update_policy(svc: Services, changes: dict[str, Any], *, actor_id: str | None,
                        ip: str | None, via: str = "api") -> list[PolicyEntry]:
    """Set (or, with ``None``, reset to configuration) the fields in ``changes``, audited
    with each field's value before and after; this process applies them at once."""
    checked = {name: None if value is None else check_value(name, value)
               for name, value in changes.items()}
    store = svc.policy

    async def write(session: AsyncSession) -> list[PolicyEntry]:
        before = {e.name: e for e in _entries(store.base, await _rows(session))}
        for name, value in checked.items():
            if value is None:
                await session.execute(delete(InstanceSetting).where(InstanceSetting.name == name))
            else:
                await _put(session, name, value, actor_id)
        after = _entries(store.base, await _rows(session))
        # A list of records, not a dict keyed by field: names such as ``access_token_ttl``
        # would be taken for secrets by the audit redaction.
        await record(session, "policy.updated", actor_id=actor_id, target="policy", ip=ip,
                     via=via, changes=[
                         {"field": e.name, "before": before[e.name].value,
                          "before_source": before[e.name].source, "after": e.value,
                          "after_source": e.source}
                         for e in after if e.name in checked])
        return after

    entries = await svc.db.run(write)
    await install_policy(svc, force=True)
    return entries


async def install_policy(svc: Services, force: bool = False) -> Settings:
    """Make the effective policy the one this process uses (see the module docstring)."""
    effective = await svc.policy.effective(force=force)
    previous = svc.settings
    if effective is not previous:
        margin = svc.keys.retire_grace - timedelta(
            seconds=max(previous.access_token_ttl, previous.id_token_ttl))
        svc.keys.retire_grace = margin + timedelta(
            seconds=max(effective.access_token_ttl, effective.id_token_ttl))
        svc.settings = effective
        svc.bridge.settings = effective
    return effective
