"""Key lifecycle: generated once, sealed at rest, rotated without breaking verification."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from joserfc import jwt

from portico.crypto.secretbox import SecretBox, SecretBoxError
from portico.crypto.signing_keys import SUPPORTED_ALGS, KeyService
from portico.storage.models.base import utcnow
from portico.storage.repositories.keys import SigningKeys


@pytest.fixture
def keys(db):
    return KeyService(db, SecretBox(b"k" * 32), max_token_ttl=3600)


async def test_each_algorithm_gets_an_active_and_a_next_key_once(keys):
    created = await keys.ensure_keys()
    assert len(created) == 2 * len(SUPPORTED_ALGS)
    assert await keys.ensure_keys() == []
    statuses = sorted((k.alg, k.status) for k in await keys.list_keys())
    assert statuses == sorted((a, s) for a in SUPPORTED_ALGS for s in ("active", "next"))


async def test_private_keys_are_sealed_and_public_jwks_hold_no_private_members(keys, db):
    await keys.ensure_keys()
    loaded = await keys.load()
    for jwk in loaded.jwks["keys"]:
        assert not {"d", "p", "q", "dp", "dq", "qi"} & set(jwk)
        assert jwk["kid"] and jwk["use"] == "sig"
    rows = await keys.list_keys()
    assert all('"d"' not in r.private_jwk_sealed for r in rows)
    with pytest.raises(SecretBoxError):
        SecretBox(b"x" * 32).open(rows[0].private_jwk_sealed, f"signing_keys:{rows[0].kid}:private")


async def test_rotation_signs_with_the_published_next_key_and_keeps_the_old_one(keys):
    await keys.ensure_keys()
    before = await keys.load(force=True)
    old_signer = before.signers["RS256"]
    next_kid = next(
        k.kid for k in await keys.list_keys() if k.alg == "RS256" and k.status == "next"
    )
    token = jwt.encode({"alg": "RS256", "kid": old_signer.kid}, {"x": 1}, old_signer)
    await keys.rotate(("RS256",))
    after = await keys.load(force=True)
    assert after.signers["RS256"].kid == next_kid
    published = {k["kid"] for k in after.jwks["keys"]}
    assert old_signer.kid in published
    assert jwt.decode(token, after.keyset).claims == {"x": 1}
    assert len([k for k in await keys.list_keys() if k.alg == "RS256" and k.status == "next"]) == 1


async def test_retired_keys_leave_the_jwks_after_every_token_they_signed_expired(keys, db):
    await keys.ensure_keys()
    await keys.rotate(("ES256",))
    async with db.session() as s:
        retired = [k for k in await SigningKeys(s).all() if k.status == "retired"]
        assert retired and retired[0].expires_at > utcnow() + timedelta(seconds=3600)
        later = retired[0].expires_at + timedelta(seconds=1)
        assert retired[0].kid not in {k.kid for k in await SigningKeys(s).published(later)}
    assert json.dumps((await keys.load(force=True)).jwks).count(retired[0].kid) == 1


async def test_instances_starting_or_rotating_together_keep_one_active_and_one_next(db):
    # Several instances (each its own KeyService and connections) on one database.
    import asyncio

    services = [KeyService(db, SecretBox(b"k" * 32), max_token_ttl=3600) for _ in range(4)]
    created = await asyncio.gather(*(s.ensure_keys() for s in services))
    assert sum(len(c) for c in created) == 2 * len(SUPPORTED_ALGS)
    await asyncio.gather(*(s.rotate() for s in services[:2]))
    rows = await services[0].list_keys()
    for alg in SUPPORTED_ALGS:
        live = sorted(k.status for k in rows if k.alg == alg and k.status != "retired")
        assert live == ["active", "next"], (alg, live)
