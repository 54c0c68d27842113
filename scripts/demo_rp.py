"""The demo application `make run` starts beside Portico: a relying party written the
way any app would be, knowing nothing of Portico beyond its issuer URL.

It discovers the endpoints, sends the browser through the authorization-code flow
with PKCE (S256) using authlib's httpx client, checks the RFC 9207 ``iss`` on the
way back, verifies the ID token against the published JWKS with joserfc (signature,
``iss``, ``aud``, ``exp``, ``nonce``, ``at_hash``), reads /userinfo, and signs out
through RP-initiated logout. The standard library serves the pages so the demo
needs nothing beyond Portico's own dependencies.

Configuration comes from ``scripts/demo.py`` through ``DEMO_RP_*`` variables. The
process exits when its parent does, because the parent ``exec``s into
``portico serve`` and Ctrl-C on that should leave nothing behind.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import secrets
import sys
import threading
import time
from http.cookies import SimpleCookie
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
from authlib.common.security import generate_token
from authlib.integrations.httpx_client import OAuth2Client
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import JWTClaimsRegistry

ISSUER = os.environ.get("DEMO_RP_ISSUER", "http://127.0.0.1:8000").rstrip("/")
CLIENT_ID = os.environ.get("DEMO_RP_CLIENT_ID", "portico-demo")
CLIENT_SECRET = os.environ.get("DEMO_RP_CLIENT_SECRET", "")
HOST = os.environ.get("DEMO_RP_HOST", "127.0.0.1")
PORT = int(os.environ.get("DEMO_RP_PORT", "8001"))
BASE = f"http://{HOST}:{PORT}"
REDIRECT_URI = f"{BASE}/callback"
SCOPE = "openid profile email offline_access"
ID_TOKEN_ALG = "RS256"  # what `client add` registers by default
COOKIE = "demo_rp_session"

_sessions: dict[str, dict[str, Any]] = {}
_lock = threading.Lock()
_metadata: dict[str, Any] = {}


class Problem(Exception):
    """Something the person should see instead of the page they asked for."""


def metadata() -> dict[str, Any]:
    """Discovery, fetched on first use: Portico may still be starting when we are."""
    if not _metadata:
        url = f"{ISSUER}/.well-known/openid-configuration"
        try:
            response = httpx.get(url, timeout=5)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            raise Problem(
                f"Portico's discovery document at {url} is not reachable: {exc}"
            ) from None
        doc = response.json()
        # OIDC Discovery §4.3: the document must be for the issuer we were configured with.
        if doc.get("issuer") != ISSUER:
            raise Problem(f"Discovery names issuer {doc.get('issuer')!r}, expected {ISSUER!r}.")
        _metadata.update(doc)
    return _metadata


def oauth_client(token: dict[str, Any] | None = None) -> OAuth2Client:
    return OAuth2Client(
        CLIENT_ID,
        CLIENT_SECRET,
        scope=SCOPE,
        redirect_uri=REDIRECT_URI,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
        token=token,
        timeout=10,
    )


def left_half_hash(value: str) -> str:
    """OIDC Core §3.1.3.6 ``at_hash`` for RS256: left half of SHA-256, base64url."""
    digest = hashlib.sha256(value.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest[: len(digest) // 2]).rstrip(b"=").decode()


def verify_id_token(id_token: str, nonce: str, access_token: str) -> dict[str, Any]:
    """OIDC Core §3.1.3.7, the checks an RP must make before trusting any claim."""
    jwks = httpx.get(metadata()["jwks_uri"], timeout=5).json()
    try:
        token = jwt.decode(id_token, KeySet.import_key_set(jwks), algorithms=[ID_TOKEN_ALG])
        JWTClaimsRegistry(
            leeway=30,
            iss={"essential": True, "value": ISSUER},
            aud={"essential": True, "value": CLIENT_ID},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        ).validate(token.claims)
    except (JoseError, ValueError) as exc:
        raise Problem(f"The ID token did not verify: {exc}") from None
    claims = dict(token.claims)
    if "at_hash" in claims and claims["at_hash"] != left_half_hash(access_token):
        raise Problem("The ID token's at_hash does not match the access token.")
    return claims


# --- pages ----------------------------------------------------------------------------


def page(title: str, body: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} · Portico demo app</title>
<style>
 body {{ font: 16px/1.5 system-ui, sans-serif; max-width: 48rem; margin: 2rem auto;
        padding: 0 1rem; color: #1f2328; }}
 a.button {{ display: inline-block; padding: .6rem 1rem; background: #0b57d0; color: #fff;
            border-radius: .4rem; text-decoration: none; margin-right: .5rem; }}
 a.secondary {{ background: #eef1f5; color: #1f2328; }}
 table {{ border-collapse: collapse; width: 100%; }}
 th, td {{ text-align: left; padding: .3rem .6rem; border-bottom: 1px solid #d0d7de;
          vertical-align: top; word-break: break-all; }}
 pre {{ background: #f6f8fa; padding: 1rem; overflow-x: auto; }}
 .ok {{ color: #1a7f37; }} .err {{ color: #cf222e; }}
</style></head>
<body><header><p><strong>Portico demo app</strong> — a relying party at {BASE}</p></header>
<main><h1>{html.escape(title)}</h1>{body}</main></body></html>"""


