"""Keep secrets out of audit events, whatever a caller passes in.

Two independent nets, because either alone has holes:

* by **name**: a field called ``password``, ``client_secret``, ``refresh_token``,
  ``api_key``... is replaced whole, whatever its value;
* by **shape**: in every string anywhere (any field, nested dicts and lists, and the
  free-text ``target`` and ``user_agent`` columns via ``scrub_text``) anything that
  looks like one of Portico's credentials is cut out: ``pk_``/``rk_`` keys, JWTs
  (access, ID and logout tokens, client assertions), and runs of 43 or more base64url
  characters (``secrets.token_urlsafe(32)``: codes, refresh tokens, session cookies,
  client secrets, invite tokens).

The shape net is deliberately blunt. A JWK thumbprint (a ``kid``) is 43 characters
too and gets cut: kids are public, but an event that needs one should record a
prefix (``kid[:12]``), which is enough to find the key.
"""

from __future__ import annotations

import re
from typing import Any

MARKER = "[redacted]"
_SECRET_WORDS = ("password", "secret", "token", "key", "code", "assertion", "cookie")
_SAFE_SUFFIXES = ("_id", "_count", "_method", "_kid", "kid")

_TOKEN_SHAPES = re.compile(
    r"(?:pk|rk)_[A-Za-z0-9_-]{8,}"  # API keys and recovery keys
    r"|eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*"  # JWS compact (JWTs)
    r"|(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43,}(?![A-Za-z0-9_-])"  # 256-bit base64url randoms
)


def scrub_text(value: str | None) -> str | None:
    """``value`` with every token-shaped substring replaced by the marker."""
    if value is None:
        return None
    return _TOKEN_SHAPES.sub(MARKER, value)


def _secret_name(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS) and not lowered.endswith(_SAFE_SUFFIXES)


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return scrub_text(value)
    if isinstance(value, dict):
        return redact(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_clean(item) for item in value]
    return value


def redact(details: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``details`` with secret-named fields and token-shaped strings removed."""
    clean: dict[str, Any] = {}
    for name, value in details.items():
        key = scrub_text(str(name)) or ""
        clean[key] = MARKER if _secret_name(str(name)) else _clean(value)
    return clean
