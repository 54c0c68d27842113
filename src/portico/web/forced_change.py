"""After an admin reset: nothing but choosing a new password works.

A check before every hosted page sends a person whose password must change to
``/account/password/change-required``; only that page, signing out and password
recovery stay reachable. ``/authorize`` reaches the same page through the
``password_change`` interaction step, so no code is issued meanwhile.
"""

from __future__ import annotations

from urllib.parse import urlencode

from quart import Response, redirect, request

from portico.errors import NotFound
from portico.web.account import PasswordForm, apply_password_change, policy, policy_hint
from portico.web.blueprint import bp, local_path, page
from portico.web.csrf import verify_csrf
from portico.web.interaction import load_ticket, resume_url
from portico.web.session_cookie import current_login

CHANGE_PATH = "/account/password/change-required"
ALLOWED = frozenset({
    "web.forced_change_form", "web.forced_change_submit",
    "web.logout_form", "web.logout_submit", "web.end_session",
    "web.recover_form", "web.recover_submit", "web.recover_done",
})


@bp.before_request
async def require_password_change() -> Response | None:
    """Divert every other page while the signed-in person must change their password."""
    if request.endpoint in ALLOWED:
        return None
    current = await current_login()
    if current is None or not current[1].must_change_password:
        return None
    query = {}
    if request.method == "GET" and (back := local_path(request.full_path.rstrip("?"))):
        query["next"] = back
    return redirect(CHANGE_PATH + ("?" + urlencode(query) if query else ""), 303)


async def _continue_to(ticket: str | None, next_path: str | None) -> str:
    """Back to the parked authorization request, or the page that was asked for."""
    try:
        if ticket and await load_ticket(ticket):
            return resume_url(ticket)
    except NotFound:
        pass  # the request expired meanwhile: the password change itself still counts
    return local_path(next_path) or "/"


async def _form(status: int = 200, errors: dict[str, str] | None = None,
                problems: list[str] | None = None) -> Response:
    source = await request.form if request.method == "POST" else request.args
    return await page(
        "password_change_required.html", status=status, errors=errors or {},
        problems=problems or [], hint=policy_hint(policy()),
        ticket=source.get("ticket", "")[:200], next=local_path(source.get("next")) or "",
    )


@bp.get(CHANGE_PATH)
async def forced_change_form() -> Response:
    current = await current_login()
    if current is None:
        return redirect("/login?" + urlencode({"next": CHANGE_PATH}), 303)
    if not current[1].must_change_password:
        return redirect(await _continue_to(request.args.get("ticket"), request.args.get("next")),
                        303)
    return await _form()


@bp.post(CHANGE_PATH)
async def forced_change_submit() -> Response:
    await verify_csrf()
    current = await current_login()
    if current is None:
        return redirect("/login?" + urlencode({"next": CHANGE_PATH}), 303)
    form = await request.form
    if current[1].must_change_password:
        revoked, errors, problems = await apply_password_change(current, await PasswordForm.read())
        if revoked is None:
            return await _form(400, errors, problems)
    return redirect(await _continue_to(form.get("ticket"), form.get("next")), 303)
