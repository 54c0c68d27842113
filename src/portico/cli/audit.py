"""``portico audit tail``: the newest audit events, for operators on the host.

Events hold summaries only (``audit.redact`` strips secrets before storage), so
printing them is safe.
"""

from __future__ import annotations

import click

from portico.cli.common import emit, run_with_services
from portico.services import Services


@click.group()
def audit() -> None:
    """The audit log."""


def _line(event: dict[str, object]) -> str:
    details = event["details"]
    extra = " ".join(f"{k}={v}" for k, v in details.items()) if isinstance(details, dict) else ""
    parts = [str(event["at"])[:19], str(event["action"]), str(event["outcome"])]
    for name in ("actor_id", "target", "ip"):
        if event[name]:
            parts.append(f"{name.removesuffix('_id')}={event[name]}")
    return "  ".join(parts) + (f"  {extra}" if extra else "")


@audit.command("tail")
@click.option("--limit", "-n", type=click.IntRange(1, 10000), default=20, show_default=True)
@click.option("--action", default=None, help="Only this action, e.g. login.failed.")
@click.option("--json", "as_json", is_flag=True)
def audit_tail(limit: int, action: str | None, as_json: bool) -> None:
    """Print the newest events, oldest first (like tail)."""

    async def work(svc: Services) -> list[dict[str, object]]:
        from portico.storage.repositories.audit import AuditLog

        async with svc.db.session() as session:
            events = await AuditLog(session).recent(limit=limit, action=action)
        return [
            {
                "id": e.id,
                "at": e.at.isoformat(),
                "action": e.action,
                "outcome": e.outcome,
                "actor_id": e.actor_id,
                "org_id": e.org_id,
                "target": e.target,
                "ip": e.ip,
                "user_agent": e.user_agent,
                "details": e.details,
            }
            for e in reversed(events)
        ]

    emit(run_with_services(work), as_json,
         lambda rows: "\n".join(_line(r) for r in rows) or "no events")


COMMANDS = [audit]
