"""The ``portico`` CLI run inside the test process, for tests that only use it to set
things up (a user, a client, an admin) before exercising a real server.

Each ``python -m portico`` subprocess spent about two seconds importing Portico; this
runs the same click command in this process instead. Tests whose subject is the CLI
process itself (tests/cli/) still spawn it.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import threading
import traceback
from collections.abc import Mapping, Sequence
from pathlib import Path

# One CLI run at a time: click's runner swaps sys.stdin/stdout and os.environ, and the
# working directory is the process's.
_LOCK = threading.Lock()


def run_cli(
    args: Sequence[str],
    *,
    env: Mapping[str, str],
    cwd: str | Path,
    stdin: str | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """``python -m portico *args`` as a subprocess with ``env`` in ``cwd`` would run it:
    the same ``PORTICO_*`` variables (and none of this process's), directory, stdin,
    exit code, stdout and stderr; ``check`` raises ``CalledProcessError`` like
    ``subprocess.run``."""
    from click.testing import CliRunner, Result

    from portico.cli import main

    changes: dict[str, str | None] = {k: None for k in os.environ if k.startswith("PORTICO_")}
    changes.update({k: v for k, v in env.items() if k.startswith("PORTICO_")})
    results: list[Result] = []

    def invoke() -> None:
        runner = CliRunner()
        results.append(runner.invoke(main, list(args), input=stdin, env=changes,
                                     prog_name="portico"))

    with _LOCK, contextlib.chdir(cwd):
        # Its own thread: commands run their own event loop (asyncio.run), which cannot
        # start inside an async test's running loop.
        worker = threading.Thread(target=invoke, name="portico-cli")
        worker.start()
        worker.join()
    (result,) = results
    stderr = result.stderr
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        stderr += "".join(traceback.format_exception(result.exception))
    done = subprocess.CompletedProcess[str](
        [sys.executable, "-m", "portico", *args], result.exit_code, result.stdout, stderr)
    if check:
        done.check_returncode()
    return done

