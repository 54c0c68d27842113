"""/logout and /end_session (RP-Initiated Logout 1.0).

With a valid ``id_token_hint`` for the signed-in person, sign out at once and go
to the registered ``post_logout_redirect_uri``; otherwise ask first.
"""

from __future__ import annotations

from quart import Response, redirect, request

from portico.audit.recorder import record
from portico.http import services
from portico.protocol.end_session import LogoutPlan, plan_logout
from portico.storage.repositories.sessions import Sessions
from portico.web.blueprint import bp, page
from portico.web.csrf import verify_csrf
from portico.web.session_cookie import clear_session_cookie, current_login

CARRIED = ("post_logout_redirect_uri", "state", "client_id", "id_token_hint", "ui_locales")


async def _sign_out() -> None:
    current = await current_login()
    if current is None:
        return
    async with services().db.session() as session:
        await Sessions(session).revoke(current[0].id)
        await record(
            session,
            "logout",
            actor_id=current[1].id,
            ip=request.remote_addr,
            target=f"session:{current[0].id}",
        )


async def _finish(plan: LogoutPlan | None) -> Response:
    await _sign_out()
    location = plan.redirect_location() if plan else None
    if location:
        response = redirect(location, 303 if request.method == "POST" else 302)
    else:
        response = await page("logged_out.html")
    clear_session_cookie(response)
    return response


@bp.get("/logout")
async def logout_form() -> Response:
    current = await current_login()
    return await page(
        "logout.html",
        user=current[1] if current else None,
        params={},
        client_name=None,
        action="/logout",
    )


@bp.post("/logout")
async def logout_submit() -> Response:
    await verify_csrf()
    return await _finish(None)


@bp.route("/end_session", methods=["GET", "POST"])
async def end_session() -> Response:
    svc = services()
    source = await request.form if request.method == "POST" else request.args
    params = {k: source.get(k, "")[:8192] for k in CARRIED if source.get(k)}
    plan = await plan_logout(params, settings=svc.settings, db=svc.db, keys=await svc.keys.load())
    current = await current_login()
    confirmed = request.method == "POST" and (await request.form).get("confirm") == "yes"
    if confirmed:
        await verify_csrf()
    same_person = plan.hint_subject is not None and (
        current is None or current[1].id == plan.hint_subject
    )
    if confirmed or same_person:
        return await _finish(plan)
    if current is None and plan.redirect_uri is None:
        return await _finish(None)
    return await page(
        "logout.html",
        user=current[1] if current else None,
        params=params,
        client_name=plan.client.name if plan.client else None,
        action="/end_session",
    )
