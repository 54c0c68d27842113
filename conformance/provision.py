"""``--provision``: create the test user and the three static clients the plans need,
through the ``portico`` CLI (which reads the deployment's ``PORTICO_*`` environment).

The clients mirror the suite's configuration objects: ``client`` and ``client2``
(client_secret_basic) and ``client_secret_post``.
"""

from __future__ import annotations

import json
import secrets
import subprocess
import sys
import traceback
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from conformance.framework import ClientCreds


class ProvisionError(Exception):
    """The CLI refused; the message says which command and why."""


@dataclass
class Provisioned:
    username: str
    password: str
    client: ClientCreds
    client2: ClientCreds
    post_client: ClientCreds


def _run(
    command: Sequence[str] | None,
    args: list[str],
    *,
    stdin: str | None,
    env: Mapping[str, str] | None,
    cwd: str | None,
) -> str:
    """``command`` (``portico``'s own invocation) with ``args``; its stdout. Without a
    command, Portico's CLI runs in this process when it is importable (the same
    commands, this process's ``PORTICO_*`` environment and directory), which spares a
    Python start-up and Portico's imports per call."""
    if command is None and env is None and cwd is None:
        done = _run_in_process(args, stdin)
        if done is not None:
            code, out, err = done
            if code != 0:
                shown = " ".join(args[:2])
                raise ProvisionError(f"`portico {shown}` failed ({code}): {err.strip()}")
            return out
    proc = subprocess.run(  # noqa: S603 - a fixed argument list, no shell
        [*(command or [sys.executable, "-m", "portico"]), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=dict(env) if env is not None else None,
        cwd=cwd,
        check=False,
    )
    if proc.returncode != 0:
        shown = " ".join(args[:2])
        raise ProvisionError(f"`portico {shown}` failed ({proc.returncode}): {proc.stderr.strip()}")
    return proc.stdout


def _run_in_process(args: list[str], stdin: str | None) -> tuple[int, str, str] | None:
    """(exit code, stdout, stderr) of ``portico *args`` run here; None when Portico is not
    installed beside the runner (then the caller spawns ``python -m portico``)."""
    try:
        from click.testing import CliRunner

        from portico.cli import main
    except ImportError:
        return None
    result = CliRunner().invoke(main, args, input=stdin, prog_name="portico")
    err = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        err += "".join(traceback.format_exception(result.exception))
    return result.exit_code, result.stdout, err


def provision(
    *,
    redirect_uris: list[str],
    request_uri_prefix: str | None,
    command: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
    response_types: Sequence[str] = (),
) -> Provisioned:
    """Create a user and three clients; return their credentials. ``response_types``
    beyond ``code`` are registered for the implicit and hybrid plans."""
    cmd = list(command) if command else None
    tag = secrets.token_hex(4)
    username = f"oidf-{tag}"
    password = f"Oidf-{secrets.token_urlsafe(18)}-9z"
    _run(
        cmd,
        [
            "user",
            "create",
            "--username",
            username,
            "--email",
            f"{username}@example.org",
            "--name",
            "OIDF Conformance Tester",
            "--password-stdin",
        ],
        stdin=password + "\n",
        env=env,
        cwd=cwd,
    )

    def client(name: str, method: str) -> ClientCreds:
        args = [
            "client",
            "add",
            "--name",
            f"OIDF conformance {name} {tag}",
            "--auth-method",
            method,
        ]
        for uri in redirect_uris:
            args += ["--redirect-uri", uri]
        args += ["--grant", "authorization_code", "--grant", "refresh_token"]
        for response_type in response_types:
            args += ["--response-type", response_type]
        if request_uri_prefix:
            args += ["--request-uri", request_uri_prefix]
        args.append("--json")
        out = json.loads(_run(cmd, args, stdin=None, env=env, cwd=cwd))
        return ClientCreds(out["client_id"], out["client_secret"], method)

    return Provisioned(
        username,
        password,
        client("client", "client_secret_basic"),
        client("client2", "client_secret_basic"),
        client("client_secret_post", "client_secret_post"),
    )
