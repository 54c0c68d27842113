"""Delivering a result to the client: query, fragment or form_post (OAuth 2.0
Multiple Response Types §2, Form Post Response Mode §2), always with RFC 9207 ``iss``."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

from portico.protocol.errors import OAuthError


@dataclass(frozen=True)
class RedirectTo:
    """Send the browser to ``location`` (302)."""

    location: str


@dataclass(frozen=True)
class FormPost:
    """Auto-submit ``params`` to ``action`` from an HTML page (rendered by the route)."""

    action: str
    params: list[tuple[str, str]]


Delivery = RedirectTo | FormPost


def deliver(redirect_uri: str, response_mode: str, params: list[tuple[str, str]]) -> Delivery:
    """Attach ``params`` to ``redirect_uri`` the way ``response_mode`` says."""
    if response_mode == "form_post":
        return FormPost(redirect_uri, params)
    parts = urlsplit(redirect_uri)
    encoded = urlencode(params)
    if response_mode == "fragment":
        return RedirectTo(urlunsplit(parts._replace(fragment=encoded)))
    query = f"{parts.query}&{encoded}" if parts.query else encoded
    return RedirectTo(urlunsplit(parts._replace(query=query)))


def success(
    redirect_uri: str, response_mode: str, code: str, state: str | None, issuer: str
) -> Delivery:
    """The authorization response (RFC 6749 §4.1.2 + RFC 9207)."""
    params = [("code", code)]
    if state is not None:
        params.append(("state", state))
    params.append(("iss", issuer))
    return deliver(redirect_uri, response_mode, params)


def error(
    redirect_uri: str, response_mode: str, err: OAuthError, state: str | None, issuer: str
) -> Delivery:
    """The error response (RFC 6749 §4.1.2.1 + RFC 9207)."""
    params = list(err.as_dict().items())
    if state is not None:
        params.append(("state", state))
    params.append(("iss", issuer))
    return deliver(redirect_uri, response_mode, params)
