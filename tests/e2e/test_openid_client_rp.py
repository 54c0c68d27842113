"""panva's openid-client (npm, v6) as the relying party against a real Portico server.

A Node script (openid_client_rp.mjs) does everything a relying party does with
openid-client; this test plays the person at the browser and checks what it saw.
openid-client is installed once into tests/.cache/node (git-ignored) and reused.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
from joserfc.jwk import ECKey
from tests.conftest import REPO, node_cache_lock
from tests.e2e.browser_login import EMAIL, USERNAME, Browser, callback_of, params_of
from tests.e2e.conftest import Portico

NODE_CACHE = REPO / "tests" / ".cache" / "node"
SCRIPT = Path(__file__).with_name("openid_client_rp.mjs")
OPENID_CLIENT = "openid-client@6"  # current major; runs on Node 20+
STEP_TIMEOUT = 30


def _unavailable(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (required in CI: the openid-client end-to-end test must run)")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def openid_client_prefix() -> Path:
    """A folder with openid-client installed (npm install --prefix, once)."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        _unavailable("node and npm are needed to run openid-client")
    installed = NODE_CACHE / "node_modules" / "openid-client" / "package.json"
    with node_cache_lock():  # xdist workers share the folder
        if installed.exists() and json.loads(installed.read_text())["version"].startswith("6."):
            return NODE_CACHE
        NODE_CACHE.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            [npm, "install", "--prefix", str(NODE_CACHE), OPENID_CLIENT]
            + ["--no-audit", "--no-fund", "--loglevel=error"],
            capture_output=True,
            text=True,
            timeout=300,
        )
    if done.returncode != 0:
        _unavailable(f"npm install {OPENID_CLIENT} failed:\n{done.stdout}{done.stderr}")
    return NODE_CACHE


class NodeRP:
    """The Node script as a subprocess, talked to in JSON lines."""

    def __init__(self, prefix: Path, log: Path) -> None:
        self.log = log
        self.process = subprocess.Popen(
            [shutil.which("node") or "node", str(SCRIPT)],
            env={**os.environ, "OPENID_CLIENT_PREFIX": str(prefix)},
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log.open("w"),
            text=True,
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line)
        self.lines.put(None)

    def send(self, message: dict[str, Any]) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps(message) + "\n")
        self.process.stdin.flush()

    def receive(self) -> dict[str, Any]:
        try:
            line = self.lines.get(timeout=STEP_TIMEOUT)
        except queue.Empty:
            raise AssertionError(f"openid-client said nothing for {STEP_TIMEOUT}s") from None
        if line is None:
            raise AssertionError(f"openid-client exited early:\n{self.log.read_text()}")
        message = json.loads(line)
        if "error" in message:
            raise AssertionError(f"openid-client failed: {message}\n{self.log.read_text()}")
        return message

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(10)
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


def run_openid_client(
    portico: Portico,
    person: Browser,
    registered: dict[str, Any],
    auth: dict[str, Any],
    prefix: Path,
    log: Path,
) -> tuple[dict[str, Any], list[str]]:
    """Play the browser for the script until it reports; returns its results and the
    pages the person was shown at each visit."""
    rp = NodeRP(prefix, log)
    shown: list[str] = []
    try:
        rp.send(
            {
                "issuer": portico.issuer,
                "client_id": registered["client_id"],
                "redirect_uri": registered["redirect_uri"],
                "post_logout_redirect_uri": registered["post_logout_redirect_uri"],
                **auth,
            }
        )
        while True:
            message = rp.receive()
            if "done" in message:
                assert rp.process.wait(STEP_TIMEOUT) == 0
                return message["done"], shown
            before = len(person.pages)
            location = callback_of(person.sign_in(message["visit"]))
            shown.append(",".join(person.pages[before:]))
            rp.send({"location": location})
    finally:
        rp.close()


