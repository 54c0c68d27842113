"""``portico maintenance run``: one clean-up pass now (for cron, or after an import).

The server runs the same pass every ``maintenance_interval`` seconds; running it by
hand at the same time is safe: the lease makes one of them step aside.
"""

from __future__ import annotations

import click

from portico.cli.common import emit, run_with_services
from portico.services import Services


@click.group()
def maintenance() -> None:
    """Database housekeeping."""


@maintenance.command("run")
@click.option("--json", "as_json", is_flag=True)
def maintenance_run(as_json: bool) -> None:
    """Delete expired sessions, codes, tokens, login requests and retired keys."""

    async def work(svc: Services) -> dict[str, object]:
        from datetime import timedelta

        from portico.storage.maintenance import Retention, run_pass

        retention = Retention(invites=timedelta(seconds=svc.settings.invite_ttl))
        counts = await run_pass(svc.db, retention=retention)
        return {"ran": counts is not None, "deleted": counts or {}}

    def human(data: dict[str, object]) -> str:
        if not data["ran"]:
            return "skipped: another instance is running a maintenance pass"
        deleted = data["deleted"]
        assert isinstance(deleted, dict)
        parts = [f"{n} {table}" for table, n in deleted.items() if n]
        return "removed " + (", ".join(parts) if parts else "nothing (all clean)")

    emit(run_with_services(work), as_json, human)


COMMANDS = [maintenance]
