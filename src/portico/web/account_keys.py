"""/account/api-keys and /account/recovery-key: credentials shown exactly once.

A new secret exists only in the response to the POST that made it: it is never
stored in plaintext, so there is nothing to redirect to. That one response is
``no-store``; every other form here is POST-redirect-GET.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from quart import Response, redirect, request

from portico.accounts.api_keys import ACCESS_LEVELS, create_api_key, list_api_keys, revoke_api_key
from portico.accounts.passwords import verify_password
from portico.accounts.recovery import generate_recovery_key, live_recovery_key_created_at
from portico.errors import ValidationFailed
from portico.http import services
from portico.http.rate_limit import limiter
from portico.storage.models import User
from portico.web.account import MAX_FIELD, account_page, signed_in, to_login
from portico.web.blueprint import bp
from portico.web.csrf import verify_csrf

ACCESS_TEXT = {"read": "Read only", "read_write": "Read and write"}


def parse_expiry(value: str) -> datetime | None:
    """A ``YYYY-MM-DD`` date from the form: the key works until the end of that day (UTC)."""
    value = value.strip()
    if not value:
        return None
    try:
        return datetime.combine(date.fromisoformat(value), datetime.min.time(), UTC) + timedelta(
            days=1
        )
    except (ValueError, OverflowError):
        raise ValidationFailed("invalid date", {"expires_at": "a date like 2030-12-31"}) from None


async def _keys_page(user: User, status: int = 200, **context: object) -> Response:
    keys = await list_api_keys(services().db, user.id)
    context.setdefault("values", {"access": "read"})
    context.setdefault("errors", {})
    return await account_page("account/api_keys.html", "api_keys", user, status=status, keys=keys,
                              access_text=ACCESS_TEXT, today=date.today().isoformat(), **context)


@bp.get("/account/api-keys")
async def account_api_keys() -> Response:
    current = await signed_in()
    if current is None:
        return to_login()
    return await _keys_page(current[1])


@bp.post("/account/api-keys")
async def account_api_key_create() -> Response:
    await verify_csrf()
    current = await signed_in()
    if current is None:
        return to_login()
    user = current[1]
    form = await request.form
    values = {k: form.get(k, "")[:MAX_FIELD] for k in ("name", "access", "expires_at")}
    if values["access"] not in ACCESS_LEVELS:
        values["access"] = "read"
    try:
        if not values["name"].strip():
            raise ValidationFailed("invalid API key", {"name": "Give the key a name."})
        created = await create_api_key(services().db, user, values["name"], values["access"],
                                       parse_expiry(values["expires_at"]), ip=request.remote_addr)
    except ValidationFailed as exc:
        errors = dict(exc.fields)
        if errors.get("name") == "1 to 100 characters":
            errors["name"] = "The name must be 1 to 100 characters long."
        if errors.get("expires_at") == "must be in the future":
            errors["expires_at"] = "The expiry date must be today or later."
        return await _keys_page(user, status=400, values=values, errors=errors)
    return await account_page("account/api_key_created.html", "api_keys", user,
                              key=created.row, secret=created.secret, access_text=ACCESS_TEXT)


@bp.post("/account/api-keys/revoke")
async def account_api_key_revoke() -> Response:
    await verify_csrf()
    current = await signed_in()
    if current is None:
        return to_login()
    key_id = (await request.form).get("key_id", "")[:64]
    await revoke_api_key(services().db, current[1].id, key_id, ip=request.remote_addr)
    return redirect("/account/api-keys?done=key_revoked", 303)


# --- recovery key ----------------------------------------------------------------------


async def _recovery_page(user: User, status: int = 200, error: str | None = None) -> Response:
    made = await live_recovery_key_created_at(services().db, user.id)
    return await account_page("account/recovery_key.html", "recovery", user, status=status,
                              made=made, error=error)


@bp.get("/account/recovery-key")
async def account_recovery_key() -> Response:
    current = await signed_in()
    if current is None:
        return to_login()
    return await _recovery_page(current[1])


@bp.post("/account/recovery-key")
async def account_recovery_key_generate() -> Response:
    """A recovery key resets the password, so making one asks for the password: a
    borrowed or stolen session must not be able to mint a way to take the account."""
    await verify_csrf()
    current = await signed_in()
    if current is None:
        return to_login()
    user = current[1]
    password = (await request.form).get("password", "")[:MAX_FIELD]
    if not password:
        return await _recovery_page(user, 400, "Enter your password.")
    await limiter().hit("sensitive", "recovery-key", user.id)
    svc = services()
    if not await verify_password(password, user.password_hash, svc.settings.bcrypt_rounds):
        return await _recovery_page(user, 400, "The password is incorrect.")
    secret = await generate_recovery_key(svc.db, user, ip=request.remote_addr)
    return await account_page("account/recovery_key_created.html", "recovery", user,
                              secret=secret)
