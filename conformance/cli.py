"""Command line: where the OP is, who signs in, which clients to use, what to run.

Exit status: 0 when every selected module passed or was skipped for a reason the
suite accepts, 1 when any module failed, 2 for usage or provisioning errors.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from conformance import __version__, fapi2, fapi2_client, logout, logout_rig, report, runner
from conformance.framework import FAIL, ClientCreds, Module, RunEnv
from conformance.provision import ProvisionError, provision
from conformance.request_uri import RequestObjectServer

WELL_KNOWN = "/.well-known/openid-configuration"
DEFAULT_REDIRECT = "https://rp.conformance.invalid/callback"
PASSWORD_ENV = "CONFORMANCE_PASSWORD"


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m conformance",
        description="Run the OIDF Basic OP and Config OP checks against a live Portico.",
    )
    p.add_argument(
        "--issuer", help="the OP's issuer URL (discovery is issuer + " + WELL_KNOWN + ")"
    )
    p.add_argument(
        "--config",
        type=Path,
        help="a plan configuration in the OIDF suite's format (conformance/plans/basic.json): "
        "server.discoveryUrl, server.login_hint, client, client2, client_secret_post",
    )
    p.add_argument("--username", help="the test user")
    p.add_argument("--password", help=f"the test user's password (or set ${PASSWORD_ENV})")
    for flag, what in (
        ("client", "client_secret_basic client"),
        ("client2", "second client_secret_basic client"),
        ("post-client", "client_secret_post client"),
    ):
        p.add_argument(f"--{flag}-id", help=f"the {what}'s client_id")
        p.add_argument(f"--{flag}-secret", help=f"the {what}'s client_secret")
    p.add_argument(
        "--provision",
        action="store_true",
        help="create the user and the three clients with the portico CLI "
        "(uses this process's PORTICO_* environment)",
    )
    p.add_argument(
        "--portico-command",
        default=None,
        help="how to run the CLI for --provision (default: Portico's CLI in this process "
        f"when it is installed here, else {sys.executable} -m portico)",
    )
    p.add_argument(
        "--redirect-uri",
        default=DEFAULT_REDIRECT,
        help="a redirect_uri registered for all three clients (it needs no server: the "
        f"runner reads the Location header). Default {DEFAULT_REDIRECT}",
    )
    p.add_argument(
        "--plan",
        default="config,basic,dynamic",
        help="comma-separated: config, basic, dynamic (the Dynamic OP modules that apply "
        "to static clients). Default: all",
    )
    p.add_argument("--module", action="append", default=[], help="run only this module")
    p.add_argument("--skip", action="append", default=[], help="do not run this module")
    p.add_argument("--list", action="store_true", help="list the modules and exit")
    p.add_argument("--login-hint", help="login_hint for oidcc-login-hint (server.login_hint)")
    p.add_argument("--ui-locales", default="se", help="ui_locales for oidcc-ui-locales")
    p.add_argument("--request-uri-host", default="127.0.0.1", help="where to serve request objects")
    p.add_argument("--request-uri-port", type=int, default=0, help="its port (0: any free one)")
    p.add_argument(
        "--request-uri-base",
        help="the public base URL of that server as the OP must fetch it (default "
        "http://HOST:PORT/); register it with `portico client add --request-uri BASE`",
    )
    p.add_argument(
        "--no-request-uri-server",
        action="store_true",
        help="do not serve request objects (the request_uri modules are then skipped)",
    )
    p.add_argument("--logout-host", default="127.0.0.1",
                   help="where the logout plans' relying-party endpoints listen")
    p.add_argument("--logout-port", type=int, default=0, help="their port (0: any free one)")
    p.add_argument("--logout-base",
                   help="their public base URL as the OP must reach it (default http://HOST:PORT/)")
    p.add_argument("--insecure", action="store_true", help="do not verify TLS certificates")
    p.add_argument("--ca-bundle", help="CA bundle to verify the OP's TLS certificate")
    p.add_argument("--json", action="store_true", help="print the JSON report instead of a table")
    p.add_argument("--report", type=Path, help="also write the JSON report to this file")
    p.add_argument("-q", "--quiet", action="store_true", help="no per-module progress on stderr")
    p.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return p


def _client_from(config: dict[str, Any], key: str, method: str) -> ClientCreds | None:
    entry = config.get(key)
    if isinstance(entry, dict) and entry.get("client_id") and entry.get("client_secret"):
        return ClientCreds(str(entry["client_id"]), str(entry["client_secret"]), method)
    return None


def _client_from_args(args: argparse.Namespace, flag: str, method: str) -> ClientCreds | None:
    cid = getattr(args, f"{flag}_id")
    secret = getattr(args, f"{flag}_secret")
    if cid and secret:
        return ClientCreds(cid, secret, method)
    if cid or secret:
        raise SystemExit(f"error: give both --{flag.replace('_', '-')}-id and -secret")
    return None


def response_types_for(modules: list[Module]) -> list[str]:
    """What the provisioned clients must register for the selected plans' variants."""
    wanted = {"code"}
    for m in modules:
        if m.plan.startswith(("implicit[", "hybrid[")):
            wanted.add(m.plan.split("[", 1)[1].split(",")[0].rstrip("]"))
    return sorted(wanted) if len(wanted) > 1 else []


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    plans = [p.strip() for p in args.plan.split(",") if p.strip()]
    bad = [p for p in plans if p not in runner.PLANS]
    if bad:
        print(f"error: unknown plan(s) {bad}; choose from {list(runner.PLANS)}", file=sys.stderr)
        return 2
    try:
        modules = runner.select(plans, args.module, args.skip)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.list:
        for m in modules:
            print(f"{m.name}  [{m.plan}]")
        return 0

    config: dict[str, Any] = {}
    if args.config:
        config = json.loads(args.config.read_text())
    server = config.get("server", {}) if isinstance(config.get("server"), dict) else {}
    discovery_url = server.get("discoveryUrl")
    issuer = args.issuer
    if issuer:
        issuer = issuer.rstrip("/")
        discovery_url = issuer + WELL_KNOWN
    elif isinstance(discovery_url, str) and discovery_url.endswith(WELL_KNOWN):
        issuer = discovery_url.removesuffix(WELL_KNOWN)
    else:
        print("error: --issuer (or server.discoveryUrl in --config) is required", file=sys.stderr)
        return 2

    objects: RequestObjectServer | None = None
    if not args.no_request_uri_server:
        objects = RequestObjectServer(
            args.request_uri_host, args.request_uri_port, args.request_uri_base
        ).start()
    try:
        return _run(args, modules, config, server, issuer, discovery_url, objects)
    finally:
        if objects is not None:
            objects.close()


