"""The connector interface every provider kind implements, and what it returns."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from portico.errors import PorticoError


class UpstreamError(PorticoError):
    """A sign-in through an upstream failed. ``reason`` is a short fixed code for the
    audit log (``unreachable``, ``timeout``, ``invalid_id_token``...); ``message`` is
    safe to show; ``detail`` is private and never rendered."""

    def __init__(self, reason: str, message: str, *, detail: str | None = None) -> None:
        super().__init__(message, detail=detail)
        self.reason = reason


@dataclass(frozen=True)
class ProviderConfig:
    """An opened provider row: what a connector needs, the secret already unsealed."""

    id: str
    slug: str
    display_name: str
    kind: str
    version: int
    issuer: str | None
    options: Mapping[str, Any]
    client_id: str
    client_secret: str | None = field(repr=False)
    scopes: tuple[str, ...]
    timeout: float = 10.0


@dataclass(frozen=True)
class FlowSecrets:
    """The per-trip values sent upstream and checked on the way back."""

    state: str = field(repr=False)
    nonce: str = field(repr=False)
    code_verifier: str = field(repr=False)


@dataclass(frozen=True)
class LoginHints:
    """What Portico's own /authorize asked for, passed on upstream."""

    force_login: bool = False
    max_age: int | None = None
    login_hint: str | None = None


@dataclass(frozen=True)
class UpstreamResult:
    """Claims about the person (ID token merged with userinfo, or the API's answer)
    and how the upstream authenticated them."""

    claims: Mapping[str, Any] = field(repr=False)
    acr: str | None = None
    amr: tuple[str, ...] = ()
    auth_time: datetime | None = None


@dataclass(frozen=True)
class Check:
    """One line of a provider test report."""

    name: str
    ok: bool | None  # None: skipped / not checkable
    message: str


class Connector(Protocol):
    """Talks to one upstream. Implementations keep only their kind's quirks."""

    config: ProviderConfig

    async def authorization_url(self, redirect_uri: str, flow: FlowSecrets,
                                hints: LoginHints) -> str:
        """Where to send the browser."""
        ...

    async def complete(self, redirect_uri: str, flow: FlowSecrets,
                       params: Mapping[str, str]) -> UpstreamResult:
        """Check the callback, redeem the code and return validated claims."""
        ...


@runtime_checkable
class Probe(Protocol):
    """Optional capability: checks an admin runs before trusting a configuration."""

    async def probe(self, redirect_uri: str = "") -> list[Check]:
        ...
