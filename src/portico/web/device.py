"""/device: where a person enters the code a device shows, and approves or denies it
(RFC 8628 §3.3). The protocol side lives in ``portico.protocol.device.verification``.

Signing in comes first (the login page returns here through ``next``, a local path
only), so only people with an account can try codes at all, and wrong codes are
counted per account and per IP (§5.1): once either budget is spent, no code is looked
up, right or wrong, until the window passes. A code from ``verification_uri_complete``
only fills the form in: the page always names the application and what it asks for,
and waits for an explicit decision (§5.4).
"""

from __future__ import annotations

import time
from urllib.parse import urlencode

from quart import Response, redirect, request

from portico.accounts.noop import is_noop
from portico.accounts.noop import sign_in as noop_sign_in
from portico.errors import RateLimited
from portico.http import metrics, services
from portico.http.rate_limit import limiter
from portico.protocol.device.verification import (
    EXPIRED,
    MALFORMED,
    NOT_A_MEMBER,
    USED,
    CodeRefused,
    DeviceRequest,
    decide,
    find_request,
)
from portico.storage.models import Session, User
from portico.web.account import to_login
from portico.web.blueprint import bp, page
from portico.web.consent import SCOPE_TEXT
from portico.web.csrf import verify_csrf
from portico.web.session_cookie import current_login

REFUSALS = {
    MALFORMED: "Enter the 8-letter code shown on your device, such as BCDF-GHJK.",
    EXPIRED: "That code has expired. Start again on your device to get a new code.",
    USED: "That code was already used. Start again on your device to get a new code.",
    NOT_A_MEMBER: "Choose one of your organizations.",
}
UNKNOWN_TEXT = "That code is not valid. Check the code shown on your device and try again."
GONE_TEXT = ("That request was already answered or has expired. "
             "Start again on your device to get a new code.")
OUTCOMES = {"approved", "denied"}
# Wrong codes are counted under these rate-limit rules: per account, and per client IP.
GUESS_RULES = (("account", "user"), ("login", "ip"))


def _guess_keys(user: User) -> list[tuple[str, str, str]]:
    return [
        (rule, "device-code", user.id if kind == "user" else (request.remote_addr or "-"))
        for rule, kind in GUESS_RULES
    ]


async def _refuse_if_guessing(user: User) -> None:
    """§5.1: stop looking codes up for someone who got too many wrong."""
    lim = limiter()
    for rule, *keys in _guess_keys(user):
        if not await lim.strategy.test(lim.rules[rule], rule, *keys):
            metrics.rate_limited(rule)
            stats = await lim.strategy.get_window_stats(lim.rules[rule], rule, *keys)
            raise RateLimited(int(stats.reset_time - time.time()) + 1)


async def _count_wrong_code(user: User) -> None:
    lim = limiter()
    for rule, *keys in _guess_keys(user):
        await lim.strategy.hit(lim.rules[rule], rule, *keys)


async def _person() -> tuple[Session, User] | None:
    """Who is deciding: the signed-in person, or in noop mode the dev user (nobody signs
    in there, exactly as at /authorize)."""
    current = await current_login()
    if current is None and is_noop(services().settings):
        async with services().db.session() as session:
            current = await noop_sign_in(session, services().settings)
    return current


async def _lookup(raw: str | None, login: Session, user: User) -> DeviceRequest:
    await _refuse_if_guessing(user)
    try:
        return await find_request(services().db, raw, login)
    except CodeRefused as refused:
        # Only well-formed codes can be guesses; a typo in the format costs nothing.
        if refused.reason != MALFORMED:
            await _count_wrong_code(user)
        raise


async def _entry(user: User, code: str = "", error: str | None = None,
                 status: int = 200) -> Response:
    return await page("device.html", status=status, user=user, code=code, error=error)


def _confirm_context(req: DeviceRequest, user: User) -> dict[str, object]:
    return {
        "ask": req,
        "user": user,
        "scopes": [(s, SCOPE_TEXT.get(s, s)) for s in req.scopes],
        "organizations": [
            {"id": a.org.id, "name": a.org.name, "role": a.role,
             "active": a.org.id == req.active_org_id}
            for a in req.organizations
        ],
    }


@bp.get("/device")
async def device_form() -> Response:
    current = await _person()
    if current is None:
        return to_login()
    login, user = current
    done = request.args.get("done")
    if done in OUTCOMES:
        return await page("device_done.html", approved=done == "approved", user=user)
    raw = request.args.get("user_code")
    if raw is None:
        return await _entry(user)
    try:
        found = await _lookup(raw, login, user)
    except CodeRefused as refused:
        return await _entry(user, raw[:64], REFUSALS.get(refused.reason, UNKNOWN_TEXT), 400)
    return await page("device_confirm.html", **_confirm_context(found, user))


@bp.post("/device")
async def device_submit() -> Response:
    await verify_csrf()
    current = await _person()
    if current is None:
        return to_login()
    login, user = current
    form = await request.form
    raw = form.get("user_code", "")
    decision = form.get("decision")
    if decision not in ("approve", "deny"):
        return await _entry(user, raw[:64], "Choose Allow or Deny.", 400)
    try:
        found = await _lookup(raw, login, user)
    except CodeRefused as refused:
        return await _entry(user, raw[:64], REFUSALS.get(refused.reason, GONE_TEXT), 400)
    try:
        decided = await decide(
            services().db, found, login, user,
            approve=decision == "approve",
            org_ref=form.get("org_id") or None,
            ip=request.remote_addr,
        )
    except CodeRefused as refused:
        context = _confirm_context(found, user)
        return await page("device_confirm.html", status=400,
                          error=REFUSALS.get(refused.reason, GONE_TEXT), **context)
    if not decided:
        return await _entry(user, "", GONE_TEXT, 409)
    outcome = "approved" if decision == "approve" else "denied"
    return redirect("/device?" + urlencode({"done": outcome}), 303)