def _run(
    args: argparse.Namespace,
    modules: list[Module],
    config: dict[str, Any],
    server: dict[str, Any],
    issuer: str,
    discovery_url: str,
    objects: RequestObjectServer | None,
) -> int:
    redirect_uri = args.redirect_uri
    username = args.username
    password = args.password or os.environ.get(PASSWORD_ENV)
    client = _client_from_args(args, "client", "client_secret_basic") or _client_from(
        config, "client", "client_secret_basic"
    )
    client2 = _client_from_args(args, "client2", "client_secret_basic") or _client_from(
        config, "client2", "client_secret_basic"
    )
    post = _client_from_args(args, "post_client", "client_secret_post") or _client_from(
        config, "client_secret_post", "client_secret_post"
    )
    if args.provision:
        command = shlex.split(args.portico_command) if args.portico_command else None
        try:
            made = provision(
                redirect_uris=[redirect_uri, redirect_uri + "2"],
                request_uri_prefix=objects.base_url if objects else None,
                command=command,
                response_types=response_types_for(modules),
            )
        except ProvisionError as exc:
            print(f"error: provisioning failed: {exc}", file=sys.stderr)
            return 2
        username, password = made.username, made.password
        client, client2, post = made.client, made.client2, made.post_client
        if not args.quiet:
            print(
                f"provisioned user {username} and clients {client.client_id}, "
                f"{client2.client_id}, {post.client_id}",
                file=sys.stderr,
            )
    fapi: fapi2_client.Fapi2Rig | None = None
    if any(m.plan == fapi2.PLAN for m in modules):
        try:
            fapi = (fapi2_client.provision(redirect_uri, shlex.split(args.portico_command)
                                           if args.portico_command else None)
                    if args.provision else fapi2_client.from_config(config))
        except ProvisionError as exc:
            print(f"error: provisioning failed: {exc}", file=sys.stderr)
            return 2
        if fapi is None:
            print("error: the fapi2 plan needs --provision or client/client2 with client_id "
                  "and a private jwks in --config", file=sys.stderr)
            return 2
        if all(m.plan == fapi2.PLAN for m in modules):
            # The FAPI clients authenticate with private_key_jwt: no secret clients needed.
            stand_in = ClientCreds(fapi.client.client_id, "", "private_key_jwt")
            client, client2, post = client or stand_in, client2 or stand_in, post or stand_in
    missing = [
        name
        for name, value in (
            ("--username", username),
            ("--password", password),
            ("--client-id/--client-secret", client),
            ("--client2-id/--client2-secret", client2),
            ("--post-client-id/--post-client-secret", post),
        )
        if not value
    ]
    if missing:
        print(f"error: missing {', '.join(missing)} (or use --provision)", file=sys.stderr)
        return 2
    assert username and password and client and client2 and post

    rig = None
    if any(m.plan in logout.PLAN_NAMES for m in modules):
        rig = logout_rig.start(args.logout_host, args.logout_port, args.logout_base)
        try:
            if args.provision:
                cli = shlex.split(args.portico_command) if args.portico_command else None
                logout_rig.provision(rig, redirect_uri, cli)
            else:
                logout_rig.from_config(rig, config)
        except ProvisionError as exc:
            rig.close()
            print(f"error: provisioning failed: {exc}", file=sys.stderr)
            return 2
    verify: bool | str = args.ca_bundle or not args.insecure
    with httpx.Client(timeout=20.0, verify=verify, follow_redirects=False) as http:
        env = RunEnv(
            issuer=issuer,
            discovery_url=discovery_url,
            username=username,
            password=password,
            redirect_uri=redirect_uri,
            client=client,
            client2=client2,
            post_client=post,
            http=http,
            verify=verify,
            login_hint=args.login_hint or server.get("login_hint"),
            ui_locales=args.ui_locales,
            request_uri_base=objects.base_url if objects else None,
            publish=objects.publish if objects else None,
        )
        if rig is not None:
            env.extras["logout"] = rig
        if fapi is not None:
            env.extras["fapi2"] = fapi
        started = time.time()
        try:
            results = runner.run(env, modules, None if args.quiet else runner.print_progress)
        finally:
            if rig is not None:
                rig.close()
    meta = {
        "issuer": issuer,
        "started": int(started),
        "seconds": round(time.time() - started, 1),
        "plans": {
            "basic": "oidcc-basic-certification-test-plan[server_metadata=discovery]"
            "[client_registration=static_client]",
            "config": "oidcc-config-certification-test-plan",
        },
    }
    text = report.as_json(results, meta)
    if args.report:
        args.report.write_text(text + "\n")
    print(text if args.json else report.table(results))
    return 1 if any(r.status == FAIL for r in results) else 0
