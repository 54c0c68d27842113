"""Expired device authorizations are purged by the maintenance pass; live ones stay."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from tests.helpers import services_of

from portico.storage import maintenance
from portico.storage.models import DeviceAuthorization
from portico.storage.models.base import utcnow


async def test_a_pass_removes_expired_device_authorizations_only(world):
    live = await world.started()
    expired = await world.started()
    decided = await world.started()
    await world.approved(decided["user_code"])
    for started in (expired, decided):
        await world.change(started["user_code"], expires_at=utcnow() - timedelta(seconds=1))

    counts = await maintenance.purge(services_of(world.app).db)

    assert counts["device_authorizations"] == 2
    async with services_of(world.app).db.session() as session:
        left = set((await session.execute(select(DeviceAuthorization.user_code))).scalars())
    assert left == {live["user_code"].replace("-", "")}
    # The purged code is simply unknown now.
    response = await world.poll(expired["device_code"])
    assert (await response.get_json())["error"] == "invalid_grant"
