"""Portico against panva's oidc-provider, on this machine, in one run.

    .venv/bin/python bench/run.py            # full run (about 5 minutes)
    .venv/bin/python bench/run.py --quick    # smoke run (under a minute)
    .venv/bin/python bench/run.py --big      # adds the 1k-vs-1M-rows token p50 step

Single endpoints are driven by `wrk` (Debian package); flows (authorization code + PKCE,
refresh, password login) by an async httpx generator in this file. Server CPU comes from
/proc/<pid>/stat deltas over the server's process tree, RSS from /proc/<pid>/status.
Everything listens on 127.0.0.1 only. The Markdown report goes to stdout and to
bench/results/latest.md (and latest.json).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import hashlib
import json
import os
import secrets
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import httpx

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
PYTHON = sys.executable
USERNAME = "alice"
EMAIL = "alice@example.org"
PASSWORD = "Correct-horse-1"
REDIRECT_URI = "http://127.0.0.1:9/cb"
CLK_TCK = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1
MiB = 1024 * 1024


# --------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tree(pid: int) -> list[int]:
    """``pid`` and all its descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*/children"):
            with contextlib.suppress(OSError):
                todo.extend(int(c) for c in task.read_text().split())
    return out


def cpu_seconds(pid: int) -> float:
    total = 0
    for p in tree(pid):
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / CLK_TCK


def rss_bytes(pid: int) -> int:
    total = 0
    for p in tree(pid):
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
    return total


def wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited early:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise SystemExit(f"server did not answer {url}:\n{log.read_text()[-3000:]}")


@dataclass
class Server:
    name: str
    issuer: str
    proc: subprocess.Popen[bytes]
    client_id: str
    client_secret: str
    meta: dict[str, Any] = field(default_factory=dict)
    cc_bodies: dict[str, str | None] = field(default_factory=dict)  # alg -> form body
    cc_auth: dict[str, str] = field(default_factory=dict)  # alg -> Authorization, if own
    scope: str = "openid profile email offline_access"

    @property
    def basic(self) -> str:
        raw = f"{self.client_id}:{self.client_secret}".encode()
        return "Basic " + base64.b64encode(raw).decode()

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def portico_env(workdir: Path, port: int) -> dict[str, str]:
    from portico.crypto.secretbox import new_master_key_text  # type: ignore[import-not-found]

    env = {k: v for k, v in os.environ.items() if not k.startswith("PORTICO_")}
    env.update(
        PORTICO_ISSUER=f"http://127.0.0.1:{port}",
        PORTICO_DATABASE_URL=f"sqlite+aiosqlite:///{workdir / 'portico.db'}",
        PORTICO_KEYS_DIR=str(workdir / "keys"),
        PORTICO_SECRET_KEY=new_master_key_text(),
        PORTICO_INSECURE_COOKIES="true",
        PORTICO_BCRYPT_ROUNDS="12",
        PORTICO_LOG_LEVEL="warning",
        PORTICO_MAINTENANCE_INTERVAL="0",
        # The bench is one IP hammering one account: lift the abuse limits, as the peer has none.
        PORTICO_RATE_LIMIT_LOGIN="100000000/minute",
        PORTICO_RATE_LIMIT_ACCOUNT="100000000/minute",
        PORTICO_RATE_LIMIT_SENSITIVE="100000000/minute",
        PORTICO_RATE_LIMIT_TOKEN="100000000/minute",
    )
    return env