def claims_table(claims: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><th scope='row'>{html.escape(k)}</th><td>{html.escape(json.dumps(v))}</td></tr>"
        for k, v in sorted(claims.items())
    )
    return f"<table>{rows}</table>"


def signed_in_page(session: dict[str, Any]) -> str:
    claims = session["claims"]
    who = claims.get("preferred_username") or claims.get("email") or claims["sub"]
    return page(
        f"Signed in as {who}",
        "<p class='ok'>The ID token's signature, issuer, audience, expiry, nonce and "
        "at_hash were verified against Portico's JWKS.</p>"
        "<p><a class='button' href='/logout'>Sign out</a>"
        "<a class='button secondary' href='/login'>Sign in again</a></p>"
        "<h2>Verified ID token claims</h2>" + claims_table(claims) + "<h2>/userinfo</h2>"
        f"<pre>{html.escape(json.dumps(session['userinfo'], indent=2))}</pre>"
        "<h2>Token response</h2>"
        f"<pre>{html.escape(json.dumps(session['token_summary'], indent=2))}</pre>",
    )


def welcome_page() -> str:
    return page(
        "Welcome",
        f"<p>This app delegates sign-in to Portico at <code>{html.escape(ISSUER)}</code>.</p>"
        "<p><a class='button' href='/login'>Sign in with Portico</a></p>"
        "<p>Use the demo username and password that <code>make run</code> printed.</p>",
    )


# --- HTTP -----------------------------------------------------------------------------


