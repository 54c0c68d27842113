"""What a module is, what it reports, and the shared state of one run.

A module mirrors one OIDF test module. Like the suite's ``callAndContinueOnFailure``
/ ``callAndStopOnFailure``, a check either records a failure and goes on
(:meth:`ModuleRun.check`) or stops the module (:meth:`ModuleRun.require`); checks the suite
runs at WARNING level go through :meth:`ModuleRun.warn_unless`. A module that cannot be
tested for a reason the suite accepts raises :class:`Skipped`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NoReturn

import httpx

PASS = "PASS"
FAIL = "FAIL"
SKIPPED = "SKIPPED"


class Stop(Exception):
    """A ``require`` failed: the module cannot go on."""


class Skipped(Exception):
    """The module is skipped, for a reason the OIDF module itself accepts."""


@dataclass
class ClientCreds:
    """A statically registered client, as in the suite's ``client`` config objects."""

    client_id: str
    client_secret: str
    auth_method: str  # client_secret_basic | client_secret_post


@dataclass
class RunEnv:
    """What every module may use: the OP's metadata, the clients and the test user."""

    issuer: str
    discovery_url: str
    username: str
    password: str
    redirect_uri: str
    client: ClientCreds
    client2: ClientCreds
    post_client: ClientCreds
    http: httpx.Client
    verify: bool | str = True
    login_hint: str | None = None
    ui_locales: str = "se"
    request_uri_base: str | None = None
    publish: Callable[[str], str] | None = None  # request object -> its request_uri
    discovery: dict[str, Any] = field(default_factory=dict)
    discovery_response: httpx.Response | None = None
    jwks: dict[str, Any] = field(default_factory=dict)
    # The plan's variant: response_type and response_mode (None: the type's default).
    response_type: str = "code"
    response_mode: str | None = None
    # What a plan's modules need beyond this (``logout``: conformance.logout_rig).
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def loopback(self) -> bool:
        """A plain-HTTP loopback deployment (a local test run): HTTPS is not asserted."""
        from urllib.parse import urlsplit

        parts = urlsplit(self.issuer)
        return parts.scheme == "http" and (parts.hostname or "") in (
            "127.0.0.1",
            "localhost",
            "::1",
        )

    def endpoint(self, name: str) -> str:
        value = self.discovery.get(name)
        if not isinstance(value, str):
            raise Stop(f"the discovery document has no {name}")
        return value


@dataclass
class Result:
    """One module's verdict."""

    name: str
    plan: str
    status: str
    reason: str = ""
    failures: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "plan": self.plan,
            "status": self.status,
            "reason": self.reason,
            "failures": self.failures,
            "warnings": self.warnings,
            "notes": self.notes,
            "seconds": round(self.seconds, 2),
        }


class ModuleRun:
    """The running module: collects failures and warnings."""

    def __init__(self, name: str, env: RunEnv) -> None:
        self.name = name
        self.env = env
        self.failures: list[str] = []
        self.warnings: list[str] = []
        self.notes: list[str] = []
        self.step = ""

    def _label(self, message: str) -> str:
        return f"{self.step}: {message}" if self.step else message

    def check(self, ok: object, message: str) -> bool:
        """A FAILURE-level condition that lets the module continue."""
        if not ok:
            self.failures.append(self._label(message))
        return bool(ok)

    def require(self, ok: object, message: str) -> None:
        """A FAILURE-level condition that stops the module."""
        if not ok:
            self.fail(message)

    def fail(self, message: str) -> NoReturn:
        self.failures.append(self._label(message))
        raise Stop(message)

    def warn_unless(self, ok: object, message: str) -> bool:
        """A WARNING-level condition (the suite reports it but the module passes)."""
        if not ok:
            self.warnings.append(self._label(message))
        return bool(ok)

    def note(self, message: str) -> None:
        self.notes.append(message)

    def skip(self, reason: str) -> NoReturn:
        raise Skipped(reason)


ModuleFn = Callable[[ModuleRun], None]


@dataclass(frozen=True)
class Module:
    """One OIDF test module: its suite name, the plan it belongs to, and its checks."""

    name: str
    plan: str
    run: ModuleFn
    note: str = ""


def execute(module: Module, env: RunEnv) -> Result:
    """Run one module; never raises."""
    test = ModuleRun(module.name, env)
    if module.note:
        test.note(module.note)
    started = time.monotonic()
    status, reason = PASS, ""
    try:
        module.run(test)
    except Skipped as skip:
        status, reason = SKIPPED, str(skip)
    except Stop:
        pass
    except httpx.HTTPError as exc:
        test.failures.append(test._label(f"HTTP error: {type(exc).__name__}: {exc}"))
    except Exception as exc:  # noqa: BLE001 - a runner bug must not hide the other modules
        test.failures.append(test._label(f"runner error: {type(exc).__name__}: {exc}"))
    if test.failures and status != SKIPPED:
        status, reason = FAIL, test.failures[0]
    elif test.failures:
        # Failures found before a skip condition still fail the module.
        status, reason = FAIL, test.failures[0]
    return Result(
        module.name,
        module.plan,
        status,
        reason,
        test.failures,
        test.warnings,
        test.notes,
        time.monotonic() - started,
    )
