"""A person who joined through an upstream provider sets a first password on
/account/password, but only soon after signing in."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update
from tests.helpers import Browser
from tests.web.conftest import Person, text_of

from portico.storage.models import AuditEvent, Session, User
from portico.storage.models.base import utcnow

NEW = "First-pass-42"


async def _drop_password(person: Person, *, signed_in_ago: timedelta = timedelta(0)) -> None:
    """Make ``person`` what federation creates: an account with no password."""
    async with person.svc.db.session() as session:
        await session.execute(update(User).where(User.id == person.user.id)
                              .values(password_hash=None))
        await session.execute(update(Session).where(Session.user_id == person.user.id)
                              .values(auth_time=utcnow() - signed_in_ago))


async def test_a_recent_sign_in_sets_a_first_password_without_a_current_one(alice):
    await _drop_password(alice)
    html = await alice.html("/account/password")
    assert "Set a password" in html and 'name="current"' not in html
    response = await alice.submit("/account/password", new=NEW, repeat=NEW)
    assert response.status_code == 303
    fresh = Person(alice.app, alice.svc, None, Browser(alice.app.test_client()))
    assert (await fresh.sign_in(password=NEW)).headers["Location"] == "/"
    async with alice.svc.db.session() as session:
        actions = (await session.execute(select(AuditEvent.action))).scalars().all()
    assert "password.set" in actions
    # From now on it is an ordinary password: changing it needs it.
    assert 'name="current"' in await alice.html("/account/password")


async def test_an_old_sign_in_cannot_add_a_password(alice):
    await _drop_password(alice, signed_in_ago=timedelta(minutes=16))
    html = await alice.html("/account/password")
    assert "must follow a recent sign-in" in text_of(html)
    assert 'action="/account/password"' not in html
    # A hand-made post (the page offers no form) is refused too.
    response = await alice.submit("/account", action="/account/password", new=NEW, repeat=NEW)
    assert response.status_code == 400
    assert "Sign in again to set a password" in await response.get_data(as_text=True)
    async with alice.svc.db.session() as session:
        stored = (await session.execute(
            select(User.password_hash).where(User.id == alice.user.id))).scalar_one()
    assert stored is None


async def test_a_person_with_a_password_still_needs_the_current_one(alice):
    response = await alice.submit("/account/password", new=NEW, repeat=NEW)
    assert response.status_code == 400
    assert "Enter your current password." in await response.get_data(as_text=True)
