"""Where one request's CPU goes: cProfile and SQL statement counts, per endpoint, through
the full stack (Hypercorn + Quart + Portico middleware), on a real socket.

    .venv/bin/python bench/profile_requests.py                  # every endpoint, 300 requests each
    .venv/bin/python bench/profile_requests.py -n 500 jwks      # one endpoint
    .venv/bin/python bench/profile_requests.py --top 40 userinfo

The server is a child process serving ``create_app()`` exactly as ``portico serve`` does
(same Hypercorn configuration, uvloop when installed). The parent sends the requests
from its own process, one connection, keep-alive, sequentially, so the child's profile
and CPU contain nothing but request handling. SIGUSR1 starts the child's profiler and
statement counter, SIGUSR2 stops them and writes the stats. Deterministic counts (calls,
SQL statements) are the robust figures on a shared machine; CPU ms per request is
``time.process_time`` over the child (all its threads, aiosqlite's included) and is noisy.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import pstats
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
import run as bench  # noqa: E402

ENDPOINTS = ("discovery", "jwks", "cc_RS256", "cc_ES256", "userinfo", "introspection")


def serve_child(port: int, out: str, profile: bool) -> None:
    """The child: ``portico serve``'s Hypercorn config, with profiler toggles."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from portico.cli.serve import hypercorn_config
    from portico.settings import load_settings

    settings = load_settings()
    config = hypercorn_config(settings, "127.0.0.1", port, 1, None, None)
    config.accesslog = None  # measured separately: see bench/README.md
    profiler = cProfile.Profile()
    state: dict[str, Any] = {"statements": 0, "counting": False, "cpu": 0.0}

    @event.listens_for(Engine, "before_cursor_execute")
    def _count(*_: Any) -> None:
        if state["counting"]:
            state["statements"] += 1

    def start(*_: Any) -> None:
        state.update(statements=0, counting=True, cpu=time.process_time())
        if profile:
            profiler.enable()

    def stop(*_: Any) -> None:
        profiler.disable()
        state["counting"] = False
        cpu = time.process_time() - state["cpu"]
        profiler.dump_stats(out)
        Path(out + ".json").write_text(json.dumps(
            {"statements": state["statements"], "cpu": cpu}))
        profiler.clear()

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)
    from hypercorn.run import run

    run(config)


def requests_for(name: str, server: bench.Server, tokens: dict[str, Any],
                 es_client: tuple[str, str] | None) -> tuple[str, str, dict[str, str], str | None]:
    meta = server.meta
    basic = {"Authorization": server.basic}
    form = {"Content-Type": "application/x-www-form-urlencoded"}
    if name == "discovery":
        return "GET", server.issuer + "/.well-known/openid-configuration", {}, None
    if name == "jwks":
        return "GET", meta["jwks_uri"], {}, None
    if name == "cc_RS256":
        return "POST", meta["token_endpoint"], {**basic, **form}, "grant_type=client_credentials"
    if name == "cc_ES256":
        assert es_client is not None
        es = bench.Server("es", server.issuer, server.proc, *es_client)
        return "POST", meta["token_endpoint"], {"Authorization": es.basic, **form}, \
            "grant_type=client_credentials"
    if name == "userinfo":
        return "GET", meta["userinfo_endpoint"], \
            {"Authorization": f"Bearer {tokens['access_token']}"}, None
    if name == "introspection":
        return "POST", meta["introspection_endpoint"], {**basic, **form}, \
            urlencode({"token": tokens["access_token"]})
    raise SystemExit(f"unknown endpoint {name}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("endpoints", nargs="*", default=list(ENDPOINTS))
    ap.add_argument("-n", type=int, default=300, help="requests per endpoint")
    ap.add_argument("--top", type=int, default=25, help="functions to list per endpoint")
    ap.add_argument("--sort", default="tottime")
    ap.add_argument("--save", type=Path, help="keep each endpoint's pstats file here")
    ap.add_argument("--cpu-only", action="store_true",
                    help="no profiler: CPU ms and statements per request only")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        serve_child(int(args.child[0]), args.child[1], args.child[2] == "profile")
        return
    with tempfile.TemporaryDirectory(prefix="portico-profile-") as tmp:
        workdir = Path(tmp)
        env, cid, secret = bench.provision_portico(workdir)
        es_id, _, es_secret = env["_ES256_CLIENT"].partition(":")
        port = int(env["_PORT"])
        out = str(workdir / "profile.out")
        log = workdir / "server.log"
        proc = subprocess.Popen([bench.PYTHON, __file__, "--child", str(port), out,
                                 "cpu" if args.cpu_only else "profile"], env=env,
                                cwd=workdir, stdout=log.open("wb"), stderr=subprocess.STDOUT)
        server = bench.Server("Portico", f"http://127.0.0.1:{port}", proc, cid, secret)
        try:
            bench.wait_http(server.issuer + "/.well-known/openid-configuration", proc, log)
            server.meta = httpx.get(server.issuer + "/.well-known/openid-configuration").json()
            tokens = asyncio.run(bench.get_tokens(server))
            summary = []
            with httpx.Client(timeout=30) as http:
                for name in args.endpoints:
                    method, url, headers, body = requests_for(
                        name, server, tokens, (es_id, es_secret))
                    for _ in range(20):  # warm caches
                        http.request(method, url, headers=headers, content=body)
                    proc.send_signal(signal.SIGUSR1)
                    time.sleep(0.2)
                    statuses: dict[int, int] = {}
                    for _ in range(args.n):
                        r = http.request(method, url, headers=headers, content=body)
                        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                    proc.send_signal(signal.SIGUSR2)
                    for _ in range(100):
                        if os.path.exists(out + ".json"):
                            break
                        time.sleep(0.05)
                    time.sleep(0.2)
                    info = json.loads(Path(out + ".json").read_text())
                    os.unlink(out + ".json")
                    if args.save:
                        args.save.mkdir(parents=True, exist_ok=True)
                        shutil.copyfile(out, args.save / f"{name}.prof")
                    text = io.StringIO()
                    calls = 0
                    if not args.cpu_only:
                        stats = pstats.Stats(out, stream=text)
                        calls = stats.total_calls  # type: ignore[attr-defined]
                        stats.sort_stats(args.sort).print_stats(args.top)
                    line = (f"{name}: {statuses} statements/req "
                            f"{info['statements'] / args.n:.2f}, python calls/req "
                            f"{calls / args.n:.0f}, CPU ms/req {1000 * info['cpu'] / args.n:.2f}")
                    summary.append(line)
                    print(f"===== {line}")
                    print(text.getvalue())
            print("\n".join(summary))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
