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
class Issue:
    """What a grant decided about the tokens it is about to mint, beyond the scope.

    ``audience``: ``aud`` when narrowed by resource indicators or token exchange
    (RFC 8707, RFC 8693); ``jkt``: the DPoP key the access token is bound to (RFC 9449
    §6); ``refresh_jkt`` / ``resource``: what a new refresh token keeps; ``actor``: the
    ``act`` claim of a delegated token (RFC 8693 §4.1); ``subject``: the access-token
    record a token exchange starts from (its organization, session and family carry
    over, so revoking the original revokes what was exchanged for it).
    """

    audience: list[str] | None = None
    jkt: str | None = None
    refresh_jkt: str | None = None
    resource: list[str] | None = None
    actor: dict[str, Any] | None = None
    subject: Any = None

    @property
    def token_type(self) -> str:
        """RFC 9449 §5: "DPoP" for a key-bound access token."""
        return "DPoP" if self.jkt else "Bearer"

    def claims(self) -> dict[str, Any]:
        """Access-token claims beyond RFC 9068's own."""
        extra: dict[str, Any] = {}
        if self.jkt:
            extra["cnf"] = {"jkt": self.jkt}
        if self.actor:
            extra["act"] = self.actor
        return extra


@dataclass
class Call:
    """Per-request state the sync hooks read: the transaction, settings, keys."""

    session: AsyncSession
    settings: Settings
    keys: LoadedKeys
    remote_jwks: dict[str, dict[str, Any]]
    ip: str | None
    minted: dict[str, tuple[str, int]] = field(default_factory=dict)
    issue: Issue = field(default_factory=Issue)


current_call: ContextVar[Call] = ContextVar("portico_authlib_call")


def run_async(coro: Awaitable[T]) -> T:
    """Drive an async repository call from inside a sync authlib hook."""
    return await_only(coro)  # type: ignore[arg-type]


def timestamp(value: datetime) -> int:
    return int(value.timestamp())
