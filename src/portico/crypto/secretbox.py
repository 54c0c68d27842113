"""AES-256-GCM sealing of secrets at rest under the master key.

The associated data names where a ciphertext lives (``table:id:column``), so a
sealed value copied into another row or column fails to open.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = b"\x01"
_NONCE_BYTES = 12


class SecretBoxError(Exception):
    """A sealed value could not be opened (wrong key, wrong place, or tampered)."""


class SecretBox:
    """Seals and opens small secrets with one 256-bit key."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the master key must be 32 bytes")
        self._aead = AESGCM(key)

    def __repr__(self) -> str:
        return "SecretBox(<key hidden>)"

    def seal(self, plaintext: bytes, where: str) -> str:
        """Encrypt ``plaintext`` bound to ``where``; returns printable text for a DB column."""
        nonce = os.urandom(_NONCE_BYTES)
        ct = self._aead.encrypt(nonce, plaintext, where.encode())
        return base64.urlsafe_b64encode(_VERSION + nonce + ct).decode()

    def open(self, sealed: str, where: str) -> bytes:
        """Decrypt a value sealed for exactly ``where``."""
        try:
            raw = base64.urlsafe_b64decode(sealed.encode())
        except (binascii.Error, ValueError):
            raise SecretBoxError("sealed value is not valid base64") from None
        if raw[:1] != _VERSION or len(raw) < 1 + _NONCE_BYTES + 16:
            raise SecretBoxError("sealed value has an unknown format")
        nonce, ct = raw[1 : 1 + _NONCE_BYTES], raw[1 + _NONCE_BYTES :]
        try:
            return self._aead.decrypt(nonce, ct, where.encode())
        except InvalidTag:
            raise SecretBoxError("sealed value does not open with this key and place") from None


def parse_master_key(text: str) -> bytes:
    """Accept a 32-byte key as base64url (43/44 chars) or hex (64 chars)."""
    text = text.strip()
    try:
        if len(text) == 64:
            return bytes.fromhex(text)
        key = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("the master key must be 32 bytes as base64url or hex") from None
    if len(key) != 32:
        raise ValueError("the master key must be 32 bytes as base64url or hex")
    return key


def new_master_key_text() -> str:
    """A fresh master key, base64url without padding."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")


def write_master_key(path: Path) -> bool:
    """Create ``path`` with a new key (mode 0600) unless it exists; True when written."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(fd, "w") as fh:
        fh.write(new_master_key_text() + "\n")
    return True
