"""/account: the signed-in person's own profile, organization, password and sessions.

Every page needs a signed-in session (otherwise: to /login and back again), every
form is CSRF-checked and answers with a redirect (POST-redirect-GET), and the
outcome is named by a fixed ``done`` code in the query, never by echoed text.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode

from quart import Response, redirect, request

from portico.accounts.password_change import can_set_first_password, change_password
from portico.accounts.passwords import PasswordPolicy
from portico.accounts.profile import set_display_name
from portico.accounts.sessions import list_sessions
from portico.audit.recorder import record
from portico.errors import InvalidCredentials, NotFound, PolicyViolation, ValidationFailed
from portico.http import services
from portico.http.rate_limit import limiter
from portico.orgs.active import memberships, pick_active, switch_active_org
from portico.storage.models import Session, User
from portico.storage.repositories.sessions import Sessions
from portico.web.blueprint import bp, page
from portico.web.csrf import verify_csrf
from portico.web.session_cookie import clear_session_cookie, current_login, forget_login
from portico.web.useragent import describe_user_agent

MAX_FIELD = 1024
NOTICES = {
    "name": "Your display name was saved.",
    "password": "Your password was changed.",
    "session": "The session was signed out.",
    "key_revoked": "The API key was revoked. It stops working at once.",
    "org": "Your active organization was changed.",
}


def policy() -> PasswordPolicy:
    """The configured password rules."""
    s = services().settings
    return PasswordPolicy(s.password_min_length, s.password_require_classes)


def policy_hint(rules: PasswordPolicy) -> str:
    """The rules in one sentence, shown beside every new-password field."""
    text = f"At least {rules.min_length} characters"
    if rules.require_classes:
        text += ", with an upper-case letter, a lower-case letter and a digit"
    return text + "."


def to_login() -> Response:
    """Send a signed-out browser to sign in, and back here afterwards."""
    path = request.full_path.rstrip("?") if request.method == "GET" else request.path
    return redirect("/login?" + urlencode({"next": path}), 303)


async def signed_in() -> tuple[Session, User] | None:
    """The current login, for pages that require one."""
    return await current_login()


def notice() -> str | None:
    """The confirmation named by ``?done=`` after a form succeeded."""
    text = NOTICES.get(request.args.get("done", ""))
    if text and request.args.get("done") == "password":
        others = request.args.get("others", "0")
        count = int(others) if others.isdigit() else 0
        if count == 1:
            text += " 1 other session was signed out."
        elif count:
            text += f" {count} other sessions were signed out."
    return text


async def account_page(template: str, active: str, user: User, status: int = 200,
                       **context: object) -> Response:
    """Render one account page inside the shared layout and its navigation."""
    return await page(template, status=status, active=active, user=user, notice=notice(),
                      **context)


# --- profile ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OrgOption:
    """One of the person's organizations, as the switcher lists it."""

    id: str
    name: str
    role: str
    active: bool


async def org_options(login: Session) -> list[OrgOption]:
    """The person's organizations, oldest membership first, the active one marked."""
    async with services().db.session() as session:
        choices = await memberships(session, login.user_id)
    active = pick_active(choices, login.active_org_id)
    return [OrgOption(c.org.id, c.org.name, c.role, c is active) for c in choices]


async def profile_page(current: tuple[Session, User], name: str, errors: dict[str, str],
                       status: int = 200) -> Response:
    return await account_page("account/profile.html", "profile", current[1], status=status,
                              name=name, errors=errors,
                              organizations=await org_options(current[0]))


@bp.get("/account")
async def account_profile() -> Response:
    current = await signed_in()
    if current is None:
        return to_login()
    return await profile_page(current, current[1].name or "", {})


@bp.post("/account")
async def account_profile_submit() -> Response:
    await verify_csrf()
    current = await signed_in()
    if current is None:
        return to_login()
    user = current[1]
    name = (await request.form).get("name", "")[:MAX_FIELD]
    try:
        await set_display_name(services().db, user.id, name, ip=request.remote_addr)
    except ValidationFailed as exc:
        return await profile_page(current, name, exc.fields, status=400)
    return redirect("/account?done=name", 303)


