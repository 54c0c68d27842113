"""/api/v1/admin/invites: the whole life of an invitation, its rules (duplicates,
members, expiry, cancel, single use), isolation between organizations, the audit
trail, and the invitation mail through a real SMTP server (a tiny sink started here).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import ipaddress
import ssl
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from typing import Any

import pytest
from pydantic import SecretStr
from sqlalchemy import select, update
from tests.api.admin.conftest import World, make_world
from tests.api.conftest import problem
from tests.conftest import TEST_MASTER_KEY, free_port, make_settings
from tests.helpers import PASSWORD, services_of

from portico.orgs.mailer import Mail, Mailer, MailError
from portico.storage.models import AuditEvent, Invite
from portico.storage.models.base import utcnow
from portico.storage.repositories.users import Organizations

BASE = "/api/v1/admin/invites"


# --- a minimal SMTP server: EHLO/MAIL/RCPT/DATA/QUIT, optional STARTTLS, TLS and AUTH ---


@dataclass
class SmtpSink:
    """Accepts every message and keeps it; ``tls`` enables STARTTLS (or TLS from the
    first byte with ``implicit``); ``auth`` advertises AUTH PLAIN."""

    tls: ssl.SSLContext | None = None
    implicit: bool = False
    auth: bool = False
    messages: list[dict[str, Any]] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    port: int = 0

    async def __aenter__(self) -> SmtpSink:
        self.server = await asyncio.start_server(
            self._serve, "127.0.0.1", 0, ssl=self.tls if self.implicit else None)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        secure = self.implicit
        envelope: dict[str, Any] = {"rcpt": []}

        async def say(*lines: str) -> None:
            writer.write("".join(f"{line}\r\n" for line in lines).encode())
            await writer.drain()

        await say("220 sink ESMTP")
        try:
            while line := (await reader.readline()).decode().rstrip("\r\n"):
                verb, _, arg = line.partition(" ")
                verb = verb.upper()
                if verb in ("EHLO", "HELO"):
                    extra = ["250-STARTTLS"] if self.tls and not secure else []
                    extra += ["250-AUTH PLAIN"] if self.auth else []
                    await say("250-sink", *extra, "250 8BITMIME")
                elif verb == "STARTTLS" and self.tls and not secure:
                    await say("220 ready")
                    await writer.start_tls(self.tls)
                    secure = True
                elif verb == "AUTH" and self.auth:
                    _, user, password = base64.b64decode(arg.split()[1]).decode().split("\0")
                    self.logins.append((user, password))
                    await say("235 ok")
                elif verb == "MAIL":
                    envelope = {"from": arg, "rcpt": [], "secure": secure}
                    await say("250 ok")
                elif verb == "RCPT":
                    envelope["rcpt"].append(arg)
                    await say("250 ok")
                elif verb == "DATA":
                    await say("354 go on")
                    data = b""
                    while (chunk := await reader.readline()) != b".\r\n":
                        data += chunk[1:] if chunk.startswith(b"..") else chunk
                    envelope["message"] = message_from_bytes(data, policy=policy.default)
                    self.messages.append(envelope)
                    await say("250 queued")
                elif verb == "QUIT":
                    await say("221 bye")
                    break
                else:
                    await say("250 ok")
        finally:
            writer.close()


def self_signed() -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server, client) TLS contexts for a fresh certificate of 127.0.0.1."""
    import tempfile

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=1))
            .not_valid_after(now + dt.timedelta(hours=1))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    key_pem = key.private_bytes(serialization.Encoding.PEM,
                                serialization.PrivateFormat.PKCS8,
                                serialization.NoEncryption())
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with tempfile.TemporaryDirectory() as tmp:
        cert_file, key_file = f"{tmp}/cert.pem", f"{tmp}/key.pem"
        with open(cert_file, "wb") as fh:
            fh.write(cert_pem)
        with open(key_file, "wb") as fh:
            fh.write(key_pem)
        server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cadata=cert_pem.decode())
    return server, client


# --- helpers -----------------------------------------------------------------------------


