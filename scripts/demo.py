"""`make run`: a working Portico on a fresh checkout, with someone to sign in as and
an application to sign in to.

Everything goes through the public CLI (``python -m portico …``) rather than
Portico's internals, so the demo doubles as a check that the documented commands
are enough to stand a server up. It is idempotent: the demo password and client
secret are generated once and kept in ``<keys_dir>/demo.json`` (mode 0600, next to
the master key and git-ignored with it), so re-running prints the same
credentials instead of piling up users and clients.

Plain HTTP on loopback needs cookies without ``Secure``; ``PORTICO_INSECURE_COOKIES``
is therefore defaulted to true, but any ``PORTICO_*`` already in the environment
(or in ``portico.toml``) wins.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import string
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlencode, urlsplit

REPO = Path(__file__).resolve().parents[1]
DEMO_USERNAME = "demo"
DEMO_EMAIL = "demo@example.com"
CLIENT_ID = "portico-demo"
CLIENT_NAME = "Portico demo app"
RP_HOST, RP_PORT = "127.0.0.1", 8001
RP_URL = f"http://{RP_HOST}:{RP_PORT}"
REDIRECT_URI = f"{RP_URL}/callback"
POST_LOGOUT_URI = f"{RP_URL}/"
SCOPE = "openid profile email offline_access"


def fail(message: str) -> NoReturn:
    print(f"make run: {message}", file=sys.stderr)
    sys.exit(1)


def portico(*args: str, stdin: str | None = None) -> str:
    """Run one CLI command; its own error message is the most useful thing to show."""
    done = subprocess.run(
        [sys.executable, "-m", "portico", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        fail(f"`portico {' '.join(args)}` failed:\n{done.stderr.strip() or done.stdout.strip()}")
    return done.stdout


def strong_password(length: int) -> str:
    """Random, and meets the default policy (upper, lower, digit) whatever it is set to."""
    alphabet = string.ascii_letters + string.digits + "-_.~"
    while True:
        candidate = "".join(secrets.choice(alphabet) for _ in range(length))
        if (
            any(c.isupper() for c in candidate)
            and any(c.islower() for c in candidate)
            and any(c.isdigit() for c in candidate)
        ):
            return candidate


def load_state(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except ValueError:
        fail(f"{path} is not valid JSON; delete it to start the demo afresh")
    return data if isinstance(data, dict) else {}


def save_state(path: Path, state: dict[str, Any]) -> None:
    """Write with mode 0600 from the start: the file holds a password and a secret."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        json.dump(state, out, indent=2)
        out.write("\n")
    path.chmod(0o600)


def ensure_user(state: dict[str, Any], min_length: int) -> str | None:
    """The demo user's password, or None when the user exists but the password was lost."""
    users = json.loads(portico("user", "list", "--json"))
    exists = any(u["username"].lower() == DEMO_USERNAME for u in users)
    if exists:
        return state.get("password")
    password = state.get("password") or strong_password(max(20, min_length))
    portico(
        "user",
        "create",
        "--username",
        DEMO_USERNAME,
        "--email",
        DEMO_EMAIL,
        "--name",
        "Demo User",
        "--password-stdin",
        stdin=password + "\n",
    )
    return password


def ensure_client(state: dict[str, Any]) -> str:
    """The demo client's secret; the client is re-registered if the secret is unknown
    (secrets are stored hashed) or its redirect URIs are not the demo app's."""
    clients = json.loads(portico("client", "list", "--json"))
    existing = next((c for c in clients if c["client_id"] == CLIENT_ID), None)
    if existing is not None:
        if state.get("client_secret") and existing["redirect_uris"] == [REDIRECT_URI]:
            return str(state["client_secret"])
        portico("client", "remove", CLIENT_ID)
    created = json.loads(
        portico(
            "client",
            "add",
            "--client-id",
            CLIENT_ID,
            "--name",
            CLIENT_NAME,
            "--redirect-uri",
            REDIRECT_URI,
            "--post-logout-redirect-uri",
            POST_LOGOUT_URI,
            "--auth-method",
            "client_secret_basic",
            "--grant",
            "authorization_code",
            "--grant",
            "refresh_token",
            "--json",
        )
    )
    return str(created["client_secret"])


def port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def serve_address(issuer: str) -> tuple[str, int]:
    """Serve where the issuer says, so the URLs Portico prints are the ones it answers."""
    parts = urlsplit(issuer)
    if parts.scheme != "http" or not parts.hostname:
        fail(
            f"the demo serves plain HTTP on loopback, but PORTICO_ISSUER is {issuer}; "
            "unset it (or use http://127.0.0.1:8000)"
        )
    return parts.hostname, parts.port or 80


def start_relying_party(issuer: str, client_secret: str) -> subprocess.Popen[bytes]:
    env = dict(
        os.environ,
        DEMO_RP_ISSUER=issuer,
        DEMO_RP_CLIENT_ID=CLIENT_ID,
        DEMO_RP_CLIENT_SECRET=client_secret,
        DEMO_RP_HOST=RP_HOST,
        DEMO_RP_PORT=str(RP_PORT),
    )
    rp = subprocess.Popen([sys.executable, str(REPO / "scripts" / "demo_rp.py")], env=env)
    time.sleep(0.5)
    if rp.poll() is not None:
        fail("the demo relying party did not start (see its message above)")
    return rp


def raw_authorize_url(issuer: str) -> str:
    query = urlencode(
        {
            "client_id": CLIENT_ID,
            "response_type": "code",
            "scope": SCOPE,
            "redirect_uri": REDIRECT_URI,
            "state": secrets.token_urlsafe(16),
            "nonce": secrets.token_urlsafe(16),
        }
    )
    return f"{issuer}/authorize?{query}"


def main() -> None:
    os.chdir(REPO)
    os.environ.setdefault("PORTICO_INSECURE_COOKIES", "true")
    from portico.settings import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        fail(str(exc))
    host, port = serve_address(settings.issuer)
    for h, p in ((host, port), (RP_HOST, RP_PORT)):
        if not port_free(h, p):
            fail(f"{h}:{p} is already in use (is another `make run` still running?)")

    print(portico("init").rstrip())
    state_file = Path(settings.keys_dir) / "demo.json"
    state = load_state(state_file)
    password = ensure_user(state, settings.password_min_length)
    if password:
        state["username"], state["password"] = DEMO_USERNAME, password
    state["client_id"] = CLIENT_ID
    state["client_secret"] = ensure_client(state)
    save_state(state_file, state)

    start_relying_party(settings.issuer, state["client_secret"])
    shown_password = password or (
        f"(unknown: user {DEMO_USERNAME!r} predates {state_file}; delete portico.db to recreate it)"
    )
    bind_host = f"[{host}]" if ":" in host else host
    print(
        f"""
  Portico          {settings.issuer}
  Demo user        {DEMO_USERNAME}
  Demo password    {shown_password}
  Demo client id   {CLIENT_ID}   (secret in {state_file})

  Open the demo app and sign in:   {RP_URL}/
  Or go straight to Portico:       {raw_authorize_url(settings.issuer)}

  Ctrl-C stops both servers.
""",
        flush=True,
    )
    # exec keeps the pid, so the relying party (which watches its parent) stops
    # when Portico does; Ctrl-C reaches both through the shared process group.
    os.execv(  # noqa: S606 - fixed argv, no shell
        sys.executable,
        [sys.executable, "-m", "portico", "serve", "--host", bind_host, "--port", str(port)],
    )


if __name__ == "__main__":
    main()