@bp.post("/account/organization")
async def account_organization_submit() -> Response:
    """Switch the organization this browser session acts in; later sign-ins to
    applications carry it (tokens already issued keep theirs)."""
    await verify_csrf()
    current = await signed_in()
    if current is None:
        return to_login()
    login, user = current
    org_id = (await request.form).get("org_id", "")[:MAX_FIELD]
    async with services().db.session() as session:
        chosen = await switch_active_org(session, login, org_id)
        if chosen is None:
            # The same answer for an organization that does not exist.
            raise NotFound("You are not a member of this organization.")
        await record(session, "session.org_switched", actor_id=user.id, org_id=chosen.org.id,
                     target=f"session:{login.id}", ip=request.remote_addr)
    return redirect("/account?done=org", 303)


# --- password --------------------------------------------------------------------------


@dataclass
class PasswordForm:
    """What the password forms send; the forced change page uses it too."""

    current: str
    new: str
    repeat: str

    @classmethod
    async def read(cls) -> PasswordForm:
        form = await request.form
        return cls(*(form.get(k, "")[:MAX_FIELD] for k in ("current", "new", "repeat")))


async def apply_password_change(current: tuple[Session, User], sent: PasswordForm
                                ) -> tuple[int | None, dict[str, str], list[str]]:
    """Change the password; returns (other sessions signed out, field errors, policy
    problems). Errors and problems are empty exactly when the change happened."""
    session, user = current
    first = user.password_hash is None
    errors: dict[str, str] = {}
    if not sent.current and not first:
        errors["current"] = "Enter your current password."
    if not sent.new:
        errors["new"] = "Enter a new password."
    elif sent.new != sent.repeat:
        errors["repeat"] = "The new passwords do not match."
    if errors:
        return None, errors, []
    # Guessing the current password through this form is slowed like any sign-in.
    await limiter().hit("sensitive", "password-change", user.id)
    svc = services()
    try:
        revoked = await change_password(
            svc.db, user, sent.current, sent.new, policy(), svc.settings.bcrypt_rounds,
            keep_session_id=session.id, ip=request.remote_addr, auth_time=session.auth_time,
        )
    except InvalidCredentials as exc:
        return None, {"new" if first else "current": exc.message}, []
    except ValidationFailed:
        return None, {"new": "The new password must differ from the current one."}, []
    except PolicyViolation as exc:
        return None, {}, exc.problems
    return revoked, {}, []


@bp.get("/account/password")
async def account_password() -> Response:
    current = await signed_in()
    if current is None:
        return to_login()
    return await account_page("account/password.html", "password", current[1], errors={},
                              problems=[], hint=policy_hint(policy()),
                              may_set=can_set_first_password(current[1], current[0].auth_time))


@bp.post("/account/password")
async def account_password_submit() -> Response:
    await verify_csrf()
    current = await signed_in()
    if current is None:
        return to_login()
    revoked, errors, problems = await apply_password_change(current, await PasswordForm.read())
    if revoked is None:
        return await account_page(
            "account/password.html", "password", current[1], status=400, errors=errors,
            problems=problems, hint=policy_hint(policy()),
            may_set=can_set_first_password(current[1], current[0].auth_time))
    return redirect("/account/password?" + urlencode({"done": "password", "others": revoked}),
                    303)


# --- sessions --------------------------------------------------------------------------


@dataclass(frozen=True)
class SessionView:
    """One session as the list shows it."""

    row: Session
    device: str
    current: bool


@bp.get("/account/sessions")
async def account_sessions() -> Response:
    current = await signed_in()
    if current is None:
        return to_login()
    async with services().db.session() as session:
        rows = await list_sessions(session, current[1].id)
    views = [SessionView(r, describe_user_agent(r.user_agent), r.id == current[0].id)
             for r in rows]
    views.sort(key=lambda v: not v.current)  # this device first, then newest activity
    return await account_page("account/sessions.html", "sessions", current[1], sessions=views)


@bp.post("/account/sessions/revoke")
async def account_session_revoke() -> Response:
    await verify_csrf()
    current = await signed_in()
    if current is None:
        return to_login()
    session_id = (await request.form).get("session_id", "")[:64]
    user = current[1]
    async with services().db.session() as session:
        repo = Sessions(session)
        row = await repo.get(session_id) if session_id else None
        if row is None or row.user_id != user.id or not await repo.revoke(row.id):
            raise NotFound("This session does not exist or was already signed out.")
        await record(session, "session.revoked", actor_id=user.id, target=f"session:{row.id}",
                     ip=request.remote_addr, current=row.id == current[0].id)
    if session_id != current[0].id:
        return redirect("/account/sessions?done=session", 303)
    forget_login()
    response = redirect("/login", 303)
    clear_session_cookie(response)
    return response
