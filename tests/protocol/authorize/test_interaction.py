"""prompt, max_age, id_token_hint, login_hint, consent memory and denial."""

from __future__ import annotations

from tests.helpers import REDIRECT, Browser, add_client, jwt_claims, query_of, services_of


async def test_prompt_none_without_a_session_is_login_required(rp):
    browser = Browser(rp.app.test_client())
    response = await browser.authorize(**rp.params(prompt="none"))
    assert query_of(response.headers["Location"])["error"] == "login_required"


async def test_prompt_none_with_a_session_and_consent_issues_a_code(rp):
    assert await rp.code(prompt="none")


async def test_prompt_none_without_consent_is_consent_required(rp):
    reg = await add_client(services_of(rp.app), name="Other")
    response = await rp.browser.authorize(**rp.params(client_id=reg.client.id, prompt="none"))
    assert query_of(response.headers["Location"])["error"] == "consent_required"


async def test_prompt_login_forces_a_new_login_even_with_a_session(rp):
    response = await rp.browser.authorize(**rp.params(prompt="login"))
    assert response.headers["Location"].startswith("/login?ticket=")
    response = await rp.browser.follow(await rp.browser.login(response))
    assert "code" in query_of(response.headers["Location"])


async def test_max_age_zero_forces_a_new_login(rp):
    response = await rp.browser.authorize(**rp.params(max_age="0"))
    assert response.headers["Location"].startswith("/login?ticket=")


async def test_a_large_max_age_reuses_the_session_and_reports_auth_time(rp):
    tokens = await rp.tokens(max_age="10000")
    assert "auth_time" in jwt_claims(tokens["id_token"])


async def test_prompt_consent_shows_the_consent_page_again(rp):
    response = await rp.browser.authorize(**rp.params(prompt="consent"))
    assert response.headers["Location"].startswith("/consent?ticket=")


async def test_denied_consent_returns_access_denied(rp):
    reg = await add_client(services_of(rp.app), name="Other")
    response = await rp.browser.authorize(**rp.params(client_id=reg.client.id))
    response = await rp.browser.follow(await rp.browser.consent(response, decision="deny"))
    query = query_of(response.headers["Location"])
    assert query["error"] == "access_denied" and query["state"] == "xyz"


async def test_first_party_clients_skip_consent(rp):
    reg = await add_client(services_of(rp.app), name="Own app", first_party=True)
    response = await rp.browser.follow(
        await rp.browser.authorize(**rp.params(client_id=reg.client.id))
    )
    assert "code" in query_of(response.headers["Location"])


async def test_login_hint_prefills_the_username(rp):
    browser = Browser(rp.app.test_client())
    response = await browser.follow(await browser.authorize(**rp.params(login_hint="alice")))
    assert 'value="alice"' in await response.get_data(as_text=True)


async def test_id_token_hint_for_the_signed_in_user_needs_no_login(rp):
    tokens = await rp.tokens()
    response = await rp.browser.authorize(
        **rp.params(prompt="none", id_token_hint=tokens["id_token"])
    )
    assert "code" in query_of(response.headers["Location"])


async def test_a_ticket_cannot_be_completed_twice(rp):
    reg = await add_client(services_of(rp.app), name="Other")
    response = await rp.browser.authorize(**rp.params(client_id=reg.client.id))
    consent = await rp.browser.consent(response)
    first = await rp.browser.follow(consent)
    assert first.headers["Location"].startswith(REDIRECT)
    again = await rp.browser.client.get(consent.headers["Location"])
    assert again.status_code == 400


async def test_wrong_password_and_unknown_user_get_the_same_answer(rp):
    browser = Browser(rp.app.test_client())
    start = await browser.authorize(**rp.params())
    wrong = await browser.login(start, password="Wrong-pass-1")
    unknown = await browser.login(await browser.authorize(**rp.params()), username="mallory")
    assert wrong.status_code == unknown.status_code == 400
    text_wrong = await wrong.get_data(as_text=True)
    assert "The username or password is incorrect." in text_wrong
    assert "The username or password is incorrect." in await unknown.get_data(as_text=True)


async def test_login_changes_the_session_id(rp):
    before = rp.browser.client.cookie_jar
    old = {c.name: c.value for c in before}.get("portico_session")
    response = await rp.browser.authorize(**rp.params(prompt="login"))
    await rp.browser.login(response)
    new = {c.name: c.value for c in rp.browser.client.cookie_jar}.get("portico_session")
    assert old and new and old != new


async def test_select_account_offers_to_continue_as_the_signed_in_user(rp):
    import re

    from tests.helpers import csrf_of

    response = await rp.browser.authorize(**rp.params(prompt="select_account"))
    assert response.headers["Location"].startswith("/login?ticket=")
    page = await rp.browser.follow(response)
    html = await page.get_data(as_text=True)
    assert "Continue as alice" in html
    ticket = re.search(r'name="ticket" value="([^"]*)"', html).group(1)
    chosen = await rp.browser.client.post("/login", form={
        "csrf_token": csrf_of(html), "ticket": ticket, "action": "continue"})
    final = await rp.browser.follow(chosen)
    assert "code" in query_of(final.headers["Location"])


async def test_sign_ins_and_failures_are_audited_without_secrets(rp):
    from portico.storage.repositories.audit import AuditLog

    browser = Browser(rp.app.test_client())
    await browser.login(await browser.authorize(**rp.params()), password="Wrong-pass-9")
    async with services_of(rp.app).db.session() as session:
        events = await AuditLog(session).recent(limit=20)
    actions = [e.action for e in events]
    assert "login.succeeded" in actions and "login.failed" in actions
    assert "consent.granted" in actions
    assert "Wrong-pass-9" not in repr([e.details for e in events])


async def test_audit_events_carry_the_actors_organization(rp):
    from portico.storage.repositories.audit import AuditLog

    async with services_of(rp.app).db.session() as session:
        events = await AuditLog(session).recent(limit=20, action="login.succeeded")
    assert events and all(e.org_id for e in events)


async def test_consent_links_the_pages_an_application_registered_about_itself(rp):
    reg = await add_client(services_of(rp.app), name="Other", metadata={"extra_metadata": {
        "client_uri": "https://other.example/", "policy_uri": "https://other.example/privacy",
        "tos_uri": "http://127.0.0.1:9/tos"}})
    response = await rp.browser.authorize(**rp.params(client_id=reg.client.id))
    page = await rp.browser.client.get(response.headers["Location"])
    html = await page.get_data(as_text=True)
    assert 'href="https://other.example/"' in html and ">Website</a>" in html
    assert 'href="https://other.example/privacy"' in html
    # Only https links: registration refuses script URLs; plain http is not linked either.
    assert "127.0.0.1:9/tos" not in html and "Terms of service" not in html
