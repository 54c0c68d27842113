"""Lockout is counted in the database, so every session and instance agrees
(SPEC: "lockout: 5 failures -> locked 15 min ... counted in the database")."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update
from tests.conftest import make_settings
from tests.helpers import PASSWORD, add_user, csrf_of

from portico.accounts.signin import LockoutPolicy, lock_state, unlock, verify_credentials
from portico.app import create_app
from portico.errors import InvalidCredentials
from portico.services import Services, build_services
from portico.storage.models import AuditEvent, User
from portico.storage.models.base import utcnow

POLICY = LockoutPolicy(max_attempts=5, duration=900, rounds=4)
GENERIC = "The username or password is incorrect."


async def _attempt(svc: Services, password: str, policy: LockoutPolicy = POLICY) -> str:
    try:
        await verify_credentials(svc.db, "alice", password, policy, ip="203.0.113.9")
    except InvalidCredentials as exc:
        return exc.message
    return "ok"


async def _events(svc: Services, action: str) -> list[AuditEvent]:
    async with svc.db.session() as session:
        stmt = select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
        return list((await session.execute(stmt)).scalars())


async def test_concurrent_failures_count_exactly_to_the_threshold(svc: Services) -> None:
    user = await add_user(svc)
    results = await asyncio.gather(*(_attempt(svc, f"wrong-{i}") for i in range(20)))
    assert set(results) == {GENERIC}
    assert await lock_state(svc.db, user.id) == (5, True)
    locked = await _events(svc, "account.locked")
    assert len(locked) == 1 and locked[0].target == f"user:{user.id}"
    failed = await _events(svc, "login.failed")
    assert len(failed) == 20
    reasons = [e.details["reason"] for e in failed]
    assert reasons.count("password") >= 5
    assert set(reasons) <= {"password", "locked"}


async def test_a_locked_account_refuses_the_right_password_alike(svc: Services) -> None:
    user = await add_user(svc)
    for i in range(5):
        assert await _attempt(svc, f"wrong-{i}") == GENERIC
    assert await _attempt(svc, PASSWORD) == GENERIC
    assert (await _events(svc, "login.failed"))[-1].details["reason"] == "locked"
    # An unknown account gets the very same answer.
    with pytest.raises(InvalidCredentials) as unknown:
        await verify_credentials(svc.db, "nobody", PASSWORD, POLICY)
    assert unknown.value.message == GENERIC
    assert await lock_state(svc.db, user.id) == (5, True)


async def test_an_expired_lock_lets_the_right_password_in_and_resets(svc: Services) -> None:
    user = await add_user(svc)
    for i in range(5):
        await _attempt(svc, f"wrong-{i}")

    async def expire(session) -> None:  # type: ignore[no-untyped-def]
        await session.execute(
            update(User).where(User.id == user.id).values(locked_until=utcnow() - timedelta(1))
        )

    await svc.db.run(expire)
    assert await _attempt(svc, PASSWORD) == "ok"
    assert await lock_state(svc.db, user.id) == (0, False)


async def test_an_expired_lock_starts_a_fresh_count(svc: Services) -> None:
    user = await add_user(svc)
    for i in range(5):
        await _attempt(svc, f"wrong-{i}")

    async def expire(session) -> None:  # type: ignore[no-untyped-def]
        await session.execute(
            update(User).where(User.id == user.id).values(locked_until=utcnow() - timedelta(1))
        )

    await svc.db.run(expire)
    await _attempt(svc, "wrong-again")
    assert await lock_state(svc.db, user.id) == (1, False)


async def test_a_correct_password_resets_the_count(svc: Services) -> None:
    user = await add_user(svc)
    for i in range(4):
        await _attempt(svc, f"wrong-{i}")
    assert await lock_state(svc.db, user.id) == (4, False)
    assert await _attempt(svc, PASSWORD) == "ok"
    assert await lock_state(svc.db, user.id) == (0, False)
    for i in range(4):
        await _attempt(svc, f"wrong-{i}")
    assert await lock_state(svc.db, user.id) == (4, False)


async def test_unlock_lifts_the_lock(svc: Services) -> None:
    user = await add_user(svc)
    for i in range(5):
        await _attempt(svc, f"wrong-{i}")
    assert await unlock(svc.db, user.id)
    assert await lock_state(svc.db, user.id) == (0, False)
    assert await _attempt(svc, PASSWORD) == "ok"
    assert len(await _events(svc, "account.unlocked")) == 1
    assert not await unlock(svc.db, "no-such-user")


async def test_two_app_instances_on_one_database_agree(migrated_database_url: str,
                                                       tmp_path: Path) -> None:
    """Two independently built apps (own engines, own limiters) share one lockout count."""
    # Migrated (a template's copy): `serve` migrates SQLite only; the operator migrates PG.
    settings = make_settings(migrated_database_url, tmp_path, max_login_attempts=3)
    services = [build_services(settings) for _ in range(2)]
    apps = [create_app(settings, s) for s in services]
    async with apps[0].test_app() as first, apps[1].test_app() as second:
        svc = first.app.extensions["portico"]
        user = await add_user(svc)

        async def post(test_app, password: str) -> int:  # type: ignore[no-untyped-def]
            client = test_app.test_client()
            html = await (await client.get("/login")).get_data(as_text=True)
            form = {"csrf_token": csrf_of(html), "username": "alice", "password": password}
            response = await client.post("/login", form=form)
            return response.status_code

        statuses = await asyncio.gather(
            *(post(first if i % 2 else second, f"wrong-{i}") for i in range(10))
        )
        assert set(statuses) == {400}
        assert await lock_state(svc.db, user.id) == (3, True)
        # Locked on both instances, even for the right password.
        assert await post(first, PASSWORD) == 400
        assert await post(second, PASSWORD) == 400
