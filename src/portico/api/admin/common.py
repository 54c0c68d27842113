"""What every admin route shares: the admin check, the caller's scope, cursor
pagination and the schema of a page."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import wraps
from typing import Any, TypeVar

from pydantic import BaseModel
from quart import g, request
from quart_schema import security_scheme

from portico.api.credentials import Principal, authenticated
from portico.errors import ValidationFailed
from portico.http import services
from portico.orgs.access import require_admin
from portico.storage.scope import OrgScope

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])
# The OpenAPI security requirement of every admin route.
signed_in = security_scheme([{"bearer": []}, {"session": []}])
MAX_PAGE = 200


def admin(*, write: bool = False) -> Callable[[F], F]:
    """Require an admin caller; ``g.scope`` is what they administer. ``write`` refuses
    read-only API keys (403)."""

    def decorate(fn: F) -> F:
        @authenticated(write=write)
        @wraps(fn)
        async def wrapper(*args: Any, **kwargs: Any) -> Any:
            async with services().db.session() as session:
                g.scope = await require_admin(session, g.principal.user)
            return await fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate


def caller() -> Principal:
    """The admin making the request."""
    return g.principal  # type: ignore[no-any-return]


def scope() -> OrgScope:
    """The organizations the caller administers."""
    return g.scope  # type: ignore[no-any-return]


def client_ip() -> str | None:
    return request.remote_addr


def encode_cursor(*values: Any) -> str:
    """An opaque cursor for keyset pagination (the sort key of the last row seen)."""
    raw = json.dumps([v.isoformat() if hasattr(v, "isoformat") else v for v in values])
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None, arity: int) -> list[Any] | None:
    """The values of ``encode_cursor``; a 400 naming ``cursor`` when it was tampered with."""
    if not cursor:
        return None
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (ValueError, binascii.Error, UnicodeDecodeError):
        values = None
    if not isinstance(values, list) or len(values) != arity:
        raise ValidationFailed("invalid cursor", {"cursor": "not a cursor from this API"})
    return values


def keyset_after(cursor: str | None, second: type) -> tuple[datetime, Any] | None:
    """The (created_at, id) a cursor stands for; 400 naming ``cursor`` when forged."""
    values = decode_cursor(cursor, 2)
    if values is None:
        return None
    try:
        at = datetime.fromisoformat(values[0])
    except (TypeError, ValueError):
        at = None
    if at is None or at.tzinfo is None or not isinstance(values[1], second) \
            or isinstance(values[1], bool):
        raise ValidationFailed("invalid cursor", {"cursor": "not a cursor from this API"})
    return at, values[1]



class PageQuery(BaseModel):
    """Cursor pagination: ``limit`` rows after ``cursor`` (from the previous page)."""

    limit: int = 50
    cursor: str | None = None

    def page_size(self) -> int:
        if not 1 <= self.limit <= MAX_PAGE:
            raise ValidationFailed("invalid limit", {"limit": f"1 to {MAX_PAGE}"})
        return self.limit
