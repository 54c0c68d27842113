"""``/api/v1/auth``: the first-party JSON auth API (SPEC §3) for the operator's own
scripts, CLIs and single-page apps.

Handlers stay thin: quart-schema parses and documents the body, one domain service
does the work, errors are domain exceptions that ``app.py`` renders as problem+json.
Sign-in yields the same artefacts an OIDC client gets (an RFC 9068 access token and a
rotating refresh token of the built-in ``portico`` client) and refreshing goes
through the ordinary refresh grant, so rotation and reuse detection are one code path.
Routes for sessions and API keys live in ``api.auth_credentials`` on this blueprint.
"""

from __future__ import annotations

from quart import Blueprint, Response, after_this_request, g, request
from quart_schema import (
    document_response,
    security_scheme,
    tag_blueprint,
    validate_request,
    validate_response,
)

from portico.accounts.password_change import change_password
from portico.accounts.passwords import PasswordPolicy
from portico.accounts.recovery import generate_recovery_key, recover
from portico.accounts.sessions import end_session, start_session
from portico.accounts.signin import verify_credentials
from portico.accounts.users import create_user
from portico.api.credentials import Principal, authenticated
from portico.api.problems import problem_response
from portico.api.schemas import (
    Caller,
    LoginOut,
    LoginRequest,
    MembershipOut,
    MeOut,
    NewAccount,
    PasswordChange,
    PasswordChanged,
    Problem,
    Recovered,
    RecoverRequest,
    RecoveryKeyOut,
    RefreshRequest,
    Registration,
    SessionOut,
    TokenOut,
    UserOut,
)
from portico.audit.recorder import record
from portico.errors import Forbidden, PorticoError, ValidationFailed
from portico.http import services
from portico.http.rate_limit import limiter, lockout_policy
from portico.orgs.invites import InviteUnavailable, accept_with_new_account
from portico.protocol.authlib_bridge import build_request
from portico.protocol.first_party import SYSTEM_CLIENT_ID, issue_session_tokens
from portico.storage.models import User
from portico.storage.repositories.users import Organizations
from portico.web.session_cookie import clear_session_cookie, set_session_cookie

bp = Blueprint("api_auth", __name__, url_prefix="/api/v1/auth")
tag_blueprint(bp, ["auth"])
# Routes that take a credential: a Bearer access token or API key, or the session cookie.
signed_in = security_scheme([{"bearer": []}, {"session": []}])


@bp.after_request
async def _no_store(response: Response) -> Response:
    """Answers here carry tokens, keys and personal data: never cache them."""
    response.headers["Cache-Control"] = "no-store"
    return response


def principal() -> Principal:
    """The caller resolved by ``authenticated``."""
    return g.principal  # type: ignore[no-any-return]


def client_ip() -> str | None:
    return request.remote_addr


def password_policy() -> PasswordPolicy:
    settings = services().settings
    return PasswordPolicy(settings.password_min_length, settings.password_require_classes)


async def _new_account(data: NewAccount, *, role: str, audit_action: str,
                       only_if_no_admin: bool = False) -> User:
    svc = services()
    return await create_user(
        svc.db, username=data.username, email=data.email, password=data.password,
        name=data.name, policy=password_policy(), role=role, rounds=svc.settings.bcrypt_rounds,
        audit_action=audit_action, ip=client_ip(), only_if_no_admin=only_if_no_admin)


# --- accounts ----------------------------------------------------------------------


@bp.post("/setup")
@validate_request(NewAccount)
@validate_response(UserOut, 201)
@document_response(Problem, 400)
@document_response(Problem, 409)
@document_response(Problem, 429)
async def setup(data: NewAccount) -> tuple[UserOut, int]:
    """Create the first administrator (owner of the default organization). Answers 409
    once any administrator exists, so it cannot be used to take over an instance."""
    await limiter().hit("sensitive", client_ip() or "-")
    user = await _new_account(data, role="admin", audit_action="setup.completed",
                              only_if_no_admin=True)
    return UserOut.of(user), 201


