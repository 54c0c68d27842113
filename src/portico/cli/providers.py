"""``portico provider add|list|test|remove``: upstream identity providers from the host.

The client secret comes on standard input (``--client-secret-stdin``), never as an
argument (arguments show in ``ps`` and shell history), and is never printed.
"""

from __future__ import annotations

import json
import sys
from typing import Any

import click

from portico.cli.common import emit, read_secret_stdin, run_with_services
from portico.errors import NotFound
from portico.federation.flow import CALLBACK_PATH
from portico.federation.kinds import get_kind, kind_names
from portico.federation.probe import run_probe
from portico.federation.providers import (
    admin_view,
    create_provider,
    delete_provider,
    provider_config,
)
from portico.services import Services
from portico.storage.models import IdentityProvider
from portico.storage.repositories.federation import Providers
from portico.storage.repositories.users import Organizations

KINDS = tuple(kind_names())


def _option(pairs: tuple[str, ...]) -> dict[str, Any]:
    options: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name:
            raise click.UsageError(f"--option takes NAME=VALUE, not {pair!r}")
        try:
            options[name] = json.loads(raw)
        except ValueError:
            options[name] = raw
    return options


@click.group()
def provider() -> None:
    """Upstream identity providers people can sign in with."""


@provider.command("add")
@click.option("--slug", required=True, help="Short name, used in URLs and ?idp=.")
@click.option("--kind", required=True, type=click.Choice(KINDS))
@click.option("--issuer", default=None,
              help="Issuer URL (OIDC discovery), or the base URL of a self-hosted GitHub/GitLab.")
@click.option("--client-id", required=True)
@click.option("--client-secret-stdin", is_flag=True, help="Read the client secret from stdin.")
@click.option("--scope", "scopes", multiple=True, help="Repeat, or give several separated by "
              "spaces (default: the kind's).")
@click.option("--allow-signup", is_flag=True, help="Create accounts for new people.")
@click.option("--trust-email-for-linking", is_flag=True,
              help="Link to an existing account whose email the provider verified.")
@click.option("--display-name", default=None, help="Shown on the button (default: slug).")
@click.option("--email-domain", "domains", multiple=True,
              help="Route these addresses here from /login; new people must use one.")
@click.option("--org", "org_slug", default=None, help="Organization new people join.")
@click.option("--authorization-url", default=None, help="oauth2 kind: authorization endpoint.")
@click.option("--token-url", default=None, help="oauth2 kind: token endpoint.")
@click.option("--userinfo-url", default=None, help="oauth2 kind: userinfo endpoint.")
@click.option("--option", "options", multiple=True, metavar="NAME=VALUE",
              help="A kind option, e.g. tenant=contoso.onmicrosoft.com (repeat).")
@click.option("--disabled", is_flag=True, help="Add it switched off.")
@click.option("--json", "as_json", is_flag=True)
def provider_add(slug: str, kind: str, issuer: str | None, client_id: str,
                 client_secret_stdin: bool, scopes: tuple[str, ...], allow_signup: bool,
                 trust_email_for_linking: bool, display_name: str | None,
                 domains: tuple[str, ...], org_slug: str | None,
                 authorization_url: str | None, token_url: str | None,
                 userinfo_url: str | None, options: tuple[str, ...], disabled: bool,
                 as_json: bool) -> None:
    """Add a provider (the secret is sealed at rest and never shown again)."""
    secret = read_secret_stdin("client secret") if client_secret_stdin else None
    opts = _option(options)
    for name, value in (("authorization_endpoint", authorization_url),
                        ("token_endpoint", token_url), ("userinfo_endpoint", userinfo_url)):
        if value:
            opts[name] = value
    body: dict[str, Any] = {
        "slug": slug, "kind": kind, "issuer": issuer, "client_id": client_id,
        "client_secret": secret, "allow_signup": allow_signup,
        "trust_email_for_linking": trust_email_for_linking, "display_name": display_name,
        "email_domains": list(domains), "options": opts, "enabled": not disabled,
        "scopes": [s for value in scopes for s in value.split()] or None,
    }

    async def work(svc: Services) -> dict[str, Any]:
        if org_slug:
            async with svc.db.session() as session:
                org = await Organizations(session).by_slug(org_slug)
            if org is None:
                raise NotFound(f"no organization {org_slug}")
            body["org_id"] = org.id
        row = await create_provider(svc.db, svc.box, {k: v for k, v in body.items()
                                                      if v is not None},
                                    actor_id=None, via="cli")
        view = admin_view(row)
        view["callback_url"] = svc.settings.issuer + CALLBACK_PATH.format(slug=row.slug)
        return view

    emit(run_with_services(work), as_json,
         lambda v: f"added {v['slug']} ({v['kind']}, id {v['id']})\n"
                   f"register this redirect URI upstream: {v['callback_url']}")


@provider.command("list")
@click.option("--json", "as_json", is_flag=True)
def provider_list(as_json: bool) -> None:
    """List providers."""

    async def work(svc: Services) -> list[dict[str, Any]]:
        async with svc.db.session() as session:
            return [admin_view(r) for r in await Providers(session).page(1000)]

    emit(run_with_services(work), as_json, lambda rows: "\n".join(
        f"{r['slug']:<20} {r['kind']:<10} {'enabled ' if r['enabled'] else 'disabled'} "
        f"{r['issuer'] or ''}" for r in rows) or "no providers")


async def _find(svc: Services, slug: str) -> IdentityProvider:
    async with svc.db.session() as session:
        row = await Providers(session).by_slug(slug)
    if row is None:
        raise NotFound(f"no provider {slug}")
    return row


@provider.command("test")
@click.argument("slug")
@click.option("--json", "as_json", is_flag=True)
def provider_test(slug: str, as_json: bool) -> None:
    """Check discovery, keys, endpoints and credentials; exit 1 when a check fails."""

    async def work(svc: Services) -> dict[str, Any]:
        from portico.audit.recorder import record

        row = await _find(svc, slug)
        connector = get_kind(row.kind).factory(
            provider_config(row, svc.box, svc.settings.upstream_timeout))
        checks = await run_probe(connector, svc.settings.issuer
                                 + CALLBACK_PATH.format(slug=row.slug))
        ok = all(c.ok is not False for c in checks)
        async with svc.db.session() as session:
            await record(session, "provider.tested", outcome="success" if ok else "failure",
                         target=f"provider:{row.id}", via="cli",
                         failed_checks=[c.name for c in checks if c.ok is False])
        return {"ok": ok, "checks": [{"name": c.name, "ok": c.ok, "message": c.message}
                                     for c in checks]}

    report = run_with_services(work)
    mark = {True: "ok  ", False: "FAIL", None: "--  "}
    emit(report, as_json, lambda r: "\n".join(
        f"{mark[c['ok']]} {c['name']:<24} {c['message']}" for c in r["checks"]))
    if not report["ok"]:
        sys.exit(1)


@provider.command("remove")
@click.argument("slug")
def provider_remove(slug: str) -> None:
    """Delete a provider and its links (people keep their accounts)."""

    async def work(svc: Services) -> None:
        row = await _find(svc, slug)
        await delete_provider(svc.db, row.id, actor_id=None, via="cli")

    run_with_services(work)
    click.echo(f"removed {slug}")


COMMANDS = [provider]
