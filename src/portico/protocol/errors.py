"""One error model for the protocol surfaces.

Each class is a registered ``error`` code. ``description`` is public (RFC 6749 §5.2
limits it to printable ASCII without ``"`` or ``\\``); ``detail`` is private: logged,
never rendered and never part of the repr. ``redirectable`` says whether the error
may travel back to a *validated* redirect URI; when it may not, the person sees an
error page instead (OAuth 2.0 §4.1.2.1).
"""

from __future__ import annotations

from typing import ClassVar

from portico.errors import PorticoError

_ALLOWED = {chr(c) for c in range(0x20, 0x7F)} - {'"', "\\"}


def _safe(text: str) -> str:
    return "".join(c if c in _ALLOWED else "?" for c in text)


class OAuthError(PorticoError):
    """Base of every protocol error."""

    error: ClassVar[str] = "server_error"
    status: ClassVar[int] = 400
    redirectable: ClassVar[bool] = True
    default_description: ClassVar[str] = "The request could not be processed."

    def __init__(self, description: str | None = None, *, detail: str | None = None) -> None:
        self.description = _safe(description or self.default_description)
        super().__init__(self.description, detail=detail)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.description!r})"

    def as_dict(self) -> dict[str, str]:
        """The JSON / query form of the error."""
        return {"error": self.error, "error_description": self.description}


class InvalidRequest(OAuthError):
    """RFC 6749 §4.1.2.1: "The request is missing a required parameter, includes an
    invalid parameter value, includes a parameter more than once, or is otherwise
    malformed." """

    error = "invalid_request"


class InvalidRequestPage(InvalidRequest):
    """An invalid request that must not be redirected: the client or its redirect URI
    cannot be trusted (unknown client, unregistered redirect_uri)."""

    redirectable = False


class InvalidClient(OAuthError):
    """RFC 6749 §5.2: "Client authentication failed." """

    error = "invalid_client"
    default_description = "Client authentication failed."
    status = 401


class InvalidGrant(OAuthError):
    """RFC 6749 §5.2: the grant "is invalid, expired, revoked, does not match the
    redirection URI used in the authorization request, or was issued to another client." """

    error = "invalid_grant"
    default_description = "The grant is invalid, expired or revoked."


class UnauthorizedClient(OAuthError):
    """RFC 6749 §4.1.2.1: "The client is not authorized to request an authorization
    code using this method." """

    error = "unauthorized_client"


class UnsupportedResponseType(OAuthError):
    """RFC 6749 §4.1.2.1: "The authorization server does not support obtaining an
    authorization code using this method." """

    error = "unsupported_response_type"


class UnsupportedGrantType(OAuthError):
    """RFC 6749 §5.2: "The authorization grant type is not supported." """

    error = "unsupported_grant_type"


class InvalidScope(OAuthError):
    """RFC 6749 §4.1.2.1: "The requested scope is invalid, unknown, or malformed." """

    error = "invalid_scope"


class AccessDenied(OAuthError):
    """RFC 6749 §4.1.2.1: "The resource owner or authorization server denied the request." """

    error = "access_denied"
    default_description = "The request was denied."


class ServerError(OAuthError):
    """RFC 6749 §4.1.2.1: an unexpected condition; the description is always generic."""

    error = "server_error"
    default_description = "The server could not complete the request."
    status = 500


class TemporarilyUnavailable(OAuthError):
    """RFC 6749 §4.1.2.1: the server is overloaded or under maintenance."""

    error = "temporarily_unavailable"
    default_description = "The server is temporarily unavailable."
    status = 503


class InteractionRequired(OAuthError):
    """OIDC Core §3.1.2.6: "The Authorization Server requires End-User interaction of
    some form to proceed." """

    error = "interaction_required"
    default_description = "The request needs the end user to interact with the server."


class LoginRequired(OAuthError):
    """OIDC Core §3.1.2.6: "The Authorization Server requires End-User authentication." """

    error = "login_required"
    default_description = "The end user must sign in."


class AccountSelectionRequired(OAuthError):
    """OIDC Core §3.1.2.6: "The End-User is REQUIRED to select a session at the
    Authorization Server." """

    error = "account_selection_required"
    default_description = "The end user must choose an account."


class ConsentRequired(OAuthError):
    """OIDC Core §3.1.2.6: "The Authorization Server requires End-User consent." """

    error = "consent_required"
    default_description = "The end user must consent to this request."


class InvalidRequestUri(OAuthError):
    """OIDC Core §3.1.2.6: "The request_uri in the Authorization Request returns an
    error or contains invalid data." """

    error = "invalid_request_uri"


class InvalidRequestObject(OAuthError):
    """OIDC Core §3.1.2.6: "The request parameter contains an invalid Request Object." """

    error = "invalid_request_object"


class InvalidToken(OAuthError):
    """RFC 6750 §3.1: "The access token provided is expired, revoked, malformed, or
    invalid for other reasons." """

    error = "invalid_token"
    default_description = "The access token is invalid."
    status = 401


class InsufficientScope(OAuthError):
    """RFC 6750 §3.1: "The request requires higher privileges than provided by the
    access token." """

    error = "insufficient_scope"
    status = 403


class UnsupportedTokenType(OAuthError):
    """RFC 7009 §2.2.1: "The authorization server does not support the revocation of
    the presented token type." """

    error = "unsupported_token_type"
