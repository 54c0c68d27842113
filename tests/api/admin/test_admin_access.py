"""The admin guard: who is an admin of what, before any resource module is involved."""

from __future__ import annotations

from tests.api.admin.conftest import World
from tests.helpers import services_of

from portico.orgs.access import admin_scope
from portico.storage.repositories.users import Users


async def scope_of(world: World, name: str):
    async with services_of(world.app).db.session() as session:
        user = await Users(session).get(world.user_id(name))
        return await admin_scope(session, user)


async def test_scopes_follow_roles(world: World):
    assert (await scope_of(world, "root")).is_global
    assert (await scope_of(world, "ann")).org_ids == {world.acme.id}
    assert (await scope_of(world, "bob")).org_ids == {world.globex.id}
    assert await scope_of(world, "mia") is None


async def test_world_owners(world: World):
    from portico.storage.repositories.orgs import ScopedOrganizations
    from portico.storage.scope import OrgScope

    async with services_of(world.app).db.session() as session:
        orgs = ScopedOrganizations(session, OrgScope.everything())
        owner = await orgs.owner(world.acme.id)
        assert owner is not None and owner.user_id == world.user_id("ann")
        assert await orgs.admin_count(world.globex.id) == 1
