"""``portico client add|list|remove``."""

from __future__ import annotations

import json
from dataclasses import asdict

import click

from portico.cli.common import emit, run_with_services
from portico.clients import (
    AUTH_METHODS,
    GRANT_TYPES,
    ClientFields,
    owner_org,
    public_jwks,
    register_client,
    remove_client,
)
from portico.errors import Forbidden
from portico.protocol.authorize.request_object import SIGNED_ALGS
from portico.protocol.authorize.response import RESPONSE_TYPES
from portico.protocol.first_party import SYSTEM_CLIENT_ID
from portico.services import Services
from portico.storage.repositories.clients import Clients
from portico.storage.scope import OrgScope


@click.group()
def client() -> None:
    """Relying parties (OAuth clients)."""


@client.command("add")
@click.option("--name", required=True)
@click.option("--redirect-uri", "redirect_uris", multiple=True)
@click.option("--post-logout-redirect-uri", "logout_uris", multiple=True)
@click.option(
    "--auth-method",
    type=click.Choice(AUTH_METHODS),
    default="client_secret_basic",
    show_default=True,
)
@click.option(
    "--grant",
    "grants",
    type=click.Choice(GRANT_TYPES),
    multiple=True,
    help="Repeat for several (default: authorization_code, refresh_token).",
)
@click.option("--first-party", is_flag=True, help="Trusted app: skip the consent page.")
@click.option("--scope", default="", help="Allowed scopes (default: all supported).")
@click.option(
    "--id-token-alg",
    type=click.Choice(["RS256", "ES256", "EdDSA"]),
    default="RS256",
    show_default=True,
)
@click.option(
    "--userinfo-alg",
    type=click.Choice(["RS256", "ES256", "EdDSA"]),
    default=None,
    help="Sign userinfo responses with this algorithm.",
)
@click.option(
    "--access-token-alg",
    type=click.Choice(["RS256", "ES256", "EdDSA"]),
    default=None,
    help="Sign this client's RFC 9068 access tokens with this algorithm (default RS256).",
)
@click.option(
    "--jwks-file",
    type=click.File("r"),
    default=None,
    help="Public JWKS (private_key_jwt, signed request objects).",
)
@click.option("--jwks-uri", default=None)
@click.option(
    "--request-uri",
    "request_uris",
    multiple=True,
    help="Allowed request_uri (a value ending in / allows that prefix).",
)
@click.option("--backchannel-logout-uri", default=None,
              help="Where logout tokens are POSTed (OIDC Back-Channel Logout 1.0).")
@click.option("--backchannel-logout-session-required", is_flag=True,
              help="The client needs sid in logout tokens (Portico always sends it).")
@click.option("--frontchannel-logout-uri", default=None,
              help="Loaded in an iframe at sign-out (OIDC Front-Channel Logout 1.0).")
@click.option("--frontchannel-logout-session-required", is_flag=True,
              help="Add iss and sid to the front-channel logout URI.")
@click.option(
    "--response-type",
    "response_types",
    type=click.Choice(RESPONSE_TYPES),
    multiple=True,
    help="Repeat for several (default: code). Implicit and hybrid types are opt-in.",
)
@click.option("--assertion-alg", "assertion_alg", type=click.Choice(SIGNED_ALGS), default=None,
              help="The only algorithm its private_key_jwt assertions may use.")
@click.option("--require-par", is_flag=True,
              help="Accept authorization requests only through /par (RFC 9126).")
@click.option("--dpop-bound", is_flag=True,
              help="Every token request must carry a DPoP proof (RFC 9449).")
@click.option("--client-id", default=None, help="Choose the client_id (default: random).")
@click.option("--org", "org", default=None, metavar="SLUG",
              help="Organization (slug or id) that owns the client (default: instance-wide).")
