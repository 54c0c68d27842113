"""Domain errors: raised by services, mapped to HTTP by each surface in one place.

Domain code never knows status codes. A message here is public (safe to show);
anything private goes in ``detail``, which is never rendered nor part of the repr.
"""

from __future__ import annotations


class PorticoError(Exception):
    """Root of every error Portico raises on purpose."""

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.message!r})"


class NotFound(PorticoError):
    """The thing asked for does not exist (or is not visible to the caller)."""


class Conflict(PorticoError):
    """The change would break a uniqueness or state rule (taken username, admin exists);
    ``fields`` names the inputs at fault when there are some."""

    def __init__(
        self, message: str, *, fields: dict[str, str] | None = None, detail: str | None = None
    ) -> None:
        super().__init__(message, detail=detail)
        self.fields = fields or {}


class Forbidden(PorticoError):
    """The caller is known but may not do this."""


class InvalidCredentials(PorticoError):
    """Wrong username or password, deliberately indistinguishable."""


class PolicyViolation(PorticoError):
    """Input breaks a configured policy (password rules); ``problems`` lists each rule."""

    def __init__(self, message: str, problems: list[str]) -> None:
        super().__init__(message)
        self.problems = problems


class ValidationFailed(PorticoError):
    """Input is malformed; ``fields`` maps a field name to what is wrong with it."""

    def __init__(self, message: str, fields: dict[str, str]) -> None:
        super().__init__(message)
        self.fields = fields


class RateLimited(PorticoError):
    """Too many requests of one kind from one source; try again after ``retry_after``."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("Too many attempts. Wait a little and try again.")
        self.retry_after = max(1, retry_after)


class PasswordChangeRequired(PorticoError):
    """An admin reset this password: nothing else works until the person changes it."""
