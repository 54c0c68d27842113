"""RFC 9457 problem details: the one place API errors are rendered.

Domain errors carry no status codes; this module maps each to its status and a
body with ``type``, ``title``, ``status``, ``detail`` and, for input problems,
``errors`` naming each field.
"""

from __future__ import annotations

from typing import Any

from quart import Response, json

from portico.errors import (
    Conflict,
    Forbidden,
    InvalidCredentials,
    NotFound,
    PasswordChangeRequired,
    PolicyViolation,
    PorticoError,
    ValidationFailed,
)

PROBLEM_BASE = "https://portico.dev/problems/"
_MAP: list[tuple[type[PorticoError], int, str, str]] = [
    (PolicyViolation, 400, "password-policy", "The password does not meet the policy"),
    (ValidationFailed, 400, "validation", "The request is not valid"),
    (InvalidCredentials, 401, "unauthorized", "Authentication failed"),
    (PasswordChangeRequired, 403, "password-change-required", "Change your password first"),
    (Forbidden, 403, "forbidden", "Not allowed"),
    (NotFound, 404, "not-found", "Not found"),
    (Conflict, 409, "conflict", "Conflict"),
]


def problem_response(
    status: int,
    title: str,
    detail: str | None = None,
    *,
    kind: str | None = None,
    errors: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """A problem+json response."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + kind if kind else "about:blank",
        "title": title,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = errors
    response = Response(json.dumps(body), status=status, content_type="application/problem+json")
    response.headers["Cache-Control"] = "no-store"
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def problem_for(err: PorticoError) -> Response:
    """The problem response for a domain error."""
    for cls, status, kind, title in _MAP:
        if isinstance(err, cls):
            errors: dict[str, Any] | None = None
            if isinstance(err, ValidationFailed):
                errors = dict(err.fields)
            elif isinstance(err, PolicyViolation):
                errors = {"password": err.problems}
            elif isinstance(err, Conflict) and err.fields:
                errors = dict(err.fields)
            headers = {"WWW-Authenticate": 'Bearer realm="portico"'} if status == 401 else None
            return problem_response(
                status, title, err.message, kind=kind, errors=errors, headers=headers
            )
    return problem_response(400, "Bad request", err.message, kind="bad-request")


def schema_errors(validation_error: Any) -> dict[str, str]:
    """Field errors from a quart-schema/pydantic validation failure."""
    inner = getattr(validation_error, "validation_error", validation_error)
    fields: dict[str, str] = {}
    errors = getattr(inner, "errors", None)
    if callable(errors):
        for item in errors():
            name = ".".join(str(p) for p in item.get("loc", ())) or "body"
            fields[name] = item.get("msg", "invalid")
    return fields or {"body": "The request body is not valid."}
