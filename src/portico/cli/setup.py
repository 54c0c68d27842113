"""``portico init`` and ``portico db upgrade``."""

from __future__ import annotations

from pathlib import Path

import click

from portico.cli.common import run_with_services, settings_or_exit
from portico.crypto.secretbox import write_master_key
from portico.services import Services
from portico.storage.migrate import current_revision, upgrade


@click.command()
def init() -> None:
    """Create the data directory, master key, database schema and signing keys (idempotent)."""
    settings = settings_or_exit()
    keys_dir = Path(settings.keys_dir)
    keys_dir.mkdir(parents=True, exist_ok=True)
    if settings.secret_key is None and write_master_key(keys_dir / "secret.key"):
        click.echo(f"wrote master key {keys_dir / 'secret.key'} (mode 0600); back it up")

    async def work(svc: Services) -> None:
        await upgrade(svc.db)
        created = await svc.keys.ensure_keys()
        click.echo(f"database at revision {await current_revision(svc.db)}")
        click.echo(f"signing keys: {len(created)} created" if created else "signing keys: ok")

    run_with_services(work, policy=False)


@click.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations."""

    async def work(svc: Services) -> None:
        await upgrade(svc.db)
        click.echo(f"database at revision {await current_revision(svc.db)}")

    run_with_services(work, policy=False)


COMMANDS = [init, db]
