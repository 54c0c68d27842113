"""``portico registration token create|list|revoke``: initial access tokens for dynamic
client registration (RFC 7591 §3), from the host.

The operator on the host acts on every organization (like the superadmin). A token is
printed once, by ``create``; it is never logged or audited.
"""

from __future__ import annotations

from typing import Any

import click

from portico.cli.common import emit, run_with_services
from portico.orgs.access import named_org
from portico.protocol.registration.service import (
    create_initial_access_token,
    list_initial_access_tokens,
    revoke_initial_access_token,
    token_status,
)
from portico.services import Services
from portico.storage.models import InitialAccessToken
from portico.storage.models.base import utcnow
from portico.storage.scope import OrgScope

EVERYTHING = OrgScope.everything()


def _row(row: InitialAccessToken) -> dict[str, Any]:
    return {"id": row.id, "organization_id": row.org_id, "description": row.description,
            "status": token_status(row, utcnow()), "uses": row.uses, "max_uses": row.max_uses,
            "created_at": row.created_at.isoformat(),
            "expires_at": row.expires_at.isoformat() if row.expires_at else None}


async def _org_id(svc: Services, ref: str | None) -> str | None:
    if not ref:
        return None
    async with svc.db.session() as session:
        return (await named_org(session, EVERYTHING, ref)).id


@click.group()
def registration() -> None:
    """Dynamic client registration (PORTICO_CLIENT_REGISTRATION)."""


@registration.group("token")
def token() -> None:
    """Initial access tokens: who may register clients when registration needs a token."""


@token.command("create")
@click.option("--org", "org_ref", default=None,
              help="Organization (slug or id) the registered clients join; none: no organization.")
@click.option("--description", default="", help="What the token is for.")
@click.option("--expires-in", type=click.IntRange(60, 366 * 86400), default=None,
              help="Seconds until it expires (default: never).")
@click.option("--max-uses", type=click.IntRange(1, 1_000_000), default=None,
              help="How many clients it may register (default: unlimited).")
@click.option("--json", "as_json", is_flag=True)
def token_create(org_ref: str | None, description: str, expires_in: int | None,
                 max_uses: int | None, as_json: bool) -> None:
    """Create a token and print it (shown this once)."""

    async def work(svc: Services) -> dict[str, Any]:
        issued = await create_initial_access_token(
            svc.db, org_id=await _org_id(svc, org_ref), description=description,
            expires_in=expires_in, max_uses=max_uses, via="cli")
        return {**_row(issued.row), "token": issued.token}

    emit(run_with_services(work), as_json,
         lambda d: f"registration token {d['id']} (shown once):\n{d['token']}")


@token.command("list")
@click.option("--org", "org_ref", default=None, help="Only this organization (slug or id).")
@click.option("--limit", type=click.IntRange(1, 10000), default=1000, show_default=True)
@click.option("--json", "as_json", is_flag=True)
def token_list(org_ref: str | None, limit: int, as_json: bool) -> None:
    """List tokens, oldest first (never the tokens themselves)."""

    async def work(svc: Services) -> list[dict[str, Any]]:
        rows = await list_initial_access_tokens(
            svc.db, EVERYTHING, org_id=await _org_id(svc, org_ref), after=None, limit=limit)
        return [_row(r) for r in rows]

    def human(rows: list[dict[str, Any]]) -> str:
        return "\n".join(
            f"{r['id']}  {r['status']:<8} uses {r['uses']}/{r['max_uses'] or '-'}  "
            f"{r['organization_id'] or '(no organization)'}  {r['description']}"
            for r in rows) or "no registration tokens"

    emit(run_with_services(work), as_json, human)


@token.command("revoke")
@click.argument("token_id")
def token_revoke(token_id: str) -> None:
    """Revoke a token: registrations with it are refused at once."""

    async def work(svc: Services) -> None:
        await revoke_initial_access_token(svc.db, EVERYTHING, token_id, via="cli")

    run_with_services(work)
    click.echo(f"revoked {token_id}")


COMMANDS = [registration]
