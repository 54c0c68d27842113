"""The maintenance pass: leftovers go, live rows stay, and any number of instances
may run it at once (SPEC: "safe to run on every instance at once")."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from click.testing import CliRunner
from sqlalchemy import func, select
from tests.helpers import add_client, add_user

from portico.cli import main
from portico.crypto.tokens import new_id
from portico.services import Services
from portico.storage import maintenance
from portico.storage.models import (
    AccessToken,
    AuthorizationCode,
    Lease,
    PendingAuthorization,
    RefreshToken,
    Session,
    SigningKey,
    UsedAssertion,
)
from portico.storage.models.base import utcnow

TABLES = {
    "sessions": Session,
    "authorization_codes": AuthorizationCode,
    "access_tokens": AccessToken,
    "refresh_tokens": RefreshToken,
    "pending_authorizations": PendingAuthorization,
    "used_assertions": UsedAssertion,
    "signing_keys": SigningKey,
}


async def seed(svc: Services, copies: int = 1) -> dict[str, set[str]]:
    """Per table: the ids of rows that must survive. Everything else seeded must go."""
    user = await add_user(svc, f"u{new_id()[-8:]}")  # the random end (the start is time)
    client = (await add_client(svc)).client
    now = utcnow()
    past, future = now - timedelta(minutes=5), now + timedelta(hours=1)
    keep: dict[str, set[str]] = {name: set() for name in TABLES}
    async with svc.db.session() as s:
        for _ in range(copies):
            for expires, revoked in ((past, None), (future, now), (future, None)):
                sid = new_id()
                s.add(Session(id=sid, token_hash=new_id() + new_id(), user_id=user.id,
                              auth_time=now, expires_at=expires, revoked_at=revoked))
                if expires is future and revoked is None:
                    keep["sessions"].add(sid)
            for expires, used in ((past, None), (past, now), (future, now), (future, None)):
                cid = new_id()
                s.add(AuthorizationCode(id=cid, code_hash=new_id() + new_id(),
                                        client_id=client.id, user_id=user.id,
                                        redirect_uri="https://rp.example/cb", scope="openid",
                                        auth_time=now, expires_at=expires, used_at=used))
                if expires is future:  # used codes stay until expiry (replay detection)
                    keep["authorization_codes"].add(cid)
            for expires in (past, future):
                jti = new_id()
                s.add(AccessToken(jti=jti, client_id=client.id, user_id=user.id,
                                  expires_at=expires))
                rid = new_id()
                s.add(RefreshToken(id=rid, token_hash=new_id() + new_id(), family_id=new_id(),
                                   client_id=client.id, user_id=user.id, scope="openid",
                                   auth_time=now, expires_at=expires,
                                   used_at=now if expires is future else None))
                ah = new_id() + new_id()
                s.add(UsedAssertion(jti_hash=ah, client_id=client.id, expires_at=expires))
                if expires is future:
                    keep["access_tokens"].add(jti)
                    keep["refresh_tokens"].add(rid)
                    keep["used_assertions"].add(ah)
            for expires, completed in ((past, None), (future, now), (future, None)):
                pid = new_id() + new_id()
                s.add(PendingAuthorization(id=pid, client_id=client.id, params={},
                                           expires_at=expires, completed_at=completed))
                if expires is future and completed is None:
                    keep["pending_authorizations"].add(pid)
            for status, expires in (("retired", past), ("retired", future)):
                kid = f"test-{new_id()}"
                s.add(SigningKey(kid=kid, alg="RS256", status=status, public_jwk={},
                                 private_jwk_sealed="x", expires_at=expires))
                if expires is future:
                    keep["signing_keys"].add(kid)
    return keep


async def ids(svc: Services, name: str) -> set[str]:
    model = TABLES[name]
    key = maintenance.RULES[[r.name for r in maintenance.RULES].index(name)].key
    async with svc.db.session() as s:
        rows = set((await s.execute(select(key))).scalars())
    if model is SigningKey:  # the real keys made by ensure_keys are not ours to judge
        rows = {r for r in rows if r.startswith("test-")}
    return rows


async def test_a_pass_removes_leftovers_and_keeps_live_rows(svc: Services) -> None:
    keep = await seed(svc)
    counts = await maintenance.run_pass(svc.db)
    nothing = dict.fromkeys((rule.name for rule in maintenance.RULES), 0)
    assert counts == {**nothing, "sessions": 2, "authorization_codes": 2, "access_tokens": 1,
                      "refresh_tokens": 1, "pending_authorizations": 2, "used_assertions": 1,
                      "signing_keys": 1}
    for name in TABLES:
        assert await ids(svc, name) == keep[name], name
    assert await maintenance.run_pass(svc.db) == nothing


async def test_small_batches_get_everything(svc: Services) -> None:
    keep = await seed(svc, copies=7)
    counts = await maintenance.purge(svc.db, batch=3)
    assert counts["sessions"] == 14 and counts["authorization_codes"] == 14
    for name in TABLES:
        assert await ids(svc, name) == keep[name], name


async def test_concurrent_passes_neither_fail_nor_double_count(svc: Services) -> None:
    keep = await seed(svc, copies=5)
    # Without the lease: every row is deleted once and counted once.
    results = await asyncio.gather(*(maintenance.purge(svc.db, batch=4) for _ in range(4)))
    assert sum(r["sessions"] for r in results) == 10
    assert sum(r["authorization_codes"] for r in results) == 10
    for name in TABLES:
        assert await ids(svc, name) == keep[name], name
    # With the lease: passes from several "instances" at once all succeed or step aside.
    await seed(svc, copies=2)
    passes = await asyncio.gather(*(maintenance.run_pass(svc.db, f"node-{i}") for i in range(4)))
    done = [p for p in passes if p is not None]
    assert done and sum(p["sessions"] for p in done) == 4


async def test_the_lease_admits_one_holder_until_it_expires(svc: Services) -> None:
    got = await asyncio.gather(*(maintenance.acquire_lease(svc.db, f"n{i}", 60)
                                 for i in range(5)))
    assert got.count(True) == 1
    winner = f"n{got.index(True)}"
    assert not await maintenance.acquire_lease(svc.db, "other", 60)
    assert await maintenance.acquire_lease(svc.db, winner, 60)  # renewing is fine
    await maintenance.release_lease(svc.db, winner)
    assert await maintenance.acquire_lease(svc.db, "other", 60)
    async with svc.db.session() as s:
        assert (await s.execute(select(func.count()).select_from(Lease))).scalar_one() == 1


async def test_the_background_loop_runs_and_stops_cleanly(svc: Services) -> None:
    await seed(svc)
    loop = maintenance.start_background(svc.db, 1)
    assert loop is not None
    for _ in range(100):
        await asyncio.sleep(0.1)
        if loop.passes:
            break
    await maintenance.stop_background(loop)
    assert loop.task.done() and not loop.task.cancelled()
    assert loop.passes >= 1
    assert len(await ids(svc, "sessions")) == 1
    assert maintenance.start_background(svc.db, 0) is None
    # Stopping long before the first pass is due returns at once.
    idle = maintenance.start_background(svc.db, 3600)
    assert idle is not None
    await asyncio.wait_for(maintenance.stop_background(idle), 2)
    assert idle.passes == 0


def test_cli_maintenance_run_prints_counts(tmp_path: Path) -> None:
    env = {
        "PORTICO_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'p.db'}",
        "PORTICO_KEYS_DIR": str(tmp_path / "keys"),
        "PORTICO_BCRYPT_ROUNDS": "4",
        "PORTICO_CONFIG": str(tmp_path / "none.toml"),
    }
    runner = CliRunner()
    assert runner.invoke(main, ["init"], env=env).exit_code == 0
    result = runner.invoke(main, ["maintenance", "run", "--json"], env=env)
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.output)
    assert data["ran"] is True and data["deleted"]["sessions"] == 0
    human = runner.invoke(main, ["maintenance", "run"], env=env)
    assert human.exit_code == 0 and "removed" in human.output