async def invite(signed: Any, email: str = "new@example.org", **extra: Any) -> dict[str, Any]:
    response = await signed.post(BASE, json={"email": email, **extra})
    body = await response.get_json()
    assert response.status_code == 201, body
    return body


def token_of(link: str) -> str:
    return link.rsplit("/invite/", 1)[1]


async def register(world: World, link: str, username: str = "newbie", **extra: Any) -> Any:
    return await world.app.test_client().post("/api/v1/auth/register", json={
        "username": username, "password": PASSWORD, "invite_token": token_of(link), **extra})


async def audit(world: World) -> list[AuditEvent]:
    async with services_of(world.app).db.session() as session:
        return list((await session.execute(select(AuditEvent).order_by(AuditEvent.id))).scalars())


async def set_expired(world: World, invite_id: str) -> None:
    async with services_of(world.app).db.session() as session:
        await session.execute(update(Invite).where(Invite.id == invite_id)
                              .values(expires_at=utcnow() - dt.timedelta(minutes=1)))


# --- lifecycle ---------------------------------------------------------------------------


async def test_an_invite_lives_from_creation_to_acceptance(world: World):
    made = await invite(world.ann, "New.Person@Example.org", role="admin")
    assert made["email"] == "new.person@example.org" and made["role"] == "admin"
    assert made["organization"] == {"id": world.acme.id, "slug": "acme", "name": "Acme"}
    assert made["status"] == "pending" and made["emailed"] is False
    assert made["link"].startswith("http://127.0.0.1:8000/invite/")
    assert len(token_of(made["link"])) >= 43
    expires = dt.datetime.fromisoformat(made["expires_at"])
    assert abs((expires - utcnow()).total_seconds() - 7 * 86400) < 60

    listed = await (await world.ann.get(BASE)).get_json()
    assert [i["id"] for i in listed["items"]] == [made["id"]] and listed["next_cursor"] is None
    assert "link" not in listed["items"][0]
    shown = await (await world.ann.get(f"{BASE}/{made['id']}")).get_json()
    assert shown["status"] == "pending" and "link" not in shown
    again = await (await world.ann.get(f"{BASE}/{made['id']}/link")).get_json()
    assert again == {"link": made["link"]}

    response = await register(world, made["link"])
    body = await response.get_json()
    assert response.status_code == 201, body
    assert body["email"] == "new.person@example.org" and body["email_verified"] is True
    async with services_of(world.app).db.session() as session:
        roles = [(m.role, o.slug) for m, o in await Organizations(session).memberships(body["id"])]
    assert roles == [("admin", "acme")]

    shown = await (await world.ann.get(f"{BASE}/{made['id']}")).get_json()
    assert shown["status"] == "accepted" and shown["accepted_by"] == body["id"]
    await problem(await world.ann.get(f"{BASE}/{made['id']}/link"), 409, "conflict")
    await problem(await world.ann.delete(f"{BASE}/{made['id']}"), 409, "conflict")
    await problem(await register(world, made["link"], "second"), 410, "invite-accepted")


async def test_every_step_is_audited_without_the_token(world: World):
    made = await invite(world.ann)
    await world.ann.get(f"{BASE}/{made['id']}/link")
    await register(world, made["link"])
    other = await invite(world.ann, "other@example.org")
    assert (await world.ann.delete(f"{BASE}/{other['id']}")).status_code == 204
    events = await audit(world)
    by_action: dict[str, AuditEvent] = {}
    for event in events:
        by_action.setdefault(event.action, event)
    for action in ("invite.created", "invite.link_viewed", "invite.accepted",
                   "invite.cancelled", "user.registered"):
        assert by_action[action].org_id == world.acme.id, action
    assert by_action["invite.created"].actor_id == world.user_id("ann")
    assert by_action["invite.created"].target == f"invite:{made['id']}"
    assert by_action["invite.created"].details["email"] == "new@example.org"
    token = token_of(made["link"])
    for event in events:
        assert token not in repr((event.target, event.details, event.user_agent))


