"""Random tokens and their lookup hashes.

Tokens handed out (codes, refresh tokens, client secrets, session cookies) carry
256 bits of randomness, so a plain SHA-256 is a safe lookup key: no salt or slow
hash is needed, and the token endpoint stays fast.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time


def random_token(nbytes: int = 32, prefix: str = "") -> str:
    """A URL-safe random token with an optional readable prefix (``pk_``)."""
    return prefix + secrets.token_urlsafe(nbytes)


def new_client_id() -> str:
    """A random client id that never starts with ``-``: people paste ids into command
    lines, where a leading dash reads as an option."""
    while True:
        candidate = secrets.token_urlsafe(16)
        if not candidate.startswith("-"):
            return candidate


def lookup_hash(token: str) -> str:
    """Hex SHA-256 of a high-entropy token, used as its database key."""
    return hashlib.sha256(token.encode()).hexdigest()


def same_hash(token: str, expected_hash: str) -> bool:
    """Constant-time check of ``token`` against a stored lookup hash."""
    return hmac.compare_digest(lookup_hash(token), expected_hash)


def new_id() -> str:
    """An opaque 128-bit row identifier: 48 bits of milliseconds, then 80 random bits
    (the layout of a UUIDv7). Ids made close in time sort close together, so inserting
    a token or code row touches the same few index pages instead of a random one of a
    million-row index (bench/README.md, "--big"). Ids are never credentials: 80 random
    bits still cannot be guessed, and the time is in the row anyway."""
    return f"{time.time_ns() // 1_000_000:012x}{secrets.token_hex(10)}"
