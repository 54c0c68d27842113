"""``portico serve``: Hypercorn serving ``create_app()``, TLS when given a cert.

Two things here matter when running several workers or instances:

* SIGTERM (or Ctrl-C) stops accepting connections and gives in-flight requests
  ``shutdown_grace`` seconds to finish (Hypercorn's ``graceful_timeout``), so a rolling
  deploy does not cut a login or token request in half.
* With ``--workers`` above 1, each worker is its own process with its own Prometheus
  counters. Unless ``PROMETHEUS_MULTIPROC_DIR`` is already set, a private temporary
  directory is made for prometheus-client's multiprocess mode (so ``/metrics`` from any
  worker reports the whole server) and removed when the server stops.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile

import click
from hypercorn.config import Config
from hypercorn.run import run

from portico.cli.common import run_with_services, settings_or_exit
from portico.protocol.first_party import ensure_system_client
from portico.services import Services
from portico.settings import Settings
from portico.storage.migrate import upgrade

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def hypercorn_config(settings: Settings, host: str, port: int, workers: int,
                     certfile: str | None, keyfile: str | None) -> Config:
    """Hypercorn's configuration for ``portico serve`` (bench/profile_requests.py uses it too)."""
    config = Config()
    config.application_path = "portico.app:create_app()"
    config.bind = [f"{host}:{port}"]
    # One worker runs in this process (Hypercorn's workers=0): no spawned child, so
    # half the memory and the same SIGTERM drain. Several workers are spawned processes.
    config.workers = workers if workers > 1 else 0
    config.certfile, config.keyfile = certfile, keyfile
    config.accesslog = "-"
    config.errorlog = "-"
    config.loglevel = settings.log_level.upper()
    config.graceful_timeout = settings.shutdown_grace
    # uvloop (a dependency on Linux) runs the event loop in C: the same requests for
    # less CPU than asyncio's pure-Python loop (bench/README.md).
    config.worker_class = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    return config


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option("--certfile", type=click.Path(exists=True, dir_okay=False), default=None)
@click.option("--keyfile", type=click.Path(exists=True, dir_okay=False), default=None)
def serve(host: str, port: int, workers: int, certfile: str | None, keyfile: str | None) -> None:
    """Serve Portico over HTTP (or HTTPS with --certfile/--keyfile)."""
    if bool(certfile) != bool(keyfile):
        raise click.UsageError("--certfile and --keyfile go together")
    settings = settings_or_exit()

    async def prepare(svc: Services) -> None:
        # Migrate and create keys once here, before any worker starts.
        if settings.is_sqlite:
            await upgrade(svc.db)
        await svc.keys.ensure_keys()
        async with svc.db.session() as session:
            await ensure_system_client(session)

    run_with_services(prepare, policy=False)
    config = hypercorn_config(settings, host, port, workers, certfile, keyfile)
    own_metrics_dir = None
    if workers > 1 and not os.environ.get(MULTIPROC_ENV):
        # Workers are spawned processes: they inherit this and read it at import time.
        own_metrics_dir = tempfile.mkdtemp(prefix="portico-metrics-")
        os.environ[MULTIPROC_ENV] = own_metrics_dir
    click.echo(
        f"Portico {settings.issuer} serving on {'https' if certfile else 'http'}://{host}:{port}"
    )
    try:
        code = run(config)
    finally:
        if own_metrics_dir is not None:
            shutil.rmtree(own_metrics_dir, ignore_errors=True)
            os.environ.pop(MULTIPROC_ENV, None)
    sys.exit(code)


COMMANDS = [serve]
