"""/consent: approve or deny what an application asks for; approval is remembered
per client and scopes, so the next request within them skips this page."""

from __future__ import annotations

import re
from urllib.parse import urlencode, urlsplit

from quart import Response, g, redirect, request

from portico.audit.recorder import record
from portico.errors import NotFound
from portico.http import services
from portico.storage.models import Client
from portico.storage.repositories.grants import Consents
from portico.storage.repositories.interactions import PendingAuthorizations
from portico.web.blueprint import bp, page
from portico.web.csrf import verify_csrf
from portico.web.interaction import load_ticket, resume_url
from portico.web.session_cookie import current_login

SCOPE_TEXT = {
    "openid": "Sign you in with your Portico account",
    "profile": "See your name and basic profile",
    "email": "See your email address",
    "address": "See your postal address",
    "phone": "See your phone number",
    "organization": "See which organization you act in and your role there",
    "offline_access": "Stay connected when you are not using it",
}


# Links an application registered about itself (OIDC Registration §2), as shown here.
CLIENT_LINKS = (("client_uri", "Website"), ("policy_uri", "Privacy policy"),
                ("tos_uri", "Terms of service"))


def client_links(client: Client) -> list[tuple[str, str]]:
    """The application's own pages worth reading before allowing it; https only, so a
    registered ``javascript:`` or plain-http URL never becomes a link on Portico's page."""
    extra = client.extra_metadata or {}
    links = []
    for key, label in CLIENT_LINKS:
        url = extra.get(key)
        if isinstance(url, str) and len(url) <= 2000:
            parts = urlsplit(url)
            if parts.scheme == "https" and parts.hostname:
                links.append((url, label))
    return links


# A DNS name (its last label starts with a letter: no IP literals).
_HOST = re.compile(r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z](?:[a-z0-9-]*[a-z0-9])?")


def client_logo(client: Client) -> str | None:
    """The application's ``logo_uri`` when it is an https URL; the page's CSP then lets
    images come from that origin (and no other): ``g.csp_img_src``."""
    url = (client.extra_metadata or {}).get("logo_uri")
    if not isinstance(url, str) or len(url) > 2000:
        return None
    parts = urlsplit(url)
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return None
    host = parts.hostname or ""
    # The origin goes into a header: a plain DNS name only, no credentials, no quotes.
    if parts.scheme != "https" or parts.username or not _HOST.fullmatch(host) or '"' in url:
        return None
    g.csp_img_src = f"https://{host}{port}"
    return url


@bp.get("/consent")
async def consent_form() -> Response:
    ticket = await load_ticket(request.args.get("ticket"))
    if ticket is None:
        raise NotFound("There is nothing to approve. Return to the application.")
    current = await current_login()
    if current is None:
        return redirect("/login?" + urlencode({"ticket": ticket.pending.id}), 303)
    scopes = [(s, SCOPE_TEXT.get(s, s)) for s in ticket.request.scopes]
    return await page(
        "consent.html",
        client_name=ticket.client.name,
        client_links=client_links(ticket.client),
        client_logo=client_logo(ticket.client),
        scopes=scopes,
        ticket=ticket.pending.id,
        user=current[1],
    )


@bp.post("/consent")
async def consent_submit() -> Response:
    await verify_csrf()
    form = await request.form
    ticket = await load_ticket(form.get("ticket"))
    if ticket is None:
        raise NotFound("There is nothing to approve. Return to the application.")
    current = await current_login()
    if current is None:
        return redirect("/login?" + urlencode({"ticket": ticket.pending.id}), 303)
    approved = form.get("decision") == "approve"
    async with services().db.session() as session:
        pending = PendingAuthorizations(session)
        if approved:
            await Consents(session).grant(
                current[1].id, ticket.client.id, set(ticket.request.scopes)
            )
            await pending.record_consent(ticket.pending.id)
        else:
            await pending.record_denial(ticket.pending.id)
        await record(
            session,
            "consent.granted" if approved else "consent.denied",
            actor_id=current[1].id,
            target=f"client:{ticket.client.id}",
            ip=request.remote_addr,
            scopes=list(ticket.request.scopes),
        )
    return redirect(resume_url(ticket.pending.id), 303)
