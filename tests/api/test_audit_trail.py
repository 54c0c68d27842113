"""Every account action leaves an audit event (SPEC, domain rules: Audit)."""

from __future__ import annotations

from tests.api.conftest import bearer, login
from tests.helpers import PASSWORD, services_of

from portico.storage.repositories.audit import AuditLog

NEW = "Another-pass-2"


async def test_each_account_action_writes_its_audit_event(make_app):
    async with make_app(registration="open", max_login_attempts=2) as app:
        client = app.test_client()
        admin = {"username": "root", "email": "root@example.org", "password": PASSWORD}
        assert (await client.post("/api/v1/auth/setup", json=admin)).status_code == 201
        person = {"username": "bob", "email": "bob@example.org", "password": PASSWORD}
        assert (await client.post("/api/v1/auth/register", json=person)).status_code == 201
        bad = {"username": "bob", "password": "Wrong-pass-1"}
        await client.post("/api/v1/auth/login", json=bad)
        await client.post("/api/v1/auth/login", json=bad)  # second failure locks (max 2)
        async with services_of(app).db.session() as session:
            from portico.storage.repositories.users import Users

            bob = await Users(session).find_by_login("bob", "bob@example.org")
        from portico.accounts.signin import unlock

        await unlock(services_of(app).db, bob.id)
        signed = await login(app, "bob")
        key = await (await signed.post("/api/v1/auth/api-keys",
                                        json={"name": "ci", "access": "read"})).get_json()
        await signed.delete(f"/api/v1/auth/api-keys/{key['id']}")
        rk = await (await signed.post("/api/v1/auth/recovery-key",
                                      json={"password": PASSWORD})).get_json()
        change = {"current_password": PASSWORD, "new_password": NEW}
        assert (await signed.post("/api/v1/auth/password", json=change)).status_code == 200
        recovered = await client.post("/api/v1/auth/recover", json={
            "recovery_key": rk.get("recovery_key", ""), "new_password": PASSWORD})
        assert recovered.status_code == 200, await recovered.get_json()
        again = await login(app, "bob")
        other = await login(app, "bob")
        await again.delete(f"/api/v1/auth/sessions/{other.session_id}")
        await client.post("/api/v1/auth/logout", headers=bearer(again.access))
        async with services_of(app).db.session() as session:
            actions = {e.action for e in await AuditLog(session).recent(limit=200)}
    assert {
        "setup.completed", "user.registered", "login.failed", "account.locked",
        "account.unlocked", "login.succeeded", "api_key.created", "api_key.revoked",
        "recovery_key.generated", "password.changed", "password.recovered",
        "session.revoked", "logout",
    } <= actions, actions