def register(portico: Portico, variant: str, tmp_path: Path) -> tuple[dict, dict]:
    """A client for ``variant`` and what the script needs to act as it."""
    if variant == "client_secret_basic":
        registered = portico.add_client(f"openid-client {variant}")
        return registered, {"auth": variant, "client_secret": registered["client_secret"]}
    if variant == "EdDSA_signed_userinfo":
        registered = portico.add_client(
            f"openid-client {variant}", "--id-token-alg", "EdDSA", "--userinfo-alg", "EdDSA"
        )
        metadata = {
            "id_token_signed_response_alg": "EdDSA",
            "userinfo_signed_response_alg": "EdDSA",
        }
        return registered, {
            "auth": "client_secret_basic",
            "client_secret": registered["client_secret"],
            "metadata": metadata,
        }
    key = ECKey.generate_key("P-256", parameters={"kid": "node-rp", "alg": "ES256", "use": "sig"})
    jwks = tmp_path / "node-rp-jwks.json"
    jwks.write_text(json.dumps({"keys": [key.as_dict(private=False)]}))
    registered = portico.add_client(
        f"openid-client {variant}", "--auth-method", variant, "--jwks-file", str(jwks)
    )
    return registered, {"auth": variant, "private_jwk": key.as_dict(private=True)}


@pytest.mark.parametrize(
    "variant", ["client_secret_basic", "private_key_jwt", "EdDSA_signed_userinfo"]
)
def test_openid_client_completes_every_flow_against_portico(
    sqlite_portico, person, openid_client_prefix, tmp_path, variant
):
    portico = sqlite_portico
    registered, auth = register(portico, variant, tmp_path)
    results, shown = run_openid_client(
        portico, person, registered, auth, openid_client_prefix, tmp_path / "node.log"
    )
    client_id = registered["client_id"]

    # Discovery, and the authorization request openid-client built.
    assert results["discovery"] == {
        "issuer": portico.issuer,
        "supports_pkce": True,
        "end_session_endpoint": f"{portico.issuer}/end_session",
    }
    asked = params_of(results["authorization_url"])
    assert asked["code_challenge_method"] == "S256"
    assert asked["client_id"] == client_id
    assert {"state", "nonce", "code_challenge"} <= set(asked)
    assert params_of(results["callback"])["iss"] == portico.issuer
    # First visit: login and consent; second: none (session and consent remembered);
    # logout and the silent request after it show no page either.
    assert shown == ["/login,/consent", "", "", ""]

    # The code exchange and the ID token openid-client validated (signature via JWKS).
    assert results["token"]["token_type"].lower() == "bearer"
    assert results["token"]["has_refresh_token"] is True
    assert set(results["token"]["scope"].split()) == {
        "openid",
        "profile",
        "email",
        "offline_access",
    }
    id_token = results["id_token"]
    assert id_token["iss"] == portico.issuer
    assert id_token["aud"] == client_id
    assert id_token["azp"] == client_id
    assert id_token["nonce"] == id_token["expected_nonce"]
    assert id_token["email"] == EMAIL
    assert "at_hash" in id_token
    assert id_token["exp"] > id_token["iat"]

    if variant == "EdDSA_signed_userinfo":
        # openid-client verified the userinfo JWT; its iss and aud come along.
        assert results["userinfo"]["iss"] == portico.issuer
        assert results["userinfo"]["aud"] == client_id
    assert results["userinfo"]["sub"] == id_token["sub"]
    assert results["userinfo"]["email"] == EMAIL
    assert results["userinfo"]["preferred_username"] == USERNAME

    introspection = results["introspection"]
    assert introspection["active"] is True
    assert introspection["client_id"] == client_id
    assert introspection["sub"] == id_token["sub"]

    # Refresh rotates; reusing the old token is refused and burns the family.
    assert results["refresh"] == {
        "rotated": True,
        "new_access_token": True,
        "id_token_sub": id_token["sub"],
        "userinfo_sub": id_token["sub"],
    }
    assert results["reuse_error"] == "invalid_grant"
    assert results["after_reuse_error"] == "invalid_grant"
    assert results["after_reuse_introspection"] == {"active": False}

    # RFC 7009: revoking the refresh token revokes its access token too.
    assert results["revocation"] == {
        "introspection": {"active": False},
        "userinfo_error": "invalid_token",
        "refresh_error": "invalid_grant",
    }

    # RP-initiated logout returns to the registered URI with the state; then no session.
    end_session = params_of(results["end_session_url"])
    assert end_session["post_logout_redirect_uri"] == registered["post_logout_redirect_uri"]
    assert results["logout_location"] == (
        f"{registered['post_logout_redirect_uri']}?state=openid-client-logout"
    )
    assert results["prompt_none_error"] == "login_required"
