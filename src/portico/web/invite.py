"""/invite/<token>: the page an invitation link opens.

A usable invite offers, depending on who looks: a registration form (a new person),
an "Accept" button (someone signed in with the invited address), a way to sign in
(an account with that address exists), or an explanation (signed in as someone
else). An expired, used or cancelled invite gets a friendly 410 page, an unknown
link a 404 one. The domain (``orgs.invites``) decides everything; this module only
renders, and never writes the token anywhere but the form's own address.
"""

from __future__ import annotations

from urllib.parse import urlencode

from quart import Response, redirect, request

from portico.errors import Conflict, Forbidden, PolicyViolation, ValidationFailed
from portico.http import services
from portico.http.rate_limit import limiter
from portico.orgs.invites import (
    InviteUnavailable,
    Preview,
    accept_as_user,
    accept_with_new_account,
    preview,
)
from portico.web.account import policy
from portico.web.blueprint import bp, page
from portico.web.csrf import verify_csrf
from portico.web.register import AccountForm, form_context, form_errors, welcome
from portico.web.session_cookie import current_login

TITLES = {
    "expired": "This invitation has expired",
    "accepted": "This invitation was already used",
    "cancelled": "This invitation was cancelled",
    "unknown": "Invitation not found",
}


async def _gone(state: str) -> Response:
    current = await current_login()
    return await page("invite_gone.html", status=404 if state == "unknown" else 410,
                      title=TITLES[state], message=InviteUnavailable(state).message,
                      user=current[1] if current else None)


async def _show(token: str, invite: Preview, status: int = 200, *,
                values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                problems: list[str] | None = None, refusal: str | None = None) -> Response:
    current = await current_login()
    return await page("invite.html", status=status, token=token, invite=invite,
                      user=current[1] if current else None, refusal=refusal,
                      **form_context(values or {}, errors, problems))


@bp.get("/invite/<token>")
async def invite_page(token: str) -> Response:
    try:
        invite = await preview(services().db, token)
    except InviteUnavailable as exc:
        return await _gone(exc.state)
    if invite.status != "pending":
        return await _gone(invite.status)
    return await _show(token, invite)


@bp.post("/invite/<token>")
async def invite_submit(token: str) -> Response:
    await verify_csrf()
    svc = services()
    # Registering costs a bcrypt hash: capped per IP like every sensitive form.
    await limiter().hit("sensitive", request.remote_addr or "-")
    try:
        invite = await preview(svc.db, token)
        if invite.status != "pending":
            raise InviteUnavailable(invite.status)
        if (await request.form).get("action") == "accept":
            return await _accept(token, invite)
        return await _register(token, invite)
    except InviteUnavailable as exc:
        return await _gone(exc.state)


async def _accept(token: str, invite: Preview) -> Response:
    """A signed-in person joins with the account they have."""
    current = await current_login()
    if current is None:
        return redirect("/login?" + urlencode({"next": f"/invite/{token}"}), 303)
    try:
        await accept_as_user(services().db, token, current[1], ip=request.remote_addr)
    except (Forbidden, Conflict) as exc:
        return await _show(token, invite, 403 if isinstance(exc, Forbidden) else 409,
                           refusal=exc.message)
    return redirect("/account", 303)


async def _register(token: str, invite: Preview) -> Response:
    """A new person creates their account through the invite, then is signed in."""
    svc = services()
    sent = await AccountForm.read()
    values = {k: sent.values[k] for k in ("username", "name")}
    errors = sent.mismatch()
    if errors:
        return await _show(token, invite, 400, values=values, errors=errors)
    try:
        accepted = await accept_with_new_account(
            svc.db, token, username=sent.values["username"], password=sent.password,
            name=sent.values["name"], policy=policy(), rounds=svc.settings.bcrypt_rounds,
            ip=request.remote_addr)
    except ValidationFailed as exc:
        return await _show(token, invite, 400, values=values, errors=form_errors(exc.fields))
    except PolicyViolation as exc:
        return await _show(token, invite, 400, values=values, problems=exc.problems)
    except Conflict as exc:
        errors = form_errors(exc.fields) or {"username": exc.message}
        if "email" in errors:  # someone registered this address meanwhile
            errors = {"username": "An account with the invited address already exists: "
                                  "sign in to accept instead."}
        return await _show(token, invite, 409, values=values, errors=errors)
    return await welcome(accepted.user)