@bp.post("/register")
@validate_request(Registration)
@validate_response(UserOut, 201)
@document_response(Problem, 400)
@document_response(Problem, 403)
@document_response(Problem, 404)
@document_response(Problem, 409)
@document_response(Problem, 410)
@document_response(Problem, 429)
async def register(data: Registration) -> tuple[UserOut, int] | Response:
    """Create an account. With ``invite_token`` it registers through that invitation in
    any registration mode (an admin decided): the account gets the invited, verified
    email and joins the inviting organization; 404 for an unknown token, 410 for a used,
    cancelled or expired one. Without it, per ``PORTICO_REGISTRATION``: ``open`` makes a
    member of the default organization (``single`` tenancy) or, in ``multi``, a new
    organization named by ``organization`` that the person owns; ``invite`` and
    ``closed`` answer 403."""
    svc = services()
    await limiter().hit("sensitive", client_ip() or "-")
    if data.invite_token is not None:
        try:
            accepted = await accept_with_new_account(
                svc.db, data.invite_token, username=data.username, password=data.password,
                name=data.name, email=data.email, policy=password_policy(),
                rounds=svc.settings.bcrypt_rounds, ip=client_ip())
        except InviteUnavailable as exc:
            unknown = exc.state == "unknown"
            return problem_response(404 if unknown else 410,
                                    "Unknown invitation" if unknown else "Invitation unusable",
                                    exc.message, kind=f"invite-{exc.state}")
        return UserOut.of(accepted.user), 201
    policy = svc.settings.registration
    if policy == "closed":
        raise Forbidden("Registration is closed on this server.")
    if policy == "invite":
        raise Forbidden("Registration requires an invitation.")
    if data.email is None:
        raise ValidationFailed("email required", {"email": "Field required"})
    multi = svc.settings.tenancy == "multi"
    if multi and not (data.organization or "").strip():
        raise ValidationFailed("organization required",
                               {"organization": "the name of your new organization"})
    user = await create_user(
        svc.db, username=data.username, email=data.email, password=data.password,
        name=data.name, policy=password_policy(), role="member",
        new_org_name=data.organization if multi else None, rounds=svc.settings.bcrypt_rounds,
        audit_action="user.registered", ip=client_ip())
    return UserOut.of(user), 201


# --- signing in and out --------------------------------------------------------------


@bp.post("/login")
@validate_request(LoginRequest)
@validate_response(LoginOut)
@document_response(Problem, 400)
@document_response(Problem, 401)
@document_response(Problem, 429)
async def login(data: LoginRequest) -> LoginOut:
    """Sign in with a password: a new session (also set as the HttpOnly cookie) and an
    access + refresh token pair bound to it. Every failure is the same 401, whether the
    account is unknown, locked or the password wrong (the audit log says which)."""
    svc = services()
    ip, agent = client_ip(), request.headers.get("User-Agent")
    await limiter().check_login(ip, data.username)
    user = await verify_credentials(svc.db, data.username, data.password,
                                    lockout_policy(svc.settings), ip=ip, user_agent=agent)
    keys = await svc.keys.load()
    async with svc.db.session() as session:
        started = await start_session(session, user, svc.settings.session_ttl, amr=["pwd"],
                                      ip=ip, user_agent=agent, via="api")
        issued = await issue_session_tokens(session, svc.settings, keys, user, started.row)
        await record(session, "login.succeeded", actor_id=user.id, target=f"user:{user.id}",
                     ip=ip, user_agent=agent, method="password", via="api")

    @after_this_request
    async def _cookie(response: Response) -> Response:
        set_session_cookie(response, started.cookie)
        return response

    return LoginOut(**issued, session=SessionOut.of(started.row, started.row.id),
                    user=UserOut.of(user))


@bp.post("/refresh")
@validate_request(RefreshRequest)
@validate_response(TokenOut)
@document_response(Problem, 400)
@document_response(Problem, 429)
async def refresh(data: RefreshRequest) -> TokenOut | Response:
    """Rotate a refresh token through the OIDC refresh grant itself: the old token is
    spent, and presenting a spent one revokes its whole family (400 ``invalid-grant``)."""
    svc = services()
    ip = client_ip()
    await limiter().hit("token", ip or "-")
    oauth_request = build_request("POST", svc.settings.url("/token"), [
        ("grant_type", "refresh_token"), ("refresh_token", data.refresh_token),
        ("client_id", SYSTEM_CLIENT_ID)], headers={})
    result = await svc.bridge.handle("token", oauth_request, ip)
    if result.status != 200:
        error = str(result.body.get("error") or "invalid_grant")
        return problem_response(
            result.status, "The refresh token was refused",
            str(result.body.get("error_description") or "Sign in again."),
            kind=error.replace("_", "-"))
    return TokenOut.model_validate(result.body)


