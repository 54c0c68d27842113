"""panva's openid-client (npm, v6) runs the device flow (RFC 8628) against a real Portico:
``initiateDeviceAuthorization``, then ``pollDeviceAuthorizationGrant`` while a scripted
browser signs in on ``verification_uri_complete`` and allows (or denies) the request."""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from tests.e2e.browser_login import EMAIL, USERNAME, Browser, forms_of
from tests.e2e.conftest import Portico
from tests.e2e.test_openid_client_rp import (  # noqa: F401 - the fixture is used by name
    STEP_TIMEOUT,
    NodeRP,
    openid_client_prefix,
)

SCRIPT = Path(__file__).with_name("openid_client_device.mjs")
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


class DeviceRP(NodeRP):
    """The device script instead of the code-flow one, same JSON-lines protocol."""

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


def decide_on_device_page(person: Browser, url: str, decision: str) -> str:
    """Open the link like a person: sign in when asked, then press Allow or Deny on
    /device. Returns where Portico sent the browser afterwards."""
    page = person.sign_in(url)  # stops at /device, which is neither login nor consent
    assert page.status_code == 200 and page.url.path == "/device", (page.url, page.text[:500])
    form = next(f for f in forms_of(page.text) if f.method == "post" and "user_code" in f.fields)
    assert "csrf_token" in form.fields
    done = person.http.post(urljoin(str(page.url), form.action),
                            data={**form.fields, "decision": decision})
    assert done.status_code == 303, done.text[:500]
    return done.headers["location"]


def test_openid_client_runs_the_device_flow_against_portico(
    portico: Portico, person: Browser, openid_client_prefix, tmp_path  # noqa: F811
):
    registered = portico.add_client(
        "openid-client device", "--auth-method", "none",
        "--grant", DEVICE_GRANT, "--grant", "refresh_token")
    rp = DeviceRP(openid_client_prefix, tmp_path / "node.log")
    after: dict[str, str] = {}
    try:
        rp.send({"issuer": portico.issuer, "client_id": registered["client_id"]})
        while True:
            message = rp.receive()
            if "done" in message:
                assert rp.process.wait(STEP_TIMEOUT) == 0
                results: dict[str, Any] = message["done"]
                break
            after[message["decision"]] = decide_on_device_page(
                person, message["visit"], message["decision"])
    finally:
        rp.close()

    assert results["discovery"]["device_authorization_endpoint"] == (
        f"{portico.issuer}/device_authorization")
    assert DEVICE_GRANT in results["discovery"]["grant_types_supported"]
    auth = results["authorization"]
    assert auth["verification_uri"] == f"{portico.issuer}/device"
    assert auth["verification_uri_complete"].endswith(f"?user_code={auth['user_code']}")
    assert auth["interval"] == 5 and auth["expires_in"] == 600
    assert after == {"approve": "/device?done=approved", "deny": "/device?done=denied"}

    assert results["token"]["token_type"].lower() == "bearer"
    assert results["token"]["has_refresh_token"] is True
    claims = results["id_token"]
    assert claims["iss"] == portico.issuer and claims["aud"] == registered["client_id"]
    assert claims["amr"] == ["pwd"] and "auth_time" in claims and "sid" in claims
    assert results["userinfo"]["preferred_username"] == USERNAME
    assert results["userinfo"]["email"] == EMAIL
    assert results["refresh"]["rotated"] is True
    assert results["denied_error"] == "access_denied"
    assert json.dumps(results)  # everything openid-client reported was plain data
