"""Signing keys: generated on first start, sealed in the database, rotated safely.

Each algorithm has one ``active`` key that signs, one ``next`` key that is already
published in /jwks (so relying parties have cached it before it signs anything),
and ``retired`` keys that stay published until every token they signed has
expired. Rotation promotes next → active, active → retired, and creates a new next.
Every instance reads keys from the database and caches them for a few seconds.

The cache is keyed by the published key set itself: every ``CACHE_SECONDS`` one query
reads the published rows, and only when their (kid, status) list differs from the
cached one is the snapshot rebuilt. Private keys are opened (AES-GCM, then an RSA
import of ~50 ms) once per kid per process, not at every refresh, so a refresh costs
one small SELECT and never stalls the event loop. The serialised JWKS and its strong
ETag are part of the snapshot: every instance that reads the same rows publishes the
same bytes under the same ETag.
"""

from __future__ import annotations

import hashlib
import json
import time
import warnings
from dataclasses import dataclass, replace
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
    """A snapshot of the published keys and the signing key per algorithm.

    ``jwks_json`` is the /jwks body, ``etag`` its strong entity tag (RFC 9110 §8.8.3),
    ``version`` the (kid, status) list it was built from, ``loaded_at`` when that list
    was last checked against the database."""

    jwks: dict[str, Any]
    keyset: KeySet
    signers: dict[str, type_key]
    loaded_at: float
    version: tuple[tuple[str, str], ...] = ()
    jwks_json: bytes = b""
    etag: str = ""


def entity_tag(body: bytes) -> str:
    """A strong ETag derived from the bytes alone, so every instance agrees on it."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


class KeyService:
    """Creates, rotates and serves signing keys for every instance alike."""

    def __init__(self, db: Database, box: SecretBox, max_token_ttl: int) -> None:
        self.db = db
        self.box = box
        self.retire_grace = timedelta(seconds=max_token_ttl + 300)
        self._cache: LoadedKeys | None = None
        self._opened: dict[str, type_key] = {}  # kid -> private key, opened once
        self._refreshing = False

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
        """Published keys, re-checked every ``CACHE_SECONDS`` so a rotation on another
        instance is seen soon. While one request re-checks, the others keep the snapshot
        they have (as ``portico.policy`` does), so a slow database stalls one request."""
        cached = self._cache
        if cached and not force and (
            self._refreshing or time.monotonic() - cached.loaded_at < CACHE_SECONDS
        ):
            return cached
        self._refreshing = True
        try:
            async with self.db.read() as session:
                rows = await SigningKeys(session).published()
        finally:
            self._refreshing = False
        version = tuple((row.kid, row.status) for row in rows)
        if cached is not None and cached.version == version:
            self._cache = replace(cached, loaded_at=time.monotonic())
            return self._cache
        public = [row.public_jwk for row in rows]
        signers: dict[str, type_key] = {}
        for row in rows:
            if row.status == "active":
                # The newest active key wins if two instances raced at first start.
                if row.kid not in self._opened:
                    self._opened[row.kid] = self._open(row)
                signers[row.alg] = self._opened[row.kid]
        published = {row.kid for row in rows}
        self._opened = {kid: key for kid, key in self._opened.items() if kid in published}
        keyset = KeySet([import_key(jwk) for jwk in public])  # type: ignore[misc]
        jwks = {"keys": public}
        body = json.dumps(jwks, separators=(",", ":")).encode()
        self._cache = LoadedKeys(jwks, keyset, signers, time.monotonic(), version, body,
                                 entity_tag(body))
        return self._cache

    async def signer(self, alg: str) -> type_key:
        """The key that signs with ``alg`` now."""
        keys = await self.load()
        if alg not in keys.signers:
            keys = await self.load(force=True)
        return keys.signers[alg]
