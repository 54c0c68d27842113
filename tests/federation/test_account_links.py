"""/account/links: linking an upstream account while signed in, signing in with it
afterwards, and unlinking — never the last way in."""

from __future__ import annotations

import asyncio

from sqlalchemy import select
from tests.federation.conftest import PASSWORD, Upstream
from tests.federation.support import add_provider, local, round_trip, upstream_sign_in
from tests.helpers import Browser, add_user, csrf_of, services_of

from portico.storage.models import AuditEvent, FederatedIdentity, Session


async def _signed_in(app, username: str = "alice"):
    client = app.test_client()
    page = await client.get("/login")
    html = await page.get_data(as_text=True)
    answer = await Browser(client).client.post("/login", form={
        "csrf_token": csrf_of(html), "username": username, "password": "Correct-horse-1"})
    assert answer.status_code == 303
    return client


async def _link(app, client, upstream: Upstream, username: str = "uma"):
    page = await client.get("/account/links")
    html = await page.get_data(as_text=True)
    assert "Link Upstream ID" in html
    begun = await client.post("/account/links/start",
                              form={"csrf_token": csrf_of(html), "provider": "upstream"})
    assert begun.status_code == 303, await begun.get_data(as_text=True)
    callback = await asyncio.to_thread(upstream_sign_in, upstream.issuer,
                                       begun.headers["Location"], username, PASSWORD)
    return await client.get(local(callback))


async def _identities(app) -> list[FederatedIdentity]:
    async with services_of(app).db.session() as s:
        return list(await s.scalars(select(FederatedIdentity)))


async def test_link_then_sign_in_with_it_then_unlink(app, upstream: Upstream):
    alice = await add_user(services_of(app), "alice")
    await add_provider(app, upstream.provider())
    client = await _signed_in(app)
    done = await _link(app, client, upstream)
    assert done.headers["Location"] == "/account/links?done=linked"
    page = await (await client.get("/account/links?done=linked")).get_data(as_text=True)
    assert "The provider was linked" in page and "uma@upstream.example" in page
    assert [i.user_id for i in await _identities(app)] == [alice.id]

    again = await round_trip(app.test_client(), upstream.issuer,
                             "/api/v1/external-auth/upstream/start", "uma", PASSWORD)
    assert again.status_code == 303
    async with services_of(app).db.session() as s:
        newest = await s.scalar(select(Session).order_by(Session.created_at.desc()))
    assert newest.user_id == alice.id and newest.amr[0] == "fed"

    html = await (await client.get("/account/links")).get_data(as_text=True)
    identity = (await _identities(app))[0]
    gone = await client.post("/account/links/unlink", form={
        "csrf_token": csrf_of(html), "identity_id": identity.id})
    assert gone.headers["Location"] == "/account/links?done=unlinked"
    assert await _identities(app) == []
    async with services_of(app).db.session() as s:
        actions = [e.action for e in await s.scalars(select(AuditEvent).where(
            AuditEvent.action.like("federation.%")).order_by(AuditEvent.id))]
    assert actions == ["federation.linked", "federation.unlinked"]


async def test_the_last_way_in_cannot_be_unlinked(app, upstream: Upstream):
    await add_provider(app, upstream.provider())
    client = app.test_client()
    signed = await round_trip(client, upstream.issuer, "/api/v1/external-auth/upstream/start",
                              "uma", PASSWORD)
    assert signed.status_code == 303
    html = await (await client.get("/account/links")).get_data(as_text=True)
    identity = (await _identities(app))[0]
    refused = await client.post("/account/links/unlink", form={
        "csrf_token": csrf_of(html), "identity_id": identity.id})
    assert refused.status_code == 409
    assert "only way to sign in" in await refused.get_data(as_text=True)
    assert len(await _identities(app)) == 1


async def test_an_upstream_account_linked_to_someone_else_is_refused(app, upstream: Upstream):
    await add_user(services_of(app), "alice")
    await add_user(services_of(app), "bob")
    await add_provider(app, upstream.provider())
    assert (await _link(app, await _signed_in(app, "alice"), upstream)).status_code == 303
    refused = await _link(app, await _signed_in(app, "bob"), upstream)
    assert refused.status_code == 409
    assert "already linked to another account" in await refused.get_data(as_text=True)


async def test_linking_requires_a_signed_in_person_and_a_csrf_token(app, upstream: Upstream):
    await add_user(services_of(app), "alice")
    await add_provider(app, upstream.provider())
    anonymous = await app.test_client().get("/account/links")
    assert anonymous.status_code == 303 and "/login?next=" in anonymous.headers["Location"]
    client = await _signed_in(app)
    forged = await client.post("/account/links/start", form={"provider": "upstream"})
    assert forged.status_code == 403
