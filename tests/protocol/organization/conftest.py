"""A member of two organizations, an organization she is not in, and a client she has
consented to, on every supported database (PostgreSQL when configured).

    ann    owner and admin of ``acme`` (her first membership), member of ``globex``
    bob    owner and admin of ``globex``
    cat    owner and admin of ``initech`` (ann is not a member)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import delete, select
from tests.conftest import on_database
from tests.helpers import REDIRECT, Browser, add_client, add_user, jwt_claims, pkce, services_of
from tests.protocol.conftest import RP

from portico.settings import Settings
from portico.storage.models import Membership, Organization, Session
from portico.storage.repositories.users import Organizations

ALL_SCOPES = "openid profile email organization offline_access"


@pytest.fixture
def settings(settings: Settings, keyed_database_url: str) -> Settings:
    """The usual settings, on SQLite or on PostgreSQL (each copied from a template)."""
    return on_database(settings, keyed_database_url)


@dataclass
class OrgWorld:
    """ann's relying party, her organizations, and ways to look behind the scenes."""

    rp: RP
    ann: Any
    acme: Organization
    globex: Organization
    initech: Organization

    @property
    def app(self) -> Any:
        return self.rp.app

    async def userinfo(self, access_token: str) -> dict[str, Any]:
        response = await self.app.test_client().get(
            "/userinfo", headers={"Authorization": f"Bearer {access_token}"}
        )
        body = await response.get_json()
        assert response.status_code == 200, body
        return body

    async def active_org_ids(self) -> set[str | None]:
        """The active organization of each of ann's live sessions."""
        async with services_of(self.app).db.session() as session:
            rows = await session.execute(
                select(Session.active_org_id).where(
                    Session.user_id == self.ann.id, Session.revoked_at.is_(None)
                )
            )
            return set(rows.scalars())

    async def leave(self, org: Organization) -> None:
        """Remove ann from ``org`` (as an admin would)."""
        async with services_of(self.app).db.session() as session:
            await session.execute(
                delete(Membership).where(
                    Membership.user_id == self.ann.id, Membership.org_id == org.id
                )
            )


def org_claims(token: str) -> tuple[Any, Any]:
    claims = jwt_claims(token)
    return claims.get("org"), claims.get("roles")


def as_claim(org: Organization) -> dict[str, str]:
    return {"id": org.id, "slug": org.slug, "name": org.name}


@pytest.fixture
async def world(app: Any) -> OrgWorld:
    svc = services_of(app)
    ann = await add_user(svc, "ann", new_org_name="Acme", email_verified=True)
    bob = await add_user(svc, "bob", new_org_name="Globex")
    await add_user(svc, "cat", new_org_name="Initech")
    async with svc.db.session() as session:
        repo = Organizations(session)
        orgs = {slug: await repo.by_slug(slug) for slug in ("acme", "globex", "initech")}
        assert all(orgs.values()) and bob
        await repo.add_member(orgs["globex"], ann, "member")
        for org in orgs.values():
            session.expunge(org)
    reg = await add_client(svc, first_party=False)
    browser = Browser(app.test_client())
    _, challenge = pkce()
    response = await browser.authorize(
        client_id=reg.client.id,
        redirect_uri=REDIRECT,
        response_type="code",
        scope=ALL_SCOPES,
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    response = await browser.consent(await browser.login(response, username="ann"))
    await browser.follow(response)
    rp = RP(app, reg.client.id, reg.secret, browser)
    return OrgWorld(rp, ann, orgs["acme"], orgs["globex"], orgs["initech"])
