"""Portico: a small, standards-exact, self-hosted OpenID Connect provider."""

__version__ = "0.1.0"
