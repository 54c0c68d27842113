"""DPoP fixtures: a client key that signs proofs, and settings that tests may adjust
(``overrides``), on every supported database (PostgreSQL when configured)."""

from __future__ import annotations

import secrets
import time
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey
from tests.conftest import on_database

from portico.protocol.dpop import access_token_hash
from portico.settings import Settings

ISSUER = "http://127.0.0.1:8000"
TOKEN_URL = f"{ISSUER}/token"
USERINFO_URL = f"{ISSUER}/userinfo"


@pytest.fixture
def overrides() -> dict[str, Any]:
    """Settings a test changes; parametrize ``overrides`` to set them."""
    return {}


@pytest.fixture
def settings(settings: Settings, keyed_database_url: str, overrides: dict[str, Any]) -> Settings:
    """The usual settings with ``overrides``, on SQLite or on PostgreSQL (each copied
    from a template)."""
    return on_database(settings, keyed_database_url, **overrides)


class DpopKey:
    """A client's DPoP key pair and the proofs it signs (RFC 9449 §4.2)."""

    def __init__(self, kind: str = "EC") -> None:
        if kind == "EC":
            self.key: Any = ECKey.generate_key("P-256", private=True)
            self.alg = "ES256"
        else:
            self.key = RSAKey.generate_key(2048, private=True)
            self.alg = "PS256"

    @property
    def jkt(self) -> str:
        return self.key.thumbprint()

    def proof(
        self,
        htu: str = TOKEN_URL,
        htm: str = "POST",
        *,
        access_token: str | None = None,
        nonce: str | None = None,
        iat: float | None = None,
        header: dict[str, Any] | None = None,
        drop: tuple[str, ...] = (),
        **claims: Any,
    ) -> str:
        body: dict[str, Any] = {
            "jti": secrets.token_urlsafe(16),
            "htm": htm,
            "htu": htu,
            "iat": int(time.time() if iat is None else iat),
        }
        if access_token is not None:
            body["ath"] = access_token_hash(access_token)
        if nonce is not None:
            body["nonce"] = nonce
        body.update(claims)
        for name in drop:
            body.pop(name, None)
        head = {"typ": "dpop+jwt", "alg": self.alg, "jwk": self.key.as_dict(private=False)}
        head.update(header or {})
        return jwt.encode(head, body, self.key, algorithms=[self.alg])


@pytest.fixture
def dpop_key() -> DpopKey:
    return DpopKey()
