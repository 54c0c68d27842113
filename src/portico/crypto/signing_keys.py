"""Signing keys: generated on first start, sealed in the database, rotated safely.

Each algorithm has one ``active`` key that signs, one ``next`` key that is already
published in /jwks (so relying parties have cached it before it signs anything),
and ``retired`` keys that stay published until every token they signed has
expired. Rotation promotes next → active, active → retired, and creates a new next.
Every instance reads keys from the database and caches them for a few seconds.
"""

from __future__ import annotations

import json
import time
import warnings
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from joserfc.jwk import ECKey, KeySet, OKPKey, RSAKey, import_key
from sqlalchemy.ext.asyncio import AsyncSession

from portico.crypto.secretbox import SecretBox
from portico.storage.db import Database
from portico.storage.models import SigningKey
from portico.storage.models.base import utcnow
from portico.storage.repositories.keys import SigningKeys

# RFC 9864 deprecates the polymorphic "EdDSA" name, but OIDC RPs still ask for it.
warnings.filterwarnings("ignore", message="EdDSA is deprecated", module="joserfc")

SUPPORTED_ALGS = ("RS256", "ES256", "EdDSA")
CACHE_SECONDS = 10.0

type_key = RSAKey | ECKey | OKPKey


def generate_key(alg: str) -> type_key:
    """A fresh private key for ``alg`` with an RFC 7638 thumbprint as its kid."""
    params: Any = {"alg": alg, "use": "sig"}
    if alg == "RS256":
        return RSAKey.generate_key(2048, parameters=params, auto_kid=True)
    if alg == "ES256":
        return ECKey.generate_key("P-256", parameters=params, auto_kid=True)
    if alg == "EdDSA":
        return OKPKey.generate_key("Ed25519", parameters=params, auto_kid=True)
    raise ValueError(f"unsupported signing algorithm {alg!r}")


@dataclass(frozen=True)
class LoadedKeys:
    """A snapshot of the published keys and the signing key per algorithm."""

    jwks: dict[str, Any]
    keyset: KeySet
    signers: dict[str, type_key]
    loaded_at: float


class KeyService:
    """Creates, rotates and serves signing keys for every instance alike."""

    def __init__(self, db: Database, box: SecretBox, max_token_ttl: int) -> None:
        self.db = db
        self.box = box
        self.retire_grace = timedelta(seconds=max_token_ttl + 300)
        self._cache: LoadedKeys | None = None

    def _seal(self, key: type_key) -> SigningKey:
        private = json.dumps(key.as_dict(private=True)).encode()
        return SigningKey(
            kid=key.kid or "",
            alg=str(key.alg),
            status="next",
            public_jwk=key.as_dict(private=False),
            private_jwk_sealed=self.box.seal(private, f"signing_keys:{key.kid}:private"),
        )

    def _open(self, row: SigningKey) -> type_key:
        data = json.loads(self.box.open(row.private_jwk_sealed, f"signing_keys:{row.kid}:private"))
        return import_key(data)  # type: ignore[return-value]

    async def ensure_keys(self) -> list[str]:
        """Make sure each algorithm has an active and a next key; returns kids created."""

        async def work(session: AsyncSession) -> list[str]:
            created: list[str] = []
            repo = SigningKeys(session)
            await repo.lock()
            for alg in SUPPORTED_ALGS:
                if not await repo.by_status(alg, "active"):
                    row = self._seal(generate_key(alg))
                    row.status, row.activated_at = "active", utcnow()
                    await repo.add(row)
                    created.append(row.kid)
                if not await repo.by_status(alg, "next"):
                    row = self._seal(generate_key(alg))
                    await repo.add(row)
                    created.append(row.kid)
            return created

        created = await self.db.run(work)
        self._cache = None
        return created

    async def rotate(self, algs: tuple[str, ...] = SUPPORTED_ALGS, *,
                     session: AsyncSession | None = None) -> list[SigningKey]:
        """Promote next → active, retire the active key, publish a new next key.

        Given ``session``, the rotation joins the caller's transaction (so its audit
        event commits or rolls back with it); otherwise it runs in its own."""

        async def work(session: AsyncSession) -> list[SigningKey]:
            now = utcnow()
            repo = SigningKeys(session)
            await repo.lock()
            for alg in algs:
                for row in await repo.by_status(alg, "active"):
                    row.status, row.retired_at = "retired", now
                    row.expires_at = now + self.retire_grace
                nexts = await repo.by_status(alg, "next")
                if nexts:
                    promoted = nexts[0]
                else:
                    promoted = self._seal(generate_key(alg))
                    await repo.add(promoted)
                promoted.status, promoted.activated_at = "active", now
                await repo.add(self._seal(generate_key(alg)))
            await session.flush()
            return await repo.all()

        rows = await work(session) if session is not None else await self.db.run(work)
        self._cache = None
        return rows

    async def list_keys(self) -> list[SigningKey]:
        """Every key row, for `portico keys list` and the admin API."""
        async with self.db.session() as session:
            return await SigningKeys(session).all()

    async def load(self, force: bool = False) -> LoadedKeys:
        """Published keys, cached briefly so rotation on another instance is seen soon."""
        cached = self._cache
        if cached and not force and time.monotonic() - cached.loaded_at < CACHE_SECONDS:
            return cached
        async with self.db.session() as session:
            rows = await SigningKeys(session).published()
        public = [row.public_jwk for row in rows]
        signers: dict[str, type_key] = {}
        for row in rows:
            if row.status == "active":
                # The newest active key wins if two instances raced at first start.
                signers[row.alg] = self._open(row)
        keyset = KeySet([import_key(jwk) for jwk in public])  # type: ignore[misc]
        self._cache = LoadedKeys({"keys": public}, keyset, signers, time.monotonic())
        return self._cache

    async def signer(self, alg: str) -> type_key:
        """The key that signs with ``alg`` now."""
        keys = await self.load()
        if alg not in keys.signers:
            keys = await self.load(force=True)
        return keys.signers[alg]
