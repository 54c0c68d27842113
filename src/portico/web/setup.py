"""/setup: create the first administrator, only while none exists (SPEC: first admin)."""

from __future__ import annotations

from quart import Response, redirect, request

from portico.accounts.passwords import PasswordPolicy
from portico.accounts.sessions import start_session
from portico.accounts.users import create_user
from portico.errors import Conflict, PolicyViolation, ValidationFailed
from portico.http import services
from portico.http.rate_limit import limiter
from portico.storage.repositories.users import Users
from portico.web.blueprint import bp, page
from portico.web.csrf import verify_csrf
from portico.web.session_cookie import set_session_cookie


async def _admin_exists() -> bool:
    async with services().db.session() as session:
        return await Users(session).admin_exists()


def _policy() -> PasswordPolicy:
    s = services().settings
    return PasswordPolicy(s.password_min_length, s.password_require_classes)


@bp.get("/setup")
async def setup_form() -> Response:
    if await _admin_exists():
        return await page(
            "error.html",
            status=409,
            title="Already set up",
            message="An administrator already exists. Sign in instead.",
        )
    return await page("setup.html", values={}, errors={}, problems=[])


@bp.post("/setup")
async def setup_submit() -> Response:
    await verify_csrf()
    # Each attempt costs a bcrypt hash; cap them per IP like other sensitive forms.
    await limiter().hit("sensitive", request.remote_addr or "-")
    svc = services()
    form = await request.form
    values = {k: form.get(k, "")[:1024] for k in ("username", "email")}
    password = form.get("password", "")[:2048]
    errors: dict[str, str] = {}
    if password != form.get("password_confirm", ""):
        errors["password_confirm"] = "The passwords do not match."
    try:
        if errors:
            raise ValidationFailed("invalid input", errors)
        user = await create_user(
            svc.db,
            username=values["username"],
            email=values["email"],
            password=password,
            policy=_policy(),
            role="admin",
            rounds=svc.settings.bcrypt_rounds,
            audit_action="setup.completed",
            ip=request.remote_addr,
            only_if_no_admin=True,
        )
    except ValidationFailed as exc:
        return await page("setup.html", status=400, values=values, errors=exc.fields, problems=[])
    except PolicyViolation as exc:
        return await page("setup.html", status=400, values=values, errors={}, problems=exc.problems)
    except Conflict as exc:
        if await _admin_exists():
            return await page(
                "error.html",
                status=409,
                title="Already set up",
                message="An administrator already exists. Sign in instead.",
            )
        return await page(
            "setup.html",
            status=409,
            values=values,
            errors=exc.fields or {"username": exc.message},
            problems=[],
        )
    async with svc.db.session() as session:
        started = await start_session(
            session,
            user,
            svc.settings.session_ttl,
            amr=["pwd"],
            ip=request.remote_addr,
            user_agent=request.headers.get("User-Agent"),
        )
    response = redirect("/", 303)
    set_session_cookie(response, started.cookie)
    return response
