"""The organizations story end to end, over real HTTP against ``portico serve`` in
``multi`` tenancy (docs/admin-api.md, "Walkthrough"):

two people register and so found two organizations; each admin invites a member who
registers through the invitation; each registers an application; the admins manage their
people and clients through the admin API and never see the other organization; a member
signs in to their organization's application and the ID token says which organization
and role.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
from tests.conftest import LiveServer, start_server
from tests.e2e.browser_login import Browser, callback_of, params_of
from tests.helpers import jwt_claims

PASSWORD = "Correct-horse-1"
ADMIN = "/api/v1/admin"


@pytest.fixture
def portico(tmp_path: Path, sqlite_url: str) -> Iterator[LiveServer]:
    server = start_server(tmp_path, sqlite_url, PORTICO_TENANCY="multi",
                          PORTICO_REGISTRATION="open")
    yield server
    server.process.terminate()
    server.process.wait(10)


class Admin:
    """Someone signed in over the API, calling it with their bearer token."""

    def __init__(self, base: str, username: str) -> None:
        answer = httpx.post(f"{base}/api/v1/auth/login",
                            json={"username": username, "password": PASSWORD}, timeout=15)
        assert answer.status_code == 200, answer.text
        self.http = httpx.Client(base_url=base, timeout=15, headers={
            "Authorization": f"Bearer {answer.json()['access_token']}"})

    def call(self, method: str, path: str, status: int, **kw: Any) -> Any:
        answer = self.http.request(method, ADMIN + path, **kw)
        assert answer.status_code == status, (method, path, answer.status_code, answer.text)
        return answer.json() if answer.content else None


def register(base: str, username: str, **extra: str) -> dict[str, Any]:
    answer = httpx.post(f"{base}/api/v1/auth/register", timeout=15, json={
        "username": username, "email": f"{username}@example.org", "password": PASSWORD,
        **extra})
    assert answer.status_code == 201, answer.text
    return answer.json()


def onboard(base: str, founder: str, org_name: str, member: str) -> tuple[Admin, dict[str, Any]]:
    """The founder registers (creating the org), invites ``member``, who registers."""
    register(base, founder, organization=org_name)
    admin = Admin(base, founder)
    invite = admin.call("POST", "/invites", 201,
                        json={"email": f"{member}@example.org", "role": "member"})
    token = invite["link"].rsplit("/", 1)[1]
    joined = register(base, member, invite_token=token)
    client = admin.call("POST", "/clients", 201, json={
        "name": f"{org_name} portal", "redirect_uris": ["https://rp.example/cb"],
        "grant_types": ["authorization_code", "refresh_token"]})
    return admin, {"invite": invite, "member": joined, "client": client}


def test_two_organizations_onboard_and_stay_apart(portico: LiveServer) -> None:
    base = portico.url
    ann, acme = onboard(base, "ann", "Acme", "mia")
    bob, globex = onboard(base, "bob", "Globex", "max")

    # Each admin's lists hold their own organization only.
    assert {u["username"] for u in ann.call("GET", "/users", 200)["items"]} == {"ann", "mia"}
    assert {u["username"] for u in bob.call("GET", "/users", 200)["items"]} == {"bob", "max"}
    assert [o["slug"] for o in ann.call("GET", "/organizations", 200)["items"]] == ["acme"]
    assert [c["client_id"] for c in bob.call("GET", "/clients", 200)["items"]] == [
        globex["client"]["client_id"]]
    bob_audit = bob.call("GET", "/audit", 200, params={"limit": 200})["items"]
    assert bob_audit and all(e["organization_id"] != acme["invite"]["organization"]["id"]
                             for e in bob_audit)

    # Acme's ids answer Bob exactly like ids that do not exist; naming Acme is refused.
    mia_id, acme_client = acme["member"]["id"], acme["client"]["client_id"]
    bob.call("GET", f"/users/{mia_id}", 404)
    bob.call("POST", f"/users/{mia_id}/disable", 404)
    bob.call("GET", f"/clients/{acme_client}", 404)
    bob.call("PATCH", f"/clients/{acme_client}", 404, json={"name": "mine now"})
    bob.call("DELETE", f"/invites/{acme['invite']['id']}", 404)
    bob.call("GET", "/users", 403, params={"organization": "acme"})
    bob.call("POST", "/invites", 403, json={"email": "x@example.org", "organization": "acme"})

    # Ann manages her people: Mia becomes an admin of Acme.
    org_id = acme["invite"]["organization"]["id"]
    ann.call("PATCH", f"/organizations/{org_id}/members/{mia_id}", 200,
             json={"role": "admin"})

    # Mia signs in to Acme's application: the ID token carries Acme and her role there.
    claims = sign_in_to(base, acme["client"], "mia")
    assert claims["org"]["slug"] == "acme" and claims["roles"] == ["admin"]
    assert claims["preferred_username"] == "mia"


def sign_in_to(base: str, client: dict[str, Any], username: str) -> dict[str, Any]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(
        hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    query = urlencode({
        "response_type": "code", "client_id": client["client_id"],
        "redirect_uri": "https://rp.example/cb", "scope": "openid profile organization",
        "state": "s", "nonce": "n", "code_challenge": challenge,
        "code_challenge_method": "S256"})
    with Browser(base) as browser:
        callback = callback_of(browser.sign_in(f"{base}/authorize?{query}", username,
                                               PASSWORD))
    code = params_of(callback)["code"]
    answer = httpx.post(f"{base}/token", timeout=15, auth=(
        client["client_id"], client["client_secret"]), data={
        "grant_type": "authorization_code", "code": code,
        "redirect_uri": "https://rp.example/cb", "code_verifier": verifier})
    assert answer.status_code == 200, answer.text
    return jwt_claims(answer.json()["id_token"])
