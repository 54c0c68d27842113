"""/register: self-service sign-up, per ``PORTICO_REGISTRATION``.

``open`` shows a form (in ``multi`` tenancy it also asks for the name of the new
organization the person will own; in ``single`` they join the default organization as a
member); ``invite`` explains that accounts come by invitation; ``closed`` answers a
friendly 403. The invite page reuses the form reading and the sign-in at the end.
"""

from __future__ import annotations

from dataclasses import dataclass

from quart import Response, redirect, request

from portico.accounts.sessions import start_session
from portico.accounts.users import create_user
from portico.errors import Conflict, PolicyViolation, ValidationFailed
from portico.http import services
from portico.http.rate_limit import limiter
from portico.storage.models import User
from portico.web.account import policy, policy_hint
from portico.web.blueprint import bp, page
from portico.web.csrf import verify_csrf
from portico.web.session_cookie import current_login, forget_login, set_session_cookie

MAX_FIELD = 1024
TEXT_FIELDS = ("username", "email", "name", "organization")


@dataclass(frozen=True)
class AccountForm:
    """What a new-account form sent; passwords are never echoed back into the page."""

    values: dict[str, str]
    password: str
    confirm: str

    @classmethod
    async def read(cls) -> AccountForm:
        form = await request.form
        values = {k: form.get(k, "")[:MAX_FIELD] for k in TEXT_FIELDS}
        return cls(values, form.get("password", "")[:MAX_FIELD],
                   form.get("password_confirm", "")[:MAX_FIELD])

    def mismatch(self) -> dict[str, str]:
        """Field errors found before any service is asked (missing or unequal passwords)."""
        errors: dict[str, str] = {}
        if len(self.values.get("name", "").strip()) > 200:
            errors["name"] = "The display name can have at most 200 characters."
        if not self.password:
            errors["password"] = "Choose a password."
        elif self.password != self.confirm:
            errors["password_confirm"] = "The passwords do not match."
        return errors

    def __repr__(self) -> str:
        return f"AccountForm(username={self.values.get('username')!r})"


def form_context(values: dict[str, str], errors: dict[str, str] | None = None,
                 problems: list[str] | None = None) -> dict[str, object]:
    """What the account fields macro needs."""
    return {"values": values, "errors": errors or {}, "problems": problems or [],
            "hint": policy_hint(policy())}


async def welcome(user: User) -> Response:
    """Sign the new person in (a fresh session) and show them their account."""
    svc = services()
    current = await current_login()
    async with svc.db.session() as session:
        started = await start_session(
            session, user, svc.settings.session_ttl, amr=["pwd"], ip=request.remote_addr,
            user_agent=request.headers.get("User-Agent"),
            replaces=current[0].id if current else None)
    forget_login()
    response = redirect("/account", 303)
    set_session_cookie(response, started.cookie)
    return response


async def _closed() -> Response:
    return await page("error.html", status=403, title="Registration is closed",
                      message="This server does not accept new accounts. "
                              "Ask an administrator to create one for you.")


async def _form(status: int = 200, **context: object) -> Response:
    multi = services().settings.tenancy == "multi"
    return await page("register.html", status=status, mode="open", organization=multi,
                      **context)


@bp.get("/register")
async def register_form() -> Response:
    mode = services().settings.registration
    if mode == "closed":
        return await _closed()
    if mode == "invite":
        return await page("register.html", mode="invite")
    return await _form(**form_context({}))


@bp.post("/register")
async def register_submit() -> Response:
    await verify_csrf()
    svc = services()
    mode = svc.settings.registration
    if mode == "closed":
        return await _closed()
    if mode == "invite":
        return await page("register.html", status=403, mode="invite")
    # Each attempt costs a bcrypt hash: capped per IP like every sensitive form.
    await limiter().hit("sensitive", request.remote_addr or "-")
    sent = await AccountForm.read()
    multi = svc.settings.tenancy == "multi"
    errors = sent.mismatch()
    if multi and not sent.values["organization"].strip():
        errors["organization"] = "Name your organization."
    if errors:
        return await _form(400, **form_context(sent.values, errors))
    try:
        user = await create_user(
            svc.db, username=sent.values["username"], email=sent.values["email"],
            password=sent.password, name=sent.values["name"], policy=policy(),
            role="member", new_org_name=sent.values["organization"] if multi else None,
            rounds=svc.settings.bcrypt_rounds, audit_action="user.registered",
            ip=request.remote_addr)
    except ValidationFailed as exc:
        return await _form(400, **form_context(sent.values, form_errors(exc.fields, multi)))
    except PolicyViolation as exc:
        return await _form(400, **form_context(sent.values, problems=exc.problems))
    except Conflict as exc:
        return await _form(409, **form_context(
            sent.values, form_errors(exc.fields, multi) or {"username": exc.message}))
    return await welcome(user)


def form_errors(fields: dict[str, str], new_org: bool = False) -> dict[str, str]:
    """Domain field errors keyed and phrased for the form: with a new organization,
    its ``name`` and ``slug`` errors belong to the organization field."""
    renamed = {"name": "organization", "slug": "organization"} if new_org else {}
    labels = {"username": "Username", "email": "Email", "name": "Display name",
              "organization": "Organization name", "password": "Password"}
    out: dict[str, str] = {}
    for key, text in fields.items():
        field = renamed.get(key, key)
        label = labels.get(field, field.capitalize())
        out[field] = f"{label}: {text}" if text[:1].islower() else text
    return out
