"""Encryption tests run on every supported database (PostgreSQL when configured), with
open registration and the document server of the registration tests."""

from __future__ import annotations

from tests.protocol.registration.conftest import documents, settings

__all__ = ["documents", "settings"]
