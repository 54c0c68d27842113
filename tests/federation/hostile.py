"""A hostile OpenID provider for the tests: a real HTTP server on loopback whose
token endpoint answers with whatever broken ID token the test asks for."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from joserfc import jwt
from joserfc.jwk import RSAKey

CLIENT_ID = "portico-downstream"
CLIENT_SECRET = "hostile-secret-hostile-secret-0123456789"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Hostile:
    """The server's behaviour; tests set ``mode`` and ``nonce`` before a callback."""

    url: str = ""
    mode: str = "good"
    nonce: str = ""
    key: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, {"kid": "k1"}))
    rogue: RSAKey = field(default_factory=lambda: RSAKey.generate_key(2048, {"kid": "k1"}))
    token_requests: list[dict[str, str]] = field(default_factory=list)

    def metadata(self) -> dict[str, Any]:
        algs = ["none", "HS256"] if self.mode == "advertise_none" else ["RS256"]
        return {
            "issuer": self.url if self.mode != "discovery_issuer" else self.url + "/evil",
            "authorization_endpoint": f"{self.url}/authorize",
            "token_endpoint": f"{self.url}/token",
            "jwks_uri": f"{self.url}/jwks",
            "id_token_signing_alg_values_supported": algs,
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
        }

    def claims(self) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.url, "sub": "h-1", "aud": CLIENT_ID, "iat": now, "exp": now + 300,
            "nonce": self.nonce, "email": "hal@hostile.example", "email_verified": True,
            "name": "Hal", "auth_time": now - 5, "acr": "urn:hostile:loa:2",
            "amr": ["pwd", "otp"],
        }
        change = {
            "wrong_iss": {"iss": "https://evil.example"},
            "wrong_aud": {"aud": "someone-else"},
            "extra_aud_no_azp": {"aud": [CLIENT_ID, "someone-else"]},
            "wrong_nonce": {"nonce": "not-the-nonce"},
            "expired": {"exp": now - 600, "iat": now - 1200},
            "future_iat": {"iat": now + 3600, "exp": now + 7200},
            "stale_auth_time": {"auth_time": now - 7200},
        }.get(self.mode, {})
        claims.update(change)
        return claims

    def id_token(self, access_token: str) -> str:
        claims = self.claims()
        if self.mode == "wrong_at_hash":
            claims["at_hash"] = _b64(b"0" * 16)
        header = {"alg": "RS256", "kid": "k1"}
        if self.mode == "alg_none":
            head = _b64(json.dumps({"alg": "none"}).encode())
            return f"{head}.{_b64(json.dumps(claims).encode())}."
        if self.mode == "hs256_with_public_key":
            head = _b64(json.dumps({"alg": "HS256", "kid": "k1"}).encode())
            body = _b64(json.dumps(claims).encode())
            secret = self.key.as_pem(private=False)
            sig = hmac.new(secret, f"{head}.{body}".encode(), hashlib.sha256).digest()
            return f"{head}.{body}.{_b64(sig)}"
        if self.mode == "bad_signature":
            return jwt.encode(header, claims, self.rogue)
        if self.mode == "unknown_kid":
            return jwt.encode({"alg": "RS256", "kid": "k9"}, claims, self.rogue)
        return jwt.encode(header, claims, self.key)


def _handler(h: Hostile) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _json(self, body: Any, status: int = 200) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path == "/.well-known/openid-configuration":
                self._json(h.metadata())
            elif self.path == "/jwks":
                self._json({"keys": [h.key.as_dict(private=False)]})
            else:
                self._json({"error": "not_found"}, 404)

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            form = dict(p.split("=", 1) for p in self.rfile.read(length).decode().split("&")
                        if "=" in p)
            h.token_requests.append(form)
            if h.mode == "slow":
                time.sleep(2.5)
            if h.mode == "token_error":
                self._json({"error": "invalid_grant"}, 400)
                return
            if h.mode == "server_error":
                self._json({"oops": True}, 500)
                return
            access = "at-" + "x" * 40
            body: dict[str, Any] = {"access_token": access, "token_type": "Bearer",
                                    "expires_in": 300}
            if h.mode != "no_id_token":
                body["id_token"] = h.id_token(access)
            self._json(body)

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def hostile_server() -> Iterator[Hostile]:
    """Run a hostile provider on a free loopback port for the duration."""
    h = Hostile()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(h))
    h.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield h
    finally:
        server.shutdown()
        server.server_close()
