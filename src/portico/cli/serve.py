"""``portico serve``: Hypercorn serving ``create_app()``, TLS when given a cert."""

from __future__ import annotations

import click
from hypercorn.config import Config
from hypercorn.run import run

from portico.cli.common import run_with_services, settings_or_exit
from portico.services import Services
from portico.storage.migrate import upgrade


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

    run_with_services(prepare)
    config = Config()
    config.application_path = "portico.app:create_app()"
    config.bind = [f"{host}:{port}"]
    config.workers = workers
    config.certfile, config.keyfile = certfile, keyfile
    config.accesslog = "-"
    config.errorlog = "-"
    config.loglevel = settings.log_level.upper()
    click.echo(
        f"Portico {settings.issuer} serving on {'https' if certfile else 'http'}://{host}:{port}"
    )
    run(config)


COMMANDS = [serve]
