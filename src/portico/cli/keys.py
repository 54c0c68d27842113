"""``portico keys list|rotate``."""

from __future__ import annotations

import click

from portico.cli.common import emit, run_with_services
from portico.crypto.signing_keys import SUPPORTED_ALGS
from portico.services import Services
from portico.storage.models import SigningKey


def _row(k: SigningKey) -> dict[str, object]:
    return {
        "kid": k.kid,
        "alg": k.alg,
        "status": k.status,
        "created_at": k.created_at,
        "activated_at": k.activated_at,
        "retired_at": k.retired_at,
        "published_until": k.expires_at,
    }


def _human(rows: list[dict[str, object]]) -> str:
    return "\n".join(
        f"{r['alg']:<6} {r['status']:<8} {r['kid']}"
        + (f"  published until {r['published_until']}" if r["published_until"] else "")
        for r in rows
    )


@click.group()
def keys() -> None:
    """Signing keys."""


@keys.command("list")
@click.option("--json", "as_json", is_flag=True)
def keys_list(as_json: bool) -> None:
    """List signing keys and their state."""

    async def work(svc: Services) -> list[dict[str, object]]:
        await svc.keys.ensure_keys()
        return [_row(k) for k in await svc.keys.list_keys()]

    emit(run_with_services(work), as_json, _human)


@keys.command("rotate")
@click.option(
    "--alg",
    "algs",
    type=click.Choice(SUPPORTED_ALGS),
    multiple=True,
    help="Rotate only these algorithms (default: all).",
)
@click.option("--json", "as_json", is_flag=True)
def keys_rotate(algs: tuple[str, ...], as_json: bool) -> None:
    """Promote the published next key, retire the current one, publish a new next key."""

    chosen = algs or SUPPORTED_ALGS

    async def work(svc: Services) -> list[dict[str, object]]:
        from sqlalchemy.ext.asyncio import AsyncSession

        from portico.audit.recorder import record

        await svc.keys.ensure_keys()

        async def rotate(session: AsyncSession) -> list[dict[str, object]]:
            rows = await svc.keys.rotate(chosen, session=session)
            activated = [k.kid[:12] for k in rows if k.status == "active" and k.alg in chosen]
            await record(session, "keys.rotated", target="signing_keys", algs=list(chosen),
                         activated=activated, via="cli")
            return [_row(k) for k in rows]

        return await svc.db.run(rotate)

    emit(run_with_services(work), as_json, _human)


COMMANDS = [keys]
