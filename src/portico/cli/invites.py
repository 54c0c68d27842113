"""``portico invite create|list|cancel|link``: invitations from the host.

The operator on the host acts on every organization (like the superadmin). Links
are printed because that is what the command is for; they are never logged or
audited. When SMTP is configured ``create`` mails the invitation too.
"""

from __future__ import annotations

from typing import Any

import click

from portico.cli.common import emit, run_with_services
from portico.orgs.invites import (
    InviteConfig,
    cancel_invite,
    create_invite,
    invite_link,
    list_invites,
    resolve_org,
)
from portico.services import Services
from portico.storage.models import Invite, Organization
from portico.storage.models.base import utcnow
from portico.storage.repositories.invites import STATUSES


def _row(invite: Invite, org: Organization) -> dict[str, Any]:
    return {"id": invite.id, "email": invite.email, "role": invite.role,
            "organization": org.slug, "status": invite.status(utcnow()),
            "created_at": invite.created_at.isoformat(),
            "expires_at": invite.expires_at.isoformat()}


def _config(svc: Services) -> InviteConfig:
    return InviteConfig.of(svc.settings, svc.box)


@click.group()
def invite() -> None:
    """Invitations into organizations."""


@invite.command("create")
@click.option("--org", "org_ref", required=True, help="Organization slug (or id).")
@click.option("--email", required=True)
@click.option("--role", type=click.Choice(["member", "admin"]), default="member",
              show_default=True)
@click.option("--json", "as_json", is_flag=True)
def invite_create(org_ref: str, email: str, role: str, as_json: bool) -> None:
    """Invite EMAIL into an organization and print the link (mailed too when SMTP is set)."""

    async def work(svc: Services) -> dict[str, Any]:
        org = await resolve_org(svc.db, None, org_ref)
        made = await create_invite(svc.db, _config(svc), None, org, email, role)
        return {**_row(made.invite, made.org), "link": made.link, "emailed": made.emailed,
                "warning": made.warning}

    def human(d: dict[str, Any]) -> str:
        lines = [f"invited {d['email']} to {d['organization']} as {d['role']} ({d['id']})",
                 f"link (valid until {d['expires_at']}): {d['link']}"]
        if d["emailed"]:
            lines.append("the invitation was mailed")
        elif d["warning"]:
            lines.append(f"warning: {d['warning']}")
        return "\n".join(lines)

    emit(run_with_services(work), as_json, human)


@invite.command("list")
@click.option("--org", "org_ref", default=None, help="Only this organization (slug or id).")
@click.option("--status", type=click.Choice(STATUSES), default=None)
@click.option("--limit", type=click.IntRange(1, 10000), default=1000, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def invite_list(org_ref: str | None, status: str | None, limit: int, as_json: bool) -> None:
    """List invitations, newest first."""

    async def work(svc: Services) -> list[dict[str, Any]]:
        org_id = (await resolve_org(svc.db, None, org_ref)).id if org_ref else None
        rows = await list_invites(svc.db, None, org_id=org_id, status=status, after=None,
                                  limit=limit)
        return [_row(i, o) for i, o in rows]

    def human(rows: list[dict[str, Any]]) -> str:
        return "\n".join(
            f"{r['id']}  {r['status']:<9} {r['organization']:<20} {r['role']:<6} {r['email']}"
            for r in rows) or "no invitations"

    emit(run_with_services(work), as_json, human)


@invite.command("cancel")
@click.argument("invite_id")
def invite_cancel(invite_id: str) -> None:
    """Cancel an invitation: its link stops working at once."""

    async def work(svc: Services) -> None:
        await cancel_invite(svc.db, None, invite_id)

    run_with_services(work)
    click.echo(f"cancelled {invite_id}")


@invite.command("link")
@click.argument("invite_id")
@click.option("--json", "as_json", is_flag=True)
def invite_link_cmd(invite_id: str, as_json: bool) -> None:
    """Print the link of a pending invitation again."""

    async def work(svc: Services) -> dict[str, str]:
        return {"id": invite_id, "link": await invite_link(svc.db, _config(svc), None,
                                                           invite_id)}

    emit(run_with_services(work), as_json, lambda d: d["link"])


COMMANDS = [invite]
