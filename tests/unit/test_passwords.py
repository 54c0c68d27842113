"""Password hashing (bcrypt over a pre-hash, off the event loop) and policy."""

from __future__ import annotations

import asyncio

import pytest

from portico.accounts.passwords import PasswordPolicy, hash_password, verify_password
from portico.errors import PolicyViolation


async def test_long_passwords_are_neither_truncated_nor_refused():
    long_a, long_b = "A1" + "x" * 200, "A1" + "x" * 199 + "y"
    hashed = await hash_password(long_a, rounds=4)
    assert await verify_password(long_a, hashed)
    assert not await verify_password(long_b, hashed)


async def test_a_missing_hash_costs_a_verification_and_fails():
    assert not await verify_password("anything", None)


async def test_hashing_does_not_block_the_event_loop():
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            await asyncio.sleep(0.001)
            ticks += 1

    task = asyncio.create_task(ticker())
    await hash_password("Some-password-1", rounds=10)
    task.cancel()
    assert ticks > 5


def test_policy_lists_every_failed_rule():
    policy = PasswordPolicy()
    assert policy.problems("short") == ["at least 8 characters", "an upper-case letter", "a digit"]
    assert policy.problems("Good-password-1") == []
    assert policy.problems("x" * 1025) != []
    with pytest.raises(PolicyViolation) as err:
        policy.check("alllowercase")
    assert err.value.problems == ["an upper-case letter", "a digit"]


def test_policy_without_classes_only_checks_length():
    assert PasswordPolicy(min_length=10, require_classes=False).problems("abcdefghij") == []


async def test_an_unknown_user_pays_the_configured_cost(monkeypatch):
    from portico.accounts import passwords

    seen = []
    real = passwords._hash_sync
    monkeypatch.setattr(passwords, "_DUMMY", {})
    monkeypatch.setattr(passwords, "_hash_sync", lambda p, r: seen.append(r) or real(p, r))
    assert not await verify_password("x", None, rounds=5)
    assert seen == [5]
