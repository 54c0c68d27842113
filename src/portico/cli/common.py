"""Helpers shared by CLI commands: settings, services, output."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import click

from portico.errors import PolicyViolation, PorticoError, ValidationFailed
from portico.services import Services, build_services
from portico.settings import Settings, SettingsError, load_settings

T = TypeVar("T")


def settings_or_exit() -> Settings:
    """Load settings or exit with the validation message (exit code 2)."""
    try:
        return load_settings()
    except SettingsError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


def run_with_services(fn: Callable[[Services], Awaitable[T]], *, policy: bool = True) -> T:
    """Build services, run ``fn``, dispose the engine; domain errors exit cleanly.

    ``policy`` applies the authentication policy admins stored in the database (off for
    the commands that create or migrate the schema it lives in)."""
    settings = settings_or_exit()

    async def main() -> T:
        try:
            svc = build_services(settings)
        except SettingsError as exc:
            raise click.ClickException(str(exc)) from None
        from portico.policy import install_policy

        try:
            if policy:
                await install_policy(svc)
            return await fn(svc)
        finally:
            await svc.fetcher.aclose()
            await svc.db.dispose()

    try:
        return asyncio.run(main())
    except PolicyViolation as exc:
        raise click.ClickException(f"{exc.message}: needs " + ", ".join(exc.problems)) from None
    except ValidationFailed as exc:
        detail = "; ".join(f"{k}: {v}" for k, v in exc.fields.items())
        raise click.ClickException(f"{exc.message} ({detail})") from None
    except PorticoError as exc:
        raise click.ClickException(exc.message) from None


def emit(data: Any, as_json: bool, human: Callable[[Any], str]) -> None:
    """Print ``data`` as JSON or as human text."""
    click.echo(json.dumps(data, indent=2, default=str) if as_json else human(data))


def read_secret_stdin(what: str) -> str:
    """One line from stdin (no echo, no prompt): how scripts pass secrets."""
    if sys.stdin is None or sys.stdin.isatty():
        raise click.UsageError(f"pipe the {what} on standard input")
    value = sys.stdin.readline().rstrip("\r\n")
    if not value:
        raise click.UsageError(f"the {what} on standard input is empty")
    return value
