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
@click.option("--action", default=None,
              help="Only this action (login.failed), or a prefix ending in * (login.*).")
@click.option("--org", default=None, metavar="SLUG", help="Only this organization (slug or id).")
@click.option("--actor", default=None, metavar="USER_ID", help="Only events by this user.")
@click.option("--outcome", default=None, help="Only this outcome (success, failure...).")
@click.option("--json", "as_json", is_flag=True)
def audit_tail(limit: int, action: str | None, org: str | None, actor: str | None,
               outcome: str | None, as_json: bool) -> None:
    """Print the newest events, oldest first (like tail)."""
    prefix = action[:-1] if action and action.endswith("*") else None

    async def work(svc: Services) -> list[dict[str, object]]:
        from portico.orgs.access import named_org
        from portico.storage.repositories.audit import AuditFilter, AuditLog
        from portico.storage.scope import OrgScope

        everything = OrgScope.everything()
        async with svc.db.session() as session:
            org_id = (await named_org(session, everything, org)).id if org else None
            where = AuditFilter(actor_id=actor, org_id=org_id, outcome=outcome,
                                action=None if prefix is not None else action or None,
                                action_prefix=prefix)
            events = await AuditLog(session).page(everything, where, limit=limit)
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
