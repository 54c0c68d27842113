"""Keep secrets out of audit details, whatever a caller passes in."""

from __future__ import annotations

from typing import Any

_SECRET_WORDS = ("password", "secret", "token", "key", "code", "assertion", "cookie")


def redact(details: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``details`` with any secret-looking field replaced by a marker."""
    clean: dict[str, Any] = {}
    for name, value in details.items():
        lowered = name.lower()
        if any(word in lowered for word in _SECRET_WORDS) and not lowered.endswith(
            ("_id", "_count", "_method", "_kid", "kid")
        ):
            clean[name] = "[redacted]"
        elif isinstance(value, dict):
            clean[name] = redact(value)
        else:
            clean[name] = value
    return clean
