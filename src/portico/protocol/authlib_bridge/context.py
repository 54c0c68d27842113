"""Per-request state shared by the sync hooks, and the sync-to-async step."""

from __future__ import annotations

from collections.abc import Awaitable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.util import await_only

from portico.crypto.signing_keys import LoadedKeys
from portico.settings import Settings

T = TypeVar("T")
AUTH_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"]
CONFIDENTIAL_METHODS = ["client_secret_basic", "client_secret_post", "private_key_jwt"]
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass
class Call:
    """Per-request state the sync hooks read: the transaction, settings, keys."""

    session: AsyncSession
    settings: Settings
    keys: LoadedKeys
    remote_jwks: dict[str, dict[str, Any]]
    ip: str | None
    minted: dict[str, tuple[str, int]] = field(default_factory=dict)


current_call: ContextVar[Call] = ContextVar("portico_authlib_call")


def run_async(coro: Awaitable[T]) -> T:
    """Drive an async repository call from inside a sync authlib hook."""
    return await_only(coro)  # type: ignore[arg-type]


def timestamp(value: datetime) -> int:
    return int(value.timestamp())