async def test_a_superadmin_names_the_organization(world: World):
    body = await problem(await world.root.post(BASE, json={"email": "x@example.org"}),
                         400, "validation")
    assert "organization" in body["errors"]
    made = await invite(world.root, organization="globex")
    assert made["organization"]["slug"] == "globex"
    by_id = await invite(world.root, "y@example.org", organization=world.acme.id)
    assert by_id["organization"]["slug"] == "acme"
    body = await problem(await world.root.post(
        BASE, json={"email": "z@example.org", "organization": "nope"}), 400, "validation")
    assert "organization" in body["errors"]


@pytest.mark.parametrize(("body", "name"), [
    ({"email": "not-an-email"}, "email"),
    ({"email": "a@example.org", "role": "owner"}, "role"),
    ({"role": "member"}, "email"),
])
async def test_bad_input_is_a_400_naming_the_field(world: World, body, name):
    answer = await problem(await world.ann.post(BASE, json=body), 400, "validation")
    assert name in answer["errors"], answer


async def test_the_lifecycle_and_isolation_hold_on_every_database(keyed_database_url,
                                                                  tmp_path):
    from portico.app import create_app

    settings = make_settings(keyed_database_url, tmp_path, secret_key=TEST_MASTER_KEY)
    async with create_app(settings).test_app() as app:
        world = await make_world(app)
        made = await invite(world.ann, "Every@Example.org")
        await problem(await world.ann.post(BASE, json={"email": "every@example.org"}),
                      409, "conflict")
        await problem(await world.bob.get(f"{BASE}/{made['id']}"), 404, "not-found")
        assert (await register(world, made["link"])).status_code == 201
        await problem(await register(world, made["link"], "again"), 410, "invite-accepted")
        other = await invite(world.ann, "other@example.org")
        await set_expired(world, other["id"])
        assert (await invite(world.ann, "other@example.org"))["status"] == "pending"
        statuses = [i["status"] for i in (await (await world.ann.get(BASE)).get_json())["items"]]
        assert statuses == ["pending", "expired", "accepted"]


# --- rules -------------------------------------------------------------------------------


async def test_a_second_pending_invite_for_the_same_address_is_a_409(world: World):
    await invite(world.ann, "dup@example.org")
    body = await problem(await world.ann.post(BASE, json={"email": " DUP@example.ORG "}),
                         409, "conflict")
    assert "email" in body["errors"]
    # Another organization may invite the same address.
    await invite(world.bob, "dup@example.org")


async def test_members_cannot_be_invited_again(world: World):
    body = await problem(await world.ann.post(BASE, json={"email": "MIA@acme.example"}),
                         409, "conflict")
    assert body["errors"] == {"email": "already a member"}
    # A person who belongs elsewhere can be invited here.
    await invite(world.ann, "bob@globex.example")


async def test_an_expired_invite_neither_works_nor_blocks_a_new_one(world: World):
    old = await invite(world.ann, "late@example.org")
    await set_expired(world, old["id"])
    assert (await (await world.ann.get(f"{BASE}/{old['id']}")).get_json())["status"] == "expired"
    await problem(await register(world, old["link"]), 410, "invite-expired")
    await problem(await world.ann.get(f"{BASE}/{old['id']}/link"), 409, "conflict")
    new = await invite(world.ann, "late@example.org")
    assert new["id"] != old["id"]
    expired = await (await world.ann.get(f"{BASE}?status=expired")).get_json()
    assert [i["id"] for i in expired["items"]] == [old["id"]]
    assert (await register(world, new["link"])).status_code == 201


async def test_a_cancelled_invite_stops_working_and_frees_the_address(world: World):
    made = await invite(world.ann)
    assert (await world.ann.delete(f"{BASE}/{made['id']}")).status_code == 204
    assert (await world.ann.delete(f"{BASE}/{made['id']}")).status_code == 204  # idempotent
    shown = await (await world.ann.get(f"{BASE}/{made['id']}")).get_json()
    assert shown["status"] == "cancelled" and shown["cancelled_at"]
    await problem(await register(world, made["link"]), 410, "invite-cancelled")
    await problem(await world.ann.get(f"{BASE}/{made['id']}/link"), 409, "conflict")
    await invite(world.ann)  # the address may be invited again


