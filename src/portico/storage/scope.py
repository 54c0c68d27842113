"""Which organizations a caller may see: the one filter every org-scoped query takes.

Isolation between organizations is enforced here and in the repositories that take
an ``OrgScope``, never route by route: a repository asked for a row outside the scope
answers as if the row did not exist.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, false, true


@dataclass(frozen=True)
class OrgScope:
    """``org_ids`` the caller administers; ``None`` means every one (a superadmin)."""

    org_ids: frozenset[str] | None

    @classmethod
    def everything(cls) -> OrgScope:
        return cls(None)

    @classmethod
    def of(cls, org_ids: Iterable[str]) -> OrgScope:
        return cls(frozenset(org_ids))

    @property
    def is_global(self) -> bool:
        return self.org_ids is None

    def allows(self, org_id: str | None) -> bool:
        """Whether a row of ``org_id`` is visible (instance-wide rows: superadmins only)."""
        if self.org_ids is None:
            return True
        return org_id is not None and org_id in self.org_ids

    def clause(self, column: Any) -> ColumnElement[bool]:
        """A WHERE condition restricting ``column`` (an org id column) to the scope."""
        if self.org_ids is None:
            return true()
        if not self.org_ids:
            return false()
        return column.in_(sorted(self.org_ids))  # type: ignore[no-any-return]