def portico_cli(env: dict[str, str], cwd: Path, *args: str, stdin: str | None = None) -> str:
    done = subprocess.run([PYTHON, "-m", "portico", *args], env=env, cwd=cwd, input=stdin,
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"portico {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def provision_portico(workdir: Path) -> tuple[dict[str, str], str, str]:
    """init, the bench client (RS256 access tokens, the default), the user; and a second
    client_credentials client whose access tokens are ES256 (``_ES256_CLIENT`` in env)."""
    port = free_port()
    env = portico_env(workdir, port)
    portico_cli(env, workdir, "init")
    out = portico_cli(env, workdir, "client", "add", "--name", "bench", "--redirect-uri",
                      REDIRECT_URI, "--grant", "authorization_code", "--grant", "refresh_token",
                      "--grant", "client_credentials", "--first-party", "--json")
    client = json.loads(out)
    portico_cli(env, workdir, "user", "create", "--username", USERNAME, "--email", EMAIL,
                "--password-stdin", stdin=PASSWORD + "\n")
    es = json.loads(portico_cli(env, workdir, "client", "add", "--name", "bench-es256",
                                "--grant", "client_credentials", "--access-token-alg", "ES256",
                                "--json"))
    env["_ES256_CLIENT"] = f"{es['client_id']}:{es['client_secret']}"
    env["_PORT"] = str(port)
    return env, client["client_id"], client["client_secret"]


def start_portico(workdir: Path, env: dict[str, str], client_id: str, secret: str) -> Server:
    port = env["_PORT"]
    log = workdir / "portico.log"
    proc = subprocess.Popen([PYTHON, "-m", "portico", "serve", "--port", port,
                             "--workers", env.get("_WORKERS", "1")], env=env,
                            cwd=workdir, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    issuer = f"http://127.0.0.1:{port}"
    wait_http(issuer + "/.well-known/openid-configuration", proc, log)
    server = Server("Portico", issuer, proc, client_id, secret)
    server.cc_bodies = {alg: "grant_type=client_credentials" for alg in ("RS256", "ES256")}
    server.cc_auth = {"ES256": "Basic " + base64.b64encode(
        env["_ES256_CLIENT"].encode()).decode()}
    return server


def start_peer(workdir: Path) -> Server:
    port = free_port()
    issuer = f"http://127.0.0.1:{port}"
    secret = secrets.token_urlsafe(32)
    env = dict(os.environ, PORT=str(port), ISSUER=issuer, CLIENT_ID="bench",
               CLIENT_SECRET=secret, REDIRECT_URI=REDIRECT_URI, USERNAME=USERNAME,
               PASSWORD=PASSWORD, BCRYPT_ROUNDS="12", NODE_ENV="production")
    log = workdir / "peer.log"
    proc = subprocess.Popen(["node", str(BENCH / "peer" / "server.mjs")], env=env,
                            cwd=workdir, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    wait_http(issuer + "/.well-known/openid-configuration", proc, log)
    server = Server("oidc-provider", issuer, proc, "bench", secret)
    server.cc_bodies = {
        alg: f"grant_type=client_credentials&scope=api&resource=urn%3Abench%3A{alg.lower()}"
        for alg in ("RS256", "ES256")
    }
    server.scope = "openid profile email offline_access"
    return server


def start_trivial(workdir: Path) -> tuple[str, subprocess.Popen[bytes]]:
    """A hello-world Node server: what wrk and the flow generator can push on this machine."""
    port = free_port()
    code = ("require('http').createServer((q,r)=>{r.setHeader('content-type','application/json');"
            f"r.end('{{\"ok\":true}}')}}).listen({port},'127.0.0.1')")
    log = workdir / "trivial.log"
    proc = subprocess.Popen(["node", "-e", code], stdout=log.open("wb"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    wait_http(url, proc, log)
    return url, proc


# --------------------------------------------------------------------------- wrk

WRK_DONE = r"""
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"status_errors":%d,' ..
    '"socket_errors":%d}\n', summary.requests, summary.duration, latency:percentile(50),
    latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
"""


def lua_str(s: str) -> str:
    return json.dumps(s)  # a JSON string literal is a valid Lua string literal here


def wrk(url: str, seconds: float, *, method: str = "GET", body: str | None = None,
        headers: dict[str, str] | None = None, connections: int = 16,
        pid: int | None = None) -> dict[str, Any]:
    lines = [f"wrk.method = {lua_str(method)}"]
    if body is not None:
        lines.append(f"wrk.body = {lua_str(body)}")
        lines.append('wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"')
    for k, v in (headers or {}).items():
        lines.append(f"wrk.headers[{lua_str(k)}] = {lua_str(v)}")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write("\n".join(lines) + WRK_DONE)
        script = f.name
    cpu0 = cpu_seconds(pid) if pid else 0.0
    try:
        done = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "-s", script, url],
            capture_output=True, text=True, timeout=seconds + 60)
    finally:
        os.unlink(script)
    cpu = (cpu_seconds(pid) - cpu0) if pid else 0.0
    line = next((x for x in done.stdout.splitlines() if x.startswith("BENCHJSON ")), None)
    if line is None:
        raise SystemExit(f"wrk failed for {url}:\n{done.stdout}\n{done.stderr}")
    r = json.loads(line[len("BENCHJSON "):])
    ok = r["requests"] - r["status_errors"]
    return {
        "rps": r["requests"] / (r["duration_us"] / 1e6),
        "p50_ms": r["p50_us"] / 1000,
        "p99_ms": r["p99_us"] / 1000,
        "cpu_ms": 1000 * cpu / max(1, r["requests"]),
        "requests": r["requests"],
        "errors": r["status_errors"] + r["socket_errors"],
        "ok": ok,
    }


# --------------------------------------------------------------------------- flows


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append((a.get("action", ""), a.get("method", "get").lower(), {}))
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1][2][a["name"]] = a.get("value", "")


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


async def authorize(http: httpx.AsyncClient, server: Server, *, allow_login: bool) -> str:
    """Drive the browser side to the redirect back to the client; returns the code."""
    verifier, challenge = pkce()
    query = urlencode({
        "response_type": "code", "client_id": server.client_id, "redirect_uri": REDIRECT_URI,
        "scope": server.scope, "state": secrets.token_urlsafe(8),
        "nonce": secrets.token_urlsafe(8), "code_challenge": challenge,
        "code_challenge_method": "S256",
    })
    response = await http.get(f"{server.meta['authorization_endpoint']}?{query}")
    for _ in range(12):
        if response.is_redirect:
            target = urljoin(str(response.url), response.headers["location"])
            if target.startswith(REDIRECT_URI):
                params = {k: v[0] for k, v in parse_qs(urlsplit(target).query).items()}
                if "code" not in params:
                    raise RuntimeError(f"no code: {params}")
                http._bench_verifier = verifier  # type: ignore[attr-defined]
                return params["code"]
            response = await http.get(target)
            continue
        parser = _Forms()
        parser.feed(response.text)
        login = [f for f in parser.forms if f[1] == "post" and "password" in f[2]]
        if response.status_code != 200 or not login:
            raise RuntimeError(f"stuck at {response.status_code} {response.url}")
        if not allow_login:
            raise RuntimeError("asked to sign in during a signed-in flow")
        action, _, fields = login[-1]
        name_field = "username" if "username" in fields else "login"
        data = {**fields, name_field: USERNAME, "password": PASSWORD}
        response = await http.post(urljoin(str(response.url), action), data=data)
    raise RuntimeError("too many steps")


async def exchange(http: httpx.AsyncClient, server: Server, code: str) -> dict[str, Any]:
    r = await http.post(server.meta["token_endpoint"], headers={"Authorization": server.basic},
                        data={"grant_type": "authorization_code", "code": code,
                              "redirect_uri": REDIRECT_URI,
                              "code_verifier": http._bench_verifier})  # type: ignore[attr-defined]
    if r.status_code != 200:
        raise RuntimeError(f"token {r.status_code}: {r.text[:300]}")
    return r.json()


async def refresh(http: httpx.AsyncClient, server: Server, token: str) -> dict[str, Any]:
    r = await http.post(server.meta["token_endpoint"], headers={"Authorization": server.basic},
                        data={"grant_type": "refresh_token", "refresh_token": token})
    if r.status_code != 200:
        raise RuntimeError(f"refresh {r.status_code}: {r.text[:300]}")
    return r.json()


def new_client() -> httpx.AsyncClient:
    return httpx.AsyncClient(follow_redirects=False, timeout=60,
                             limits=httpx.Limits(max_connections=4))


async def signed_in_client(server: Server) -> httpx.AsyncClient:
    http = new_client()
    await exchange(http, server, await authorize(http, server, allow_login=True))
    return http


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    s = sorted(values)
    return s[min(len(s) - 1, int(q * len(s)))]


async def load(worker_setup: Callable[[int], Awaitable[Any]],
               op: Callable[[Any], Awaitable[Any]], *, concurrency: int, seconds: float,
               pid: int | None) -> dict[str, Any]:
    """Run ``op(state)`` in ``concurrency`` loops for ``seconds``; latencies and CPU."""
    states = [await worker_setup(i) for i in range(concurrency)]
    lat: list[float] = []
    errors: list[str] = []
    deadline = time.monotonic() + seconds

    async def loop(state: Any) -> None:
        while time.monotonic() < deadline:
            t = time.perf_counter()
            try:
                await op(state)
            except (RuntimeError, httpx.HTTPError) as exc:
                errors.append(str(exc)[:200])
                await asyncio.sleep(0.05)
                continue
            lat.append(time.perf_counter() - t)

    cpu0 = cpu_seconds(pid) if pid else 0.0
    t0 = time.monotonic()
    await asyncio.gather(*(loop(s) for s in states))
    elapsed = time.monotonic() - t0
    cpu = (cpu_seconds(pid) - cpu0) if pid else 0.0
    for s in states:
        if isinstance(s, dict) and "http" in s:
            await s["http"].aclose()
    return {
        "rps": len(lat) / elapsed, "p50_ms": 1000 * pct(lat, 0.5), "p99_ms": 1000 * pct(lat, 0.99),
        "cpu_ms": 1000 * cpu / max(1, len(lat)), "requests": len(lat), "errors": len(errors),
        "first_error": errors[0] if errors else "",
    }


async def probe(url: str, seconds: float, interval: float = 0.02) -> dict[str, Any]:
    """Sequential GETs at a low rate: the latency a bystander sees."""
    lat: list[float] = []
    async with httpx.AsyncClient(timeout=30) as http:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            t = time.perf_counter()
            r = await http.get(url)
            if r.status_code == 200:
                lat.append(time.perf_counter() - t)
            await asyncio.sleep(interval)
    return {"p50_ms": 1000 * pct(lat, 0.5), "p99_ms": 1000 * pct(lat, 0.99), "n": len(lat)}


async def flows(server: Server, cfg: Config) -> dict[str, dict[str, Any]]:
    pid = server.proc.pid
    out: dict[str, dict[str, Any]] = {}

    async def signed_in_setup(_: int) -> dict[str, Any]:
        return {"http": await signed_in_client(server)}

    async def signed_in_op(st: dict[str, Any]) -> None:
        await exchange(st["http"], server, await authorize(st["http"], server, allow_login=False))

    out["flow_signed_in"] = await load(signed_in_setup, signed_in_op,
                                       concurrency=cfg.flow_conc, seconds=cfg.flow_s, pid=pid)

    async def refresh_setup(_: int) -> dict[str, Any]:
        http = new_client()
        tokens = await exchange(http, server, await authorize(http, server, allow_login=True))
        if "refresh_token" not in tokens:
            raise SystemExit(f"{server.name} issued no refresh token: {sorted(tokens)}")
        return {"http": http, "rt": tokens["refresh_token"]}

    async def refresh_op(st: dict[str, Any]) -> None:
        st["rt"] = (await refresh(st["http"], server, st["rt"]))["refresh_token"]

    out["refresh"] = await load(refresh_setup, refresh_op, concurrency=cfg.flow_conc,
                                seconds=cfg.flow_s, pid=pid)

    async def login_setup(_: int) -> None:
        return None

    async def login_op(_: None) -> None:
        async with new_client() as http:
            await exchange(http, server, await authorize(http, server, allow_login=True))

    jwks = server.meta["jwks_uri"]
    storm, jw = await asyncio.gather(
        load(login_setup, login_op, concurrency=cfg.login_conc, seconds=cfg.login_s, pid=pid),
        probe(jwks, cfg.login_s))
    out["flow_password"] = storm
    out["jwks_during_storm"] = jw
    return out


# --------------------------------------------------------------------------- bcrypt bound


def bcrypt_bound() -> dict[str, float]:
    import bcrypt

    salt = bcrypt.gensalt(12)
    digest = bcrypt.hashpw(b"x" * 44, salt)
    times = []
    for _ in range(3):
        t = time.perf_counter()
        bcrypt.checkpw(b"x" * 44, digest)
        times.append(time.perf_counter() - t)
    one = min(times)
    return {"check_ms": one * 1000, "bound_per_s": CORES / one}


def host_speed() -> float:
    """CPU ms of a fixed pure-Python loop (best of three): the same work takes longer
    when the host's cores are shared with neighbours this machine cannot see (on a
    shared VM a 10M-iteration loop was seen to vary 1.4–2.4 s at load average 0.5).
    Taken before each server's segment and at the end: ratios compare servers measured
    minutes apart, so they mean something only when these figures agree."""
    best = float("inf")
    for _ in range(3):
        start = time.process_time()
        total = 0
        for i in range(2_000_000):
            total += i
        best = min(best, time.process_time() - start)
    return best * 1000


# --------------------------------------------------------------------------- one server


@dataclass
class Config:
    wrk_s: float
    flow_s: float
    flow_conc: int
    login_s: float
    login_conc: int
    probe_s: float


async def get_tokens(server: Server) -> dict[str, Any]:
    async with new_client() as http:
        return await exchange(http, server, await authorize(http, server, allow_login=True))


def measure(server: Server, cfg: Config) -> dict[str, Any]:
    server.meta = httpx.get(server.issuer + "/.well-known/openid-configuration").json()
    pid = server.proc.pid
    res: dict[str, Any] = {}
    tokens = asyncio.run(get_tokens(server))
    at = tokens["access_token"]
    time.sleep(1)
    res["rss_idle"] = rss_bytes(pid)
    res["jwks_idle"] = asyncio.run(probe(server.meta["jwks_uri"], cfg.probe_s))
    basic = {"Authorization": server.basic}
    res["discovery"] = wrk(server.issuer + "/.well-known/openid-configuration", cfg.wrk_s,
                           pid=pid)
    res["jwks"] = wrk(server.meta["jwks_uri"], cfg.wrk_s, pid=pid)
    for alg, body in server.cc_bodies.items():
        if body is None:
            res[f"cc_{alg}"] = None
            continue
        auth = {"Authorization": server.cc_auth[alg]} if alg in server.cc_auth else basic
        res[f"cc_{alg}"] = wrk(server.meta["token_endpoint"], cfg.wrk_s, method="POST",
                               body=body, headers=auth, pid=pid)
    res["userinfo"] = wrk(server.meta["userinfo_endpoint"], cfg.wrk_s,
                          headers={"Authorization": f"Bearer {at}"}, pid=pid)
    res["introspection"] = wrk(server.meta["introspection_endpoint"], cfg.wrk_s, method="POST",
                               body=urlencode({"token": at}), headers=basic, pid=pid)
    res.update(asyncio.run(flows(server, cfg)))
    time.sleep(1)
    res["rss_load"] = rss_bytes(pid)
    return res


# --------------------------------------------------------------------------- --big


def bulk_insert(db: Path, client_id: str, rows: int) -> float:
    """Add ``rows`` users, refresh tokens and access-token records with executemany."""
    t0 = time.monotonic()
    con = sqlite3.connect(db)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    now = datetime.now(UTC).replace(tzinfo=None)
    later = (now + timedelta(days=7)).strftime("%Y-%m-%d %H:%M:%S.%f")
    stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f")
    fake_hash = "$2b$12$" + "a" * 53
    batch = 50_000
    for start in range(0, rows, batch):
        ids = [uuid.uuid4().hex for _ in range(min(batch, rows - start))]
        con.executemany(
            "INSERT INTO users (id, username, username_key, email, email_verified, "
            "password_hash, profile, disabled, failed_logins, must_change_password, "
            "created_at, updated_at) VALUES (?, ?, ?, ?, 0, ?, '{}', 0, 0, 0, ?, ?)",
            [(i, f"u{i}", f"u{i}", f"u{i}@example.org", fake_hash, stamp, stamp) for i in ids])
        con.executemany(
            "INSERT INTO refresh_tokens (id, token_hash, family_id, client_id, user_id, scope, "
            "auth_time, amr, issued_at, expires_at) VALUES (?, ?, ?, ?, ?, 'openid', ?, '[]', "
            "?, ?)",
            [(i, hashlib.sha256(i.encode()).hexdigest(), i, client_id, i, stamp, stamp, later)
             for i in ids])
        con.executemany(
            "INSERT INTO access_tokens (jti, client_id, user_id, scope, issued_at, expires_at) "
            "VALUES (?, ?, ?, 'openid', ?, ?)",
            [(i, client_id, i, stamp, later) for i in ids])
        con.commit()
    con.execute("ANALYZE")
    con.commit()
    con.close()
    return time.monotonic() - t0


def big_step(rows: int, small: int, cfg: Config) -> dict[str, Any]:
    """Token endpoint p50 (client_credentials via wrk, refresh via httpx) at small vs rows."""
    out: dict[str, Any] = {"rows": rows, "small": small}
    with tempfile.TemporaryDirectory(prefix="portico-big-") as tmp:
        workdir = Path(tmp)
        env, cid, secret = provision_portico(workdir)
        db = workdir / "portico.db"
        inserted = 0
        for label, target in (("small", small), ("big", rows)):
            out[f"insert_s_{label}"] = bulk_insert(db, cid, target - inserted)
            inserted = target
            server = start_portico(workdir, env, cid, secret)
            try:
                server.meta = httpx.get(server.issuer + "/.well-known/openid-configuration").json()
                out[f"cc_{label}"] = wrk(server.meta["token_endpoint"], cfg.wrk_s, method="POST",
                                         body="grant_type=client_credentials",
                                         headers={"Authorization": server.basic},
                                         connections=4, pid=server.proc.pid)

                async def refresh_only(srv: Server = server) -> dict[str, Any]:
                    async def setup(_: int) -> dict[str, Any]:
                        http = new_client()
                        tokens = await exchange(http, srv,
                                                await authorize(http, srv, allow_login=True))
                        return {"http": http, "rt": tokens["refresh_token"]}

                    async def op(st: dict[str, Any]) -> None:
                        st["rt"] = (await refresh(st["http"], srv, st["rt"]))["refresh_token"]

                    return await load(setup, op, concurrency=2, seconds=cfg.flow_s,
                                      pid=srv.proc.pid)

                out[f"refresh_{label}"] = asyncio.run(refresh_only())
                out[f"rss_{label}"] = rss_bytes(server.proc.pid)
            finally:
                server.stop()
        out["db_mib"] = db.stat().st_size / MiB
    return out


# --------------------------------------------------------------------------- report


def ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return a / b


def fmt(v: float | None, unit: str = "") -> str:
    if v is None or v != v:
        return "n/a"
    if abs(v) >= 100:
        return f"{v:,.0f}{unit}"
    if abs(v) >= 10:
        return f"{v:.1f}{unit}"
    return f"{v:.2f}{unit}"


ROWS = [
    ("discovery", "GET discovery"),
    ("jwks", "GET JWKS"),
    ("cc_RS256", "client_credentials, RS256 JWT"),
    ("cc_ES256", "client_credentials, ES256 JWT"),
    ("userinfo", "GET userinfo"),
    ("introspection", "POST introspection"),
    ("refresh", "refresh_token grant"),
    ("flow_signed_in", "code+PKCE flow, signed in (per flow)"),
    ("flow_password", "code+PKCE flow with password login (per flow)"),
]


def report(p: dict[str, Any], q: dict[str, Any], extra: dict[str, Any]) -> str:
    lines = [
        f"Run {extra['when']} on {CORES} cores ({extra['cpu']}), Python {sys.version.split()[0]}, "
        f"Node {extra['node']}, oidc-provider {extra['peer_version']}, mode {extra['mode']}, "
        f"portico serve --workers {extra.get('workers', 1)}; "
        f"load average before / after: {extra['load_before']} / {extra['load_after']} "
        "(other processes on the machine compete for the same cores).",
        "",
        "| measure | Portico req/s | peer req/s | ratio | Portico p50 / p99 ms | "
        "peer p50 / p99 ms | Portico CPU ms/req | peer CPU ms/req | CPU ratio |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for key, label in ROWS:
        a, b = p.get(key), q.get(key)
        cells = [label]
        cells.append(fmt(a["rps"]) if a else "n/a")
        cells.append(fmt(b["rps"]) if b else "n/a")
        cells.append(fmt(ratio(a and a["rps"], b and b["rps"]), "×"))
        cells.append(f"{fmt(a['p50_ms'])} / {fmt(a['p99_ms'])}" if a else "n/a")
        cells.append(f"{fmt(b['p50_ms'])} / {fmt(b['p99_ms'])}" if b else "n/a")
        cells.append(fmt(a["cpu_ms"]) if a else "n/a")
        cells.append(fmt(b["cpu_ms"]) if b else "n/a")
        cells.append(fmt(ratio(a and a["cpu_ms"], b and b["cpu_ms"]), "×"))
        lines.append("| " + " | ".join(cells) + " |")
    lines.append(
        f"| RSS idle / after load (MiB) | {fmt(p['rss_idle'] / MiB)} / {fmt(p['rss_load'] / MiB)}"
        f" | {fmt(q['rss_idle'] / MiB)} / {fmt(q['rss_load'] / MiB)} | "
        f"{fmt(ratio(p['rss_idle'], q['rss_idle']), '×')} / "
        f"{fmt(ratio(p['rss_load'], q['rss_load']), '×')} | | | | | |")
    errs = [f"{s} {k}: {v['errors']} errors"
            for s, d in (("Portico", p), ("peer", q)) for k, v in d.items()
            if isinstance(v, dict) and v.get("errors")]
    lines += ["", "Load generator ceiling (a hello-world Node server, same settings): "
              f"wrk {fmt(extra['ceiling_wrk']['rps'])} req/s "
              f"(p50 {fmt(extra['ceiling_wrk']['p50_ms'])} ms); the httpx flow generator "
              f"{fmt(extra['ceiling_httpx']['rps'])} req/s at concurrency "
              f"{extra['flow_conc']}. bcrypt cost 12: one check {fmt(extra['bcrypt']['check_ms'])}"
              f" ms, bound {CORES} cores ÷ that = {fmt(extra['bcrypt']['bound_per_s'])} logins/s.",
              "", "Host speed (CPU ms of a fixed Python loop; lower is faster) before Portico "
              "/ before the peer / at the end: "
              + " / ".join(fmt(v) for v in extra["host_speed_ms"])
              + ". Ratios compare the two segments; trust them when these agree.", ""]
    if errs:
        lines += ["Errors (non-2xx or failed steps): " + "; ".join(errs), ""]

    # targets
    bound = extra["bcrypt"]["bound_per_s"]
    t: list[tuple[str, str, bool | None]] = []
    for key, label in ROWS[:6]:
        r = ratio(p[key]["rps"] if p.get(key) else None, q[key]["rps"] if q.get(key) else None)
        t.append((f"{label} ≥ 1.0× peer req/s", fmt(r, "×"), None if r is None else r >= 1.0))
    r = ratio(p["flow_signed_in"]["cpu_ms"], q["flow_signed_in"]["cpu_ms"])
    t.append(("server CPU per signed-in flow ≤ peer", fmt(r, "×"), r is not None and r <= 1.0))
    got = p["flow_password"]["rps"]
    t.append((f"password logins ≥ 0.95 × bcrypt bound ({fmt(bound)}/s)",
              f"{fmt(got)}/s = {fmt(got / bound)} × bound", got >= 0.95 * bound))
    idle, storm = p["jwks_idle"]["p99_ms"], p["jwks_during_storm"]["p99_ms"]
    t.append(("JWKS p99 during login storm ≤ 2× idle",
              f"{fmt(storm)} ms vs idle {fmt(idle)} ms ({fmt(storm / idle)}×)",
              storm <= 2 * idle))
    t.append(("RSS idle ≤ 100 MiB", f"{fmt(p['rss_idle'] / MiB)} MiB",
              p["rss_idle"] <= 100 * MiB))
    if "big" in extra:
        b = extra["big"]
        r = ratio(b["cc_big"]["p50_ms"], b["cc_small"]["p50_ms"])
        t.append((f"token p50 (client_credentials) at {b['rows']:,} rows ≤ 1.2× at {b['small']:,}",
                  f"{fmt(b['cc_big']['p50_ms'])} vs {fmt(b['cc_small']['p50_ms'])} ms "
                  f"({fmt(r, '×')})", r is not None and r <= 1.2))
        r = ratio(b["refresh_big"]["p50_ms"], b["refresh_small"]["p50_ms"])
        t.append((f"token p50 (refresh) at {b['rows']:,} rows ≤ 1.2× at {b['small']:,}",
                  f"{fmt(b['refresh_big']['p50_ms'])} vs {fmt(b['refresh_small']['p50_ms'])} ms "
                  f"({fmt(r, '×')})", r is not None and r <= 1.2))
    else:
        t.append(("token p50 at 1,000,000 rows ≤ 1.2× at 1,000", "not run (use --big)", None))
    lines += ["| target | measured | result |", "|---|---|---|"]
    for name, val, ok in t:
        lines.append(f"| {name} | {val} | {'n/a' if ok is None else 'PASS' if ok else 'FAIL'} |")
    lines += ["", f"Peer (password storm): {fmt(q['flow_password']['rps'])} logins/s; JWKS p99 "
              f"idle {fmt(q['jwks_idle']['p99_ms'])} ms, during storm "
              f"{fmt(q['jwks_during_storm']['p99_ms'])} ms."]
    return "\n".join(lines)


@contextlib.contextmanager
def workspace(prefix: str) -> Iterator[Path]:
    """A temporary directory; kept (and named on stderr) when BENCH_KEEP is set, so the
    servers' logs can be read after a failed run."""
    if os.environ.get("BENCH_KEEP"):
        path = Path(tempfile.mkdtemp(prefix=prefix))
        print(f"workspace kept: {path}", file=sys.stderr)
        yield path
        return
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        yield Path(tmp)


@contextlib.contextmanager
def running(*servers: Server) -> Iterator[None]:
    try:
        yield
    finally:
        for s in servers:
            s.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="short durations (under a minute)")
    ap.add_argument("--big", action="store_true", help="also run the 1k-vs-1M-rows token step")
    ap.add_argument("--big-rows", type=int, default=1_000_000)
    ap.add_argument("--only-big", action="store_true", help="run just the --big step")
    ap.add_argument("--workers", type=int, default=1,
                    help="portico serve --workers (default 1, Portico's default)")
    args = ap.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk")
    if not (BENCH / ".node" / "node_modules" / "oidc-provider").exists():
        raise SystemExit("npm install --prefix bench/.node oidc-provider bcrypt")
    if args.quick:
        cfg = Config(wrk_s=2, flow_s=3, flow_conc=4, login_s=5, login_conc=2 * CORES + 2,
                     probe_s=2)
    else:
        cfg = Config(wrk_s=8, flow_s=10, flow_conc=8, login_s=20, login_conc=2 * CORES + 2,
                     probe_s=5)
    if args.only_big:
        print(json.dumps(big_step(args.big_rows, 1000, cfg), indent=1))
        return
    extra: dict[str, Any] = {
        "when": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "mode": "quick" if args.quick else "full",
        "node": subprocess.run(["node", "--version"], capture_output=True,
                               text=True).stdout.strip(),
        "peer_version": json.loads((BENCH / ".node" / "node_modules" / "oidc-provider" /
                                    "package.json").read_text())["version"],
        "cpu": next((ln.split(":", 1)[1].strip() for ln in
                     Path("/proc/cpuinfo").read_text().splitlines()
                     if ln.startswith("model name")), "?"),
        "flow_conc": cfg.flow_conc,
        "bcrypt": bcrypt_bound(),
        "load_before": Path("/proc/loadavg").read_text().split()[0],
    }
    with workspace("portico-bench-") as workdir:
        url, trivial = start_trivial(workdir)
        try:
            extra["ceiling_wrk"] = wrk(url, cfg.wrk_s)

            async def ceiling() -> dict[str, Any]:
                async def setup(_: int) -> dict[str, Any]:
                    return {"http": new_client()}

                async def op(st: dict[str, Any]) -> None:
                    (await st["http"].get(url)).raise_for_status()

                return await load(setup, op, concurrency=cfg.flow_conc, seconds=cfg.flow_s / 2,
                                  pid=None)

            extra["ceiling_httpx"] = asyncio.run(ceiling())
        finally:
            trivial.terminate()
            trivial.wait()
        (workdir / "portico").mkdir()
        env, cid, secret = provision_portico(workdir / "portico")
        env["_WORKERS"] = str(args.workers)
        extra["workers"] = args.workers
        portico = start_portico(workdir / "portico", env, cid, secret)
        speeds = [host_speed()]
        with running(portico):
            p = measure(portico, cfg)
        peer = start_peer(workdir)
        speeds.append(host_speed())
        with running(peer):
            q = measure(peer, cfg)
        speeds.append(host_speed())
        extra["host_speed_ms"] = speeds
    if args.big:
        extra["big"] = big_step(args.big_rows, 1000, cfg)
    extra["load_after"] = Path("/proc/loadavg").read_text().split()[0]
    text = report(p, q, extra)
    print(text)
    out = BENCH / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.md").write_text(text + "\n")
    (out / "latest.json").write_text(json.dumps({"portico": p, "peer": q, **extra}, indent=1,
                                                default=str))


if __name__ == "__main__":
    main()