@click.option("--json", "as_json", is_flag=True)
def client_add(
    name: str,
    redirect_uris: tuple[str, ...],
    logout_uris: tuple[str, ...],
    auth_method: str,
    grants: tuple[str, ...],
    first_party: bool,
    scope: str,
    id_token_alg: str,
    userinfo_alg: str | None,
    access_token_alg: str | None,
    jwks_file: click.File | None,
    jwks_uri: str | None,
    request_uris: tuple[str, ...],
    response_types: tuple[str, ...],
    backchannel_logout_uri: str | None,
    backchannel_logout_session_required: bool,
    frontchannel_logout_uri: str | None,
    frontchannel_logout_session_required: bool,
    assertion_alg: str | None,
    require_par: bool,
    dpop_bound: bool,
    client_id: str | None,
    org: str | None,
    as_json: bool,
) -> None:
    """Register a client; prints the secret once."""
    jwks = json.load(jwks_file) if jwks_file else None  # type: ignore[arg-type]

    async def work(svc: Services) -> dict[str, object]:
        org_id = await owner_org(svc.db, OrgScope.everything(), org)
        reg = await register_client(
            svc.db,
            name=name,
            redirect_uris=list(redirect_uris),
            post_logout_redirect_uris=list(logout_uris),
            auth_method=auth_method,
            grant_types=list(grants) or None,
            first_party=first_party,
            scope=scope,
            id_token_alg=id_token_alg,
            userinfo_alg=userinfo_alg,
            jwks=jwks,
            jwks_uri=jwks_uri,
            request_uris=list(request_uris),
            metadata=({"response_types": list(response_types)} if response_types else {})
            | ({"access_token_signed_response_alg": access_token_alg}
               if access_token_alg else {})
            | {"require_pushed_authorization_requests": require_par,
               "dpop_bound_access_tokens": dpop_bound,
               "token_endpoint_auth_signing_alg": assertion_alg},
            backchannel_logout_uri=backchannel_logout_uri,
            backchannel_logout_session_required=backchannel_logout_session_required,
            frontchannel_logout_uri=frontchannel_logout_uri,
            frontchannel_logout_session_required=frontchannel_logout_session_required,
            client_id=client_id,
            org_id=org_id,
            via="cli",
        )
        return {"client_id": reg.client.id, "client_secret": reg.secret}

    def human(d: dict[str, object]) -> str:
        lines = [f"client_id:     {d['client_id']}"]
        if d["client_secret"]:
            lines.append(f"client_secret: {d['client_secret']}   (shown once; store it now)")
        return "\n".join(lines)

    emit(run_with_services(work), as_json, human)


@client.command("list")
@click.option("--json", "as_json", is_flag=True)
def client_list(as_json: bool) -> None:
    """List clients."""

    async def work(svc: Services) -> list[dict[str, object]]:
        async with svc.db.session() as session:
            return [
                {
                    "client_id": c.id,
                    "name": c.name,
                    "auth_method": c.token_endpoint_auth_method,
                    "redirect_uris": c.redirect_uris,
                    "grant_types": c.grant_types,
                    "first_party": c.first_party,
                    "org_id": c.org_id,
                }
                for c in await Clients(session).list()
            ]

    emit(
        run_with_services(work),
        as_json,
        lambda rows: (
            "\n".join(
                f"{r['client_id']}  {r['name']:<24} {r['auth_method']:<20} "
                + " ".join(r["redirect_uris"])
                for r in rows
            )
            or "no clients"
        ),
    )


@client.command("show")
@click.argument("client_id")
@click.option("--json", "as_json", is_flag=True)
def client_show(client_id: str, as_json: bool) -> None:
    """Show every registered setting of one client (never its secret)."""

    async def work(svc: Services) -> dict[str, object]:
        async with svc.db.session() as session:
            row = await Clients(session).get(client_id)
        if row is None:
            raise click.ClickException(f"no client {client_id!r}")
        shown = asdict(ClientFields.of(row))
        shown["jwks"] = public_jwks(row.jwks)
        return {"client_id": row.id, "org_id": row.org_id, **shown}

    emit(run_with_services(work), as_json,
         lambda d: "\n".join(f"{k + ':':<40} {v}" for k, v in d.items()
                             if v not in (None, [], {}, "", False)))


@client.command("remove")
@click.argument("client_id")
def client_remove(client_id: str) -> None:
    """Delete a client and everything issued to it."""

    async def work(svc: Services) -> None:
        if client_id == SYSTEM_CLIENT_ID:
            raise Forbidden(f"{SYSTEM_CLIENT_ID} is Portico's own client; it cannot be removed")
        await remove_client(svc.db, OrgScope.everything(), client_id, via="cli")

    run_with_services(work)
    click.echo(f"removed {client_id}")


COMMANDS = [client]
