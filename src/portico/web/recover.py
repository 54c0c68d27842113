"""/recover: reset a forgotten password with the account's recovery key.

The key alone identifies the account, so the form asks for no username, and a
wrong, used or replaced key all get the same answer. Attempts are rate-limited
per client address like every other guessable secret.
"""

from __future__ import annotations

from quart import Response, redirect, request

from portico.accounts.recovery import recover
from portico.errors import InvalidCredentials, PolicyViolation
from portico.http import services
from portico.http.rate_limit import limiter
from portico.web.account import MAX_FIELD, policy, policy_hint
from portico.web.blueprint import bp, page
from portico.web.csrf import verify_csrf
from portico.web.session_cookie import clear_session_cookie, forget_login

INVALID_KEY = "This recovery key is not valid. It may have been used or replaced already."


async def _form(status: int = 200, errors: dict[str, str] | None = None,
                problems: list[str] | None = None) -> Response:
    return await page("recover.html", status=status, errors=errors or {},
                      problems=problems or [], hint=policy_hint(policy()))


@bp.get("/recover")
async def recover_form() -> Response:
    return await _form()


@bp.post("/recover")
async def recover_submit() -> Response:
    await verify_csrf()
    form = await request.form
    key = form.get("recovery_key", "")[:MAX_FIELD].strip()
    new = form.get("new", "")[:MAX_FIELD]
    errors: dict[str, str] = {}
    if not key:
        errors["recovery_key"] = "Enter your recovery key."
    if not new:
        errors["new"] = "Enter a new password."
    elif new != form.get("repeat", "")[:MAX_FIELD]:
        errors["repeat"] = "The new passwords do not match."
    if errors:
        return await _form(400, errors)
    await limiter().hit("sensitive", request.remote_addr or "-")
    svc = services()
    try:
        await recover(svc.db, key, new, policy(), svc.settings.bcrypt_rounds,
                      ip=request.remote_addr)
    except PolicyViolation as exc:
        return await _form(400, problems=exc.problems)
    except InvalidCredentials:
        return await _form(400, {"recovery_key": INVALID_KEY})
    # Every session of the account is over, this browser's included if it had one.
    forget_login()
    response = redirect("/recover/done", 303)
    clear_session_cookie(response)
    return response


@bp.get("/recover/done")
async def recover_done() -> Response:
    return await page("recovered.html")
