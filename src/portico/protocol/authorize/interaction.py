"""What the person must still do before a code can be issued.

This is the hand-over point between the protocol and the hosted pages: the
protocol parks the request (a ``PendingAuthorization`` row) and names a step;
the pages do the step, record it on the row, and send the browser back to
``/authorize/resume``. Nothing here knows what the pages look like.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from portico.protocol.authorize.request import AuthorizationRequest
from portico.protocol.errors import (
    AccountSelectionRequired,
    ConsentRequired,
    InteractionRequired,
    LoginRequired,
    OAuthError,
)
from portico.protocol.subjects import subject_for
from portico.storage.models import Client, PendingAuthorization, Session, User

LOGIN = "login"
SELECT_ACCOUNT = "select_account"
CONSENT = "consent"
# An admin reset the password: no code until the person has chosen a new one.
PASSWORD_CHANGE = "password_change"

_PROMPT_NONE_ERRORS: dict[str, type[OAuthError]] = {
    LOGIN: LoginRequired,
    SELECT_ACCOUNT: AccountSelectionRequired,
    CONSENT: ConsentRequired,
    PASSWORD_CHANGE: InteractionRequired,
}


@dataclass(frozen=True)
class Situation:
    """Who is signed in, and what was already done for this very request."""

    session: Session | None
    user: User | None
    pending: PendingAuthorization | None
    granted_scopes: set[str]
    now: datetime

    @property
    def logged_in_for_this_request(self) -> bool:
        return bool(
            self.pending and self.session and self.pending.login_session_id == self.session.id
        )


def needed_step(req: AuthorizationRequest, client: Client, s: Situation) -> str | None:
    """The next step (login, select_account, password_change, consent) or None when a
    code can be issued."""
    fresh = s.logged_in_for_this_request
    if s.session is None or s.user is None:
        return LOGIN
    if not fresh:
        if LOGIN in req.prompt:
            return LOGIN
        # OIDC Core §3.1.2.1: max_age=0 is "authenticate now", like prompt=login.
        if req.max_age is not None and s.now - s.session.auth_time > timedelta(seconds=req.max_age):
            return LOGIN
        # OIDC Core §8.1: a pairwise client's hint carries its own sub for the user.
        if req.id_token_hint_sub and req.id_token_hint_sub not in (
                s.user.id, subject_for(client, s.user.id)):
            return LOGIN
        if SELECT_ACCOUNT in req.prompt:
            return SELECT_ACCOUNT
    if s.user.must_change_password:
        return PASSWORD_CHANGE
    if client.first_party:
        return None
    if CONSENT in req.prompt and not (s.pending and s.pending.consented_at):
        return CONSENT
    if not set(req.scopes) <= s.granted_scopes and not (s.pending and s.pending.consented_at):
        return CONSENT
    return None


def prompt_none_error(step: str) -> OAuthError:
    """OIDC Core §3.1.2.6: with ``prompt=none`` a needed step becomes an error."""
    return _PROMPT_NONE_ERRORS[step]()
