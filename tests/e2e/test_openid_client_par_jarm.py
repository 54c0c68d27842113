"""panva's openid-client (npm, v6) as a confidential client that pushes its request
(RFC 9126) and takes a JWT-secured authorization response (OpenID JARM) from a real
Portico, on every supported database. openid-client checks the response JWT itself."""

from __future__ import annotations

import os
import queue
import shutil
import subprocess
import threading
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from tests.e2e.browser_login import EMAIL, callback_of
from tests.e2e.conftest import Portico
from tests.e2e.test_openid_client_rp import STEP_TIMEOUT, NodeRP, openid_client_prefix

SCRIPT = Path(__file__).with_name("openid_client_par_jarm.mjs")

__all__ = ["openid_client_prefix"]


class ParJarmRP(NodeRP):
    """The PAR + JARM script as a subprocess, spoken to like ``NodeRP``."""

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


def test_openid_client_pushes_the_request_and_verifies_the_jarm_response(
    portico: Portico, person, openid_client_prefix, tmp_path
):
    registered = portico.add_client("openid-client PAR+JARM", "--first-party", logout=False)
    rp = ParJarmRP(openid_client_prefix, tmp_path / "node.log")
    try:
        rp.send({"issuer": portico.issuer, "client_id": registered["client_id"],
                 "client_secret": registered["client_secret"],
                 "redirect_uri": registered["redirect_uri"]})
        visit = rp.receive()["visit"]
        callback = callback_of(person.sign_in(visit))
        rp.send({"location": callback})
        message = rp.receive()
        assert rp.process.wait(STEP_TIMEOUT) == 0
    finally:
        rp.close()
    results = message["done"]

    assert results["metadata"]["par"] == f"{portico.issuer}/par"
    assert "jwt" in results["metadata"]["modes"]
    # Only client_id and the request_uri went through the browser (RFC 9126 §4).
    sent = parse_qs(urlsplit(visit).query)
    assert set(sent) == {"client_id", "request_uri"}
    assert sent["request_uri"][0].startswith("urn:ietf:params:oauth:request_uri:")
    # The response came as one JWT (JARM §2.3.1, query.jwt for code).
    assert results["callback_params"] == ["response"]
    assert results["userinfo"]["email"] == EMAIL
    assert results["userinfo"]["sub"] == results["sub"]
    # The request_uri was used: a second visit is refused with an error page.
    again = person.visit(visit)
    assert again.status_code == 400 and "already used" in again.text
