"""/login: username-or-email and password; also the account chooser for
``prompt=select_account``. A new session id is minted at every login."""

from __future__ import annotations

from typing import Any

from quart import Response, redirect, request

from portico.accounts.sessions import start_session
from portico.accounts.signin import verify_credentials
from portico.audit.recorder import record
from portico.errors import InvalidCredentials
from portico.http import services
from portico.http.rate_limit import limiter, lockout_policy
from portico.storage.repositories.interactions import PendingAuthorizations
from portico.web.blueprint import bp, local_path, page
from portico.web.csrf import verify_csrf
from portico.web.interaction import Ticket, load_ticket, resume_url
from portico.web.session_cookie import current_login, set_session_cookie

MAX_FIELD = 1024


def _context(ticket: Ticket | None, source: Any) -> dict[str, object]:
    return {
        "ticket": ticket.pending.id if ticket else "",
        "client_name": ticket.client.name if ticket else None,
        # A local page that sent the browser here to sign in (e.g. /account).
        "next": "" if ticket else (local_path(source.get("next")) or ""),
    }


@bp.get("/login")
async def login_form() -> Response:
    ticket = await load_ticket(request.args.get("ticket"))
    current = await current_login()
    select = request.args.get("select") == "1" and current is not None
    hint = ticket.request.login_hint if ticket else None
    return await page(
        "login.html",
        username=hint or "",
        error=None,
        current_user=current[1] if select and current else None,
        **_context(ticket, request.args),
    )


@bp.post("/login")
async def login_submit() -> Response:
    await verify_csrf()
    svc = services()
    form = await request.form
    ticket = await load_ticket(form.get("ticket"))
    current = await current_login()
    if form.get("action") == "continue" and current is not None and ticket is not None:
        # prompt=select_account: the person picked the account already signed in.
        async with svc.db.session() as session:
            await PendingAuthorizations(session).record_login(ticket.pending.id, current[0].id)
        return redirect(resume_url(ticket.pending.id), 303)

    username = form.get("username", "")[:MAX_FIELD].strip()
    password = form.get("password", "")[:MAX_FIELD]
    if not username or not password:
        return await page(
            "login.html",
            status=400,
            username=username,
            error="Enter your username or email and your password.",
            current_user=None,
            **_context(ticket, form),
        )
    ip = request.remote_addr
    agent = request.headers.get("User-Agent")
    await limiter().check_login(ip, username)
    try:
        user = await verify_credentials(
            svc.db, username, password, lockout_policy(svc.settings), ip=ip, user_agent=agent
        )
    except InvalidCredentials as exc:
        return await page(
            "login.html",
            status=400,
            username=username,
            error=exc.message,
            current_user=None,
            **_context(ticket, form),
        )
    async with svc.db.session() as session:
        started = await start_session(
            session,
            user,
            svc.settings.session_ttl,
            amr=["pwd"],
            ip=ip,
            user_agent=request.headers.get("User-Agent"),
            replaces=current[0].id if current else None,
        )
        if ticket is not None:
            await PendingAuthorizations(session).record_login(ticket.pending.id, started.row.id)
        await record(
            session,
            "login.succeeded",
            actor_id=user.id,
            ip=ip,
            user_agent=agent,
            target=f"user:{user.id}",
            method="password",
        )
    back = local_path(form.get("next")) or "/"
    response = redirect(resume_url(ticket.pending.id) if ticket else back, 303)
    set_session_cookie(response, started.cookie)
    return response


# --- upstream providers: buttons, /authorize?idp=…, home-realm discovery ---------------


@bp.before_request
async def _federation_on_login() -> Response | None:
    """On /login only: list the enabled providers for the buttons
    (``g.login_providers``); a pending request's ``idp`` hint skips the page and goes
    straight upstream; an email whose domain a provider lists, sent without a password,
    goes to that provider (home-realm discovery)."""
    if request.path != "/login":
        return None
    from quart import g

    from portico.federation.providers import (
        enabled_providers,
        provider_for_email,
        public_view,
        start_url,
    )

    rows = await enabled_providers(services().db)
    g.login_providers = [public_view(r) for r in rows]
    g.login_sso_domains = any(r.email_domains for r in rows)
    if not rows:
        return None
    if request.method == "GET":
        ticket = await load_ticket(request.args.get("ticket"))
        idp = ticket.request.idp if ticket and request.args.get("select") != "1" else None
        if ticket and idp and any(r.slug == idp for r in rows):
            return redirect(start_url(idp, ticket=ticket.pending.id), 303)
        return None
    form = await request.form
    login = form.get("username", "")[:MAX_FIELD].strip()
    if form.get("action") == "continue" or form.get("password"):
        return None
    match = provider_for_email(rows, login)
    if match is None:
        return None
    await verify_csrf()
    ticket_id = form.get("ticket") or None
    return redirect(start_url(match.slug, ticket=ticket_id, login_hint=login,
                              return_to=None if ticket_id else local_path(form.get("next"))),
                    303)