class Handler(BaseHTTPRequestHandler):
    server_version = "PorticoDemoRP/1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        sys.stderr.write(f"demo-rp {self.address_string()} {format % args}\n")

    def session_id(self) -> str | None:
        cookie = SimpleCookie(self.headers.get("Cookie", ""))
        morsel = cookie.get(COOKIE)
        return morsel.value if morsel else None

    def send(self, status: int, body: str, headers: dict[str, str] | None = None) -> None:
        data = body.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def redirect(self, location: str, set_cookie: str | None = None) -> None:
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("Cache-Control", "no-store")
        if set_cookie:
            self.send_header("Set-Cookie", set_cookie)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:  # noqa: N802 - stdlib naming
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        routes = {"/": self.home, "/login": self.login, "/callback": self.callback}
        routes["/logout"] = self.logout
        handler = routes.get(url.path)
        if handler is None:
            self.send(404, page("Not found", "<p><a href='/'>Home</a></p>"))
            return
        try:
            handler(query)
        except Problem as exc:
            self.send(
                400,
                page(
                    "Sign-in failed",
                    f"<p class='err'>{html.escape(str(exc))}</p><p><a href='/'>Start again</a></p>",
                ),
            )

    def home(self, query: dict[str, str]) -> None:
        with _lock:
            session = _sessions.get(self.session_id() or "")
        if session and "claims" in session:
            self.send(200, signed_in_page(session))
        else:
            self.send(200, welcome_page())

    def login(self, query: dict[str, str]) -> None:
        meta = metadata()
        verifier = generate_token(48)
        nonce = secrets.token_urlsafe(16)
        url, state = oauth_client().create_authorization_url(
            meta["authorization_endpoint"], code_verifier=verifier, nonce=nonce
        )
        sid = secrets.token_urlsafe(24)
        with _lock:
            _sessions[sid] = {"state": state, "nonce": nonce, "verifier": verifier}
        self.redirect(url, f"{COOKIE}={sid}; Path=/; HttpOnly; SameSite=Lax")

    def callback(self, query: dict[str, str]) -> None:
        with _lock:
            session = _sessions.get(self.session_id() or "")
        if not session or not query.get("state") or query["state"] != session.get("state"):
            shown = {k: v for k, v in query.items() if k in ("code", "state", "iss", "error")}
            raise Problem(
                "This app did not start this sign-in (unknown state), so it will not use the "
                f"response {json.dumps(shown)}. Sign in from the home page instead."
            )
        # RFC 9207: the response must come from the issuer we sent the person to.
        if query.get("iss") != ISSUER:
            raise Problem(f"The response came from issuer {query.get('iss')!r}, not {ISSUER!r}.")
        if "error" in query:
            raise Problem(f"Portico answered {query['error']}: {query.get('error_description')}")
        meta = metadata()
        client = oauth_client()
        try:
            token = client.fetch_token(
                meta["token_endpoint"],
                grant_type="authorization_code",
                code=query.get("code", ""),
                code_verifier=session["verifier"],
            )
            claims = verify_id_token(token["id_token"], session["nonce"], token["access_token"])
            userinfo = client.get(meta["userinfo_endpoint"]).json()
        except (httpx.HTTPError, KeyError, ValueError) as exc:
            raise Problem(f"The code exchange failed: {exc}") from None
        finally:
            client.close()
        # OIDC Core §5.3.2: userinfo must be about the person the ID token names.
        if userinfo.get("sub") != claims["sub"]:
            raise Problem("The /userinfo subject does not match the ID token.")
        with _lock:
            session.clear()
            session.update(
                claims=claims,
                userinfo=userinfo,
                id_token=token["id_token"],
                token_summary={
                    "token_type": token.get("token_type"),
                    "expires_in": token.get("expires_in"),
                    "scope": token.get("scope"),
                    "refresh_token": "(received)" if token.get("refresh_token") else None,
                },
            )
        self.redirect("/")

    def logout(self, query: dict[str, str]) -> None:
        sid = self.session_id() or ""
        with _lock:
            session = _sessions.pop(sid, None)
        expired = f"{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax"
        if not session or "id_token" not in session:
            self.redirect("/", expired)
            return
        params = urlencode(
            {
                "id_token_hint": session["id_token"],
                "post_logout_redirect_uri": f"{BASE}/",
                "state": secrets.token_urlsafe(16),
            }
        )
        self.redirect(f"{metadata()['end_session_endpoint']}?{params}", expired)


def exit_with_parent() -> None:
    """Stop when the parent goes away (we are reparented), so no server outlives it."""
    parent = os.getppid()
    while True:
        time.sleep(1)
        if os.getppid() != parent:
            os._exit(0)


def main() -> None:
    if not CLIENT_SECRET:
        sys.exit("demo_rp: set DEMO_RP_CLIENT_SECRET (scripts/demo.py does this)")
    try:
        server = ThreadingHTTPServer((HOST, PORT), Handler)
    except OSError as exc:
        sys.exit(f"demo_rp: cannot listen on {HOST}:{PORT}: {exc.strerror}")
    threading.Thread(target=exit_with_parent, daemon=True).start()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
