"""/logout and /end_session (RP-Initiated Logout 1.0).

With a valid ``id_token_hint`` for this browser's session, sign out at once and go to
the registered ``post_logout_redirect_uri``; otherwise ask first. Signing out gives
the clients of the session their back-channel notices (waited for briefly, so a client
has ended its own session before the browser comes back to it) and renders their
front-channel iframes; with iframes the browser continues once they have loaded, or
after ``frontchannel_logout_timeout`` seconds, with or without JavaScript.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets

from quart import Response, current_app, g, redirect, request

from portico.http import services
from portico.protocol.end_session import PARAMS, LogoutPlan, SignedOut, plan_logout, sign_out
from portico.protocol.logout.backchannel import Courier
from portico.protocol.logout.frontchannel import frame_sources
from portico.protocol.logout.worker import COURIER
from portico.web.blueprint import bp, page
from portico.web.csrf import verify_csrf
from portico.web.session_cookie import clear_session_cookie, current_login, forget_login


async def _sign_out() -> SignedOut:
    current = await current_login()
    if current is None:
        return SignedOut()
    svc = services()
    ended = await sign_out(svc.db, current[0], current[1], issuer=svc.settings.issuer,
                           ip=request.remote_addr)
    forget_login()
    courier: Courier | None = current_app.extensions.get(COURIER)
    if courier is not None and ended.notices and svc.settings.backchannel_logout_wait:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(svc.settings.backchannel_logout_wait):
                await courier.settle(ended.notices)
    return ended


async def _finish(plan: LogoutPlan | None) -> Response:
    ended = await _sign_out()
    location = plan.redirect_location() if plan else None
    if ended.frames:
        # Front-Channel Logout 1.0 §3: the iframes need this page, so no bare redirect.
        g.csp_nonce = secrets.token_urlsafe(16)
        g.csp_frame_src = frame_sources(ended.frames)
        wait = services().settings.frontchannel_logout_timeout
        response = await page("logged_out.html", frames=ended.frames, location=location,
                              wait=wait, nonce=g.csp_nonce)
        if location:
            # Without JavaScript the browser still moves on once the iframes had time.
            response.headers["Refresh"] = f"{wait};url={location}"
    elif location:
        response = redirect(location, 303 if request.method == "POST" else 302)
    else:
        response = await page("logged_out.html", frames=[], location=None)
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
    params = {k: source.get(k, "")[:8192] for k in PARAMS if source.get(k)}
    plan = await plan_logout(params, settings=svc.settings, db=svc.db, keys=await svc.keys.load())
    current = await current_login()
    confirmed = request.method == "POST" and (await request.form).get("confirm") == "yes"
    if confirmed:
        await verify_csrf()
    if confirmed or plan.belongs_to(current):
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
