"""A small world for admin-API tests: two organizations, each with an owner-admin and
a member, plus the instance's superadmin, all signed in over the API.

    root    superadmin, owner of ``default``
    ann     admin and owner of ``acme``        mia   member of ``acme``
    bob     admin and owner of ``globex``      max   member of ``globex``
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from tests.api.conftest import Signed, login
from tests.helpers import PASSWORD, services_of

from portico.accounts.passwords import PasswordPolicy
from portico.accounts.users import create_user
from portico.orgs.memberships import insert_organization
from portico.storage.models import Organization, User


@dataclass
class World:
    app: Any
    root: Signed
    ann: Signed
    mia: Signed
    bob: Signed
    max: Signed
    acme: Organization
    globex: Organization
    users: dict[str, User]

    def user_id(self, name: str) -> str:
        return self.users[name].id


async def make_world(app: Any) -> World:
    svc = services_of(app)
    policy = PasswordPolicy(8, True)
    users: dict[str, User] = {}
    users["root"] = await create_user(
        svc.db, username="root", email="root@example.org", password=PASSWORD, policy=policy,
        role="admin", rounds=4, only_if_no_admin=True)
    orgs: dict[str, Organization] = {}
    for org_name, admin, member in (("acme", "ann", "mia"), ("globex", "bob", "max")):
        users[admin] = await create_user(
            svc.db, username=admin, email=f"{admin}@{org_name}.example", password=PASSWORD,
            policy=policy, rounds=4, new_org_name=org_name.title())
        async with svc.db.session() as session:
            from portico.storage.repositories.users import Organizations

            org = await Organizations(session).by_slug(org_name)
            assert org is not None
            orgs[org_name] = org
            session.expunge(org)
        users[member] = await create_user(
            svc.db, username=member, email=f"{member}@{org_name}.example", password=PASSWORD,
            policy=policy, rounds=4, org_slug=org_name)
    signed = {name: await login(app, name) for name in users}
    return World(app, signed["root"], signed["ann"], signed["mia"], signed["bob"],
                 signed["max"], orgs["acme"], orgs["globex"], users)


@pytest.fixture
async def world(app: Any) -> World:
    return await make_world(app)


__all__ = ["World", "insert_organization", "make_world"]
