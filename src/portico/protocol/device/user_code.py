"""User codes (RFC 8628 §6.1): short, typed by a person, hard to guess in time.

Eight characters from twenty consonants (no vowels, so no words; no digits, so no
O/0 or I/1 confusion) give 20^8 ≈ 2^34.6 codes. With a code alive for minutes, a
per-IP and per-account limit on wrong entries (§5.1) keeps guessing hopeless.
Codes are shown as ``XXXX-XXXX``; on input case, spaces and dashes do not matter.
"""

from __future__ import annotations

import secrets

ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
LENGTH = 8
# Whatever a person might type around the code: the dash we show, spaces, other dashes.
_IGNORED = {"-", " ", "\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2212", "\t"}
MAX_INPUT = 64


def new_user_code() -> str:
    """A fresh code in its stored form (eight characters, no dash)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalize(raw: str | None) -> str | None:
    """The stored form of what a person typed, or None when it cannot be a code.

    §6.1: "the user code SHOULD be case insensitive" and separators are ignored, so
    ``wdjb-mjht``, ``WDJBMJHT`` and ``WDJB MJHT`` are the same code."""
    if not raw or len(raw) > MAX_INPUT:
        return None
    code = "".join(c for c in raw.strip() if c not in _IGNORED).upper()
    if len(code) != LENGTH or any(c not in ALPHABET for c in code):
        return None
    return code


def display(code: str) -> str:
    """``XXXX-XXXX``: two halves are easier to read out and type."""
    half = LENGTH // 2
    return f"{code[:half]}-{code[half:]}"