async def test_a_refused_account_leaves_the_invite_usable(world: World):
    made = await invite(world.ann)
    body = await problem(await register(world, made["link"], "MIA"), 409, "conflict")
    assert body["errors"] == {"username": "already taken"}
    weak = await problem(await world.app.test_client().post("/api/v1/auth/register", json={
        "username": "fresh", "password": "weak", "invite_token": token_of(made["link"])}),
        400, "password-policy")
    assert weak["errors"]["password"]
    shown = await (await world.ann.get(f"{BASE}/{made['id']}")).get_json()
    assert shown["status"] == "pending"
    assert (await register(world, made["link"], "fresh")).status_code == 201


async def test_unknown_tokens_are_a_404(world: World):
    for token in ("nope", "x" * 43, "y" * 150):
        response = await world.app.test_client().post("/api/v1/auth/register", json={
            "username": "z", "password": PASSWORD, "invite_token": token})
        await problem(response, 404, "invite-unknown")


async def test_the_list_pages_and_filters(world: World):
    made = [await invite(world.ann, f"p{i}@example.org") for i in range(3)]
    first = await (await world.ann.get(f"{BASE}?limit=2")).get_json()
    assert [i["id"] for i in first["items"]] == [made[2]["id"], made[1]["id"]]
    second = await (await world.ann.get(
        f"{BASE}?limit=2&cursor={first['next_cursor']}")).get_json()
    assert [i["id"] for i in second["items"]] == [made[0]["id"]]
    assert second["next_cursor"] is None
    await world.ann.delete(f"{BASE}/{made[1]['id']}")
    cancelled = await (await world.ann.get(f"{BASE}?status=cancelled")).get_json()
    assert [i["id"] for i in cancelled["items"]] == [made[1]["id"]]
    pending = await (await world.ann.get(f"{BASE}?status=pending&organization=acme")).get_json()
    assert {i["id"] for i in pending["items"]} == {made[0]["id"], made[2]["id"]}
    await problem(await world.ann.get(f"{BASE}?cursor=garbage"), 400, "validation")
    await problem(await world.ann.get(f"{BASE}?status=weird"), 400, "validation")
    await problem(await world.ann.get(f"{BASE}?limit=0"), 400, "validation")


# --- isolation ---------------------------------------------------------------------------


async def test_admins_see_and_touch_only_their_own_organizations_invites(world: World):
    acme = await invite(world.ann, "secret-hire@example.org")
    globex = await invite(world.bob, "someone@example.org")
    for path in (f"{BASE}/{acme['id']}", f"{BASE}/{acme['id']}/link"):
        await problem(await world.bob.get(path), 404, "not-found")
    await problem(await world.bob.delete(f"{BASE}/{acme['id']}"), 404, "not-found")
    listed = await (await world.bob.get(BASE)).get_json()
    assert [i["id"] for i in listed["items"]] == [globex["id"]]
    await problem(await world.bob.get(f"{BASE}?organization=acme"), 403, "forbidden")
    await problem(await world.bob.post(BASE, json={"email": "x@example.org",
                                                   "organization": "acme"}), 403, "forbidden")
    await problem(await world.bob.post(BASE, json={"email": "x@example.org",
                                                   "organization": "no-such-org"}),
                  403, "forbidden")
    everything = await (await world.root.get(BASE)).get_json()
    assert {i["id"] for i in everything["items"]} == {acme["id"], globex["id"]}
    shown = await (await world.ann.get(f"{BASE}/{acme['id']}")).get_json()
    assert shown["status"] == "pending"


async def test_members_may_not_use_the_invite_api(world: World):
    made = await invite(world.ann)
    await problem(await world.mia.post(BASE, json={"email": "x@example.org"}), 403, "forbidden")
    await problem(await world.mia.get(BASE), 403, "forbidden")
    await problem(await world.mia.get(f"{BASE}/{made['id']}/link"), 403, "forbidden")
    await problem(await world.mia.delete(f"{BASE}/{made['id']}"), 403, "forbidden")
    response = await world.app.test_client().get(BASE)
    assert response.status_code == 401