@bp.post("/logout")
@signed_in
@authenticated(allow_password_change=True)
@document_response(Problem, 400)
@document_response(Problem, 401)
async def logout() -> Response:
    """Sign out the calling session: the session row, the cookie and every API token
    issued for it (so its refresh token is dead too). An API key is not a session:
    revoke it with ``DELETE /api-keys/{id}``."""
    caller = principal()
    if caller.session is None:
        raise PorticoError("API keys are not signed out: revoke the key instead.")
    await end_session(services().db, caller.user.id, caller.session.id,
                      token_client_id=SYSTEM_CLIENT_ID, ip=client_ip())
    response = Response(status=204)
    clear_session_cookie(response)
    return response


@bp.get("/me")
@signed_in
@authenticated(allow_query=True, allow_password_change=True)
@validate_response(MeOut)
@document_response(Problem, 401)
async def me() -> MeOut:
    """The caller, their organizations and roles, and how they authenticated. Also
    accepts ``?token=<access token>`` or ``?api_key=<key>`` for clients that cannot
    set headers (WebSocket-style); it stays available while a password change is due,
    so a client can tell the person why everything else answers 403."""
    caller = principal()
    async with services().db.session() as session:
        memberships = await Organizations(session).memberships(caller.user.id)
    return MeOut(
        user=UserOut.of(caller.user),
        organizations=[MembershipOut.of(m, o) for m, o in memberships],
        auth=Caller(via=caller.via, read_only=caller.read_only,
                    session_id=caller.session.id if caller.session else None,
                    api_key_id=caller.api_key.id if caller.api_key else None))


# --- passwords -------------------------------------------------------------------------


@bp.post("/password")
@signed_in
@authenticated(write=True, allow_password_change=True)
@validate_request(PasswordChange)
@validate_response(PasswordChanged)
@document_response(Problem, 400)
@document_response(Problem, 401)
@document_response(Problem, 403)
async def password(data: PasswordChange) -> PasswordChanged:
    """Change one's own password (the current one proves it is the person, 401 when
    wrong). Every other session, and the tokens issued for them, is signed out; the
    calling session stays. This is the one thing a forced password change allows."""
    caller = principal()
    svc = services()
    revoked = await change_password(
        svc.db, caller.user, data.current_password, data.new_password, password_policy(),
        svc.settings.bcrypt_rounds, keep_session_id=caller.session.id if caller.session else None,
        ip=client_ip())
    return PasswordChanged(other_sessions_revoked=revoked)


@bp.post("/recovery-key")
@signed_in
@authenticated(write=True)
@validate_response(RecoveryKeyOut, 201)
@document_response(Problem, 401)
@document_response(Problem, 403)
async def recovery_key() -> tuple[RecoveryKeyOut, int]:
    """Generate a recovery key, shown this once and stored hashed; it replaces any
    earlier one. Keep it offline: it resets the password without the old one."""
    secret = await generate_recovery_key(services().db, principal().user, ip=client_ip())
    return RecoveryKeyOut(recovery_key=secret), 201


@bp.post("/recover")
@validate_request(RecoverRequest)
@validate_response(Recovered)
@document_response(Problem, 400)
@document_response(Problem, 401)
@document_response(Problem, 429)
async def recover_password(data: RecoverRequest) -> Recovered:
    """Reset a forgotten password with a recovery key. The key works once (even when
    sent twice at the same moment), lifts a lockout and signs out every session."""
    svc = services()
    await limiter().hit("sensitive", client_ip() or "-")
    await recover(svc.db, data.recovery_key.strip(), data.new_password, password_policy(),
                  svc.settings.bcrypt_rounds, ip=client_ip())
    return Recovered(password_reset=True)