# --- mail --------------------------------------------------------------------------------


@pytest.fixture
async def sink():
    async with SmtpSink() as running:
        yield running


async def test_the_invitation_is_mailed_through_smtp(make_app, sink: SmtpSink):
    url = SecretStr(f"smtp://127.0.0.1:{sink.port}")
    async with make_app(smtp_url=url, mail_from="Acme IdP <idp@acme.example>") as app:
        world = await make_world(app)
        made = await invite(world.ann, "Mailed@Example.org")
        assert made["emailed"] is True and made["emailed_at"] and made.get("warning") is None
        assert len(sink.messages) == 1
        sent = sink.messages[0]
        assert sent["rcpt"] == ["TO:<mailed@example.org>"]
        assert "idp@acme.example" in sent["from"]
        message = sent["message"]
        assert message["To"] == "mailed@example.org"
        assert message["From"] == "Acme IdP <idp@acme.example>"
        assert message["Subject"] == "Invitation to join Acme"
        body = message.get_content()
        assert made["link"] in body and "expires on" in body
        shown = await (await world.ann.get(f"{BASE}/{made['id']}")).get_json()
        assert shown["emailed_at"]
        events = [e for e in await audit(world) if e.action == "invite.emailed"]
        assert [e.outcome for e in events] == ["success"]


async def test_a_mail_failure_keeps_the_invite_and_says_so(make_app):
    url = SecretStr(f"smtp://user:hunter2-secret@127.0.0.1:{free_port()}")
    async with make_app(smtp_url=url) as app:
        world = await make_world(app)
        response = await world.ann.post(BASE, json={"email": "lost@example.org"})
        body = await response.get_json()
        assert response.status_code == 201, body
        assert body["emailed"] is False and "not mailed" in body["warning"]
        assert "hunter2" not in str(body)
        assert body["link"]
        shown = await (await world.ann.get(f"{BASE}/{body['id']}")).get_json()
        assert shown["status"] == "pending" and shown["emailed_at"] is None
        events = [e for e in await audit(world) if e.action == "invite.emailed"]
        assert [e.outcome for e in events] == ["failure"]


MAIL = Mail(to="someone@example.org", subject="Hello", body="A link: https://x/invite/abc\n")


async def test_smtp_upgrades_with_starttls_and_logs_in():
    server_tls, client_tls = self_signed()
    async with SmtpSink(tls=server_tls, auth=True) as sink:
        mailer = Mailer(f"smtp://me%40host:p%3Ass@127.0.0.1:{sink.port}", "a@example.org",
                        context=client_tls)
        await mailer.send(MAIL)
    assert sink.logins == [("me@host", "p:ss")]
    assert sink.messages[0]["secure"] is True
    assert "https://x/invite/abc" in sink.messages[0]["message"].get_content()


async def test_smtps_is_tls_from_the_first_byte():
    server_tls, client_tls = self_signed()
    async with SmtpSink(tls=server_tls, implicit=True) as sink:
        await Mailer(f"smtps://127.0.0.1:{sink.port}", "a@example.org",
                     context=client_tls).send(MAIL)
    assert sink.messages[0]["secure"] is True


async def test_an_untrusted_certificate_is_refused():
    server_tls, _ = self_signed()
    async with SmtpSink(tls=server_tls, implicit=True) as sink:
        with pytest.raises(MailError, match="failed"):
            await Mailer(f"smtps://127.0.0.1:{sink.port}", "a@example.org").send(MAIL)
    assert not sink.messages


async def test_mail_errors_and_reprs_never_show_the_password():
    mailer = Mailer(f"smtp://user:hunter2@127.0.0.1:{free_port()}", "a@example.org",
                    timeout=2)
    assert "hunter2" not in repr(mailer)
    with pytest.raises(MailError) as caught:
        await mailer.send(MAIL)
    assert "hunter2" not in str(caught.value) and "could not be reached" in str(caught.value)
