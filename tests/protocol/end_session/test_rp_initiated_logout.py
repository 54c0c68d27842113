"""RP-Initiated Logout 1.0, requirement by requirement (§2 parameters and
confirmation, §3 redirection)."""

from __future__ import annotations

import re
import time
from urllib.parse import urlencode

from tests.helpers import Browser, add_client, csrf_of, jwt_claims, query_of, services_of

from portico.protocol import tokens as minting

BYE = "https://rp.example/bye"


async def signed_out(rp) -> bool:
    again = await rp.browser.authorize(**rp.params(prompt="none"))
    return query_of(again.headers["Location"]).get("error") == "login_required"


async def get(rp, **query: str):
    return await rp.browser.client.get("/end_session?" + urlencode(query))


async def test_a_form_post_works_like_a_get(rp):
    tokens = await rp.tokens()
    response = await rp.browser.client.post("/end_session", form={
        "id_token_hint": tokens["id_token"], "post_logout_redirect_uri": BYE, "state": "p"})
    assert response.status_code == 303 and response.headers["Location"] == f"{BYE}?state=p"
    assert await signed_out(rp)


async def test_an_expired_hint_is_still_a_hint(rp):
    """§2: the OP SHOULD accept ID Tokens "even when the exp time has passed"."""
    claims = jwt_claims((await rp.tokens())["id_token"])
    claims.update(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)
    keys = await services_of(rp.app).keys.load()
    expired = minting.sign(keys, "RS256", claims)
    response = await get(rp, id_token_hint=expired, post_logout_redirect_uri=BYE)
    assert response.status_code == 302 and response.headers["Location"] == BYE
    assert await signed_out(rp)


async def test_client_id_must_match_the_hint(rp):
    tokens = await rp.tokens()
    other = await add_client(services_of(rp.app), name="Other")
    response = await get(rp, id_token_hint=tokens["id_token"], client_id=other.client.id,
                         post_logout_redirect_uri=BYE)
    assert response.status_code == 400
    assert "client_id does not match" in await response.get_data(as_text=True)
    ok = await get(rp, id_token_hint=tokens["id_token"], client_id=rp.client_id,
                   post_logout_redirect_uri=BYE, state="x")
    assert ok.headers["Location"] == f"{BYE}?state=x"


async def test_hints_portico_did_not_issue_as_id_tokens_never_redirect(rp):
    tokens = await rp.tokens()
    header, payload, _ = tokens["id_token"].split(".")
    alg_none = "eyJhbGciOiJub25lIn0." + payload + "."
    for hint in (alg_none, tokens["access_token"], header + "." + payload + ".AAAA"):
        response = await get(rp, id_token_hint=hint, post_logout_redirect_uri=BYE)
        assert response.status_code == 400 and "Location" not in response.headers
        assert "valid id_token_hint" in await response.get_data(as_text=True)
    assert not await signed_out(rp)


async def test_a_hint_from_an_earlier_session_asks_first(rp):
    """§2: the OP MUST ask when the hint "does not belong to the current OP session"."""
    old = await rp.tokens()
    await rp.browser.client.post("/logout", form={
        "csrf_token": csrf_of(await (await rp.browser.client.get("/logout")).get_data(
            as_text=True))})
    await rp.browser.follow(await rp.browser.login(await rp.browser.authorize(**rp.params())))
    response = await get(rp, id_token_hint=old["id_token"], post_logout_redirect_uri=BYE)
    assert response.status_code == 200
    assert "Sign out?" in await response.get_data(as_text=True)
    assert not await signed_out(rp)


async def test_a_logout_hint_naming_someone_else_asks_first(rp):
    tokens = await rp.tokens()
    response = await get(rp, id_token_hint=tokens["id_token"], logout_hint="bob@example.org",
                         post_logout_redirect_uri=BYE)
    assert response.status_code == 200 and "Sign out?" in await response.get_data(as_text=True)
    same = await get(rp, id_token_hint=tokens["id_token"], logout_hint="ALICE@example.org",
                     post_logout_redirect_uri=BYE)
    assert same.status_code == 302


async def test_client_id_alone_asks_then_redirects_with_state(rp):
    response = await get(rp, client_id=rp.client_id, post_logout_redirect_uri=BYE,
                         state="s 1", ui_locales="fr en")
    html = await response.get_data(as_text=True)
    assert response.status_code == 200 and "leaving Test RP" in html
    carried = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html))
    assert carried["ui_locales"] == "fr en" and carried["state"] == "s 1"
    confirmed = await rp.browser.client.post("/end_session", form=carried)
    assert confirmed.status_code == 303
    assert confirmed.headers["Location"] == f"{BYE}?state=s+1"
    assert await signed_out(rp)


async def test_state_is_appended_to_a_registered_query(rp):
    svc = services_of(rp.app)
    reg = await add_client(svc, name="Q", post_logout_redirect_uris=[BYE + "?from=op"])
    browser = Browser(rp.app.test_client())  # not signed in: nothing to confirm
    keys = await svc.keys.load()
    hint = minting.sign(keys, "RS256", {"iss": "http://127.0.0.1:8000", "aud": reg.client.id,
                                        "sub": "someone", "iat": 1, "exp": 2})
    response = await browser.client.get("/end_session?" + urlencode(
        {"id_token_hint": hint, "post_logout_redirect_uri": BYE + "?from=op", "state": "z"}))
    assert response.headers["Location"] == f"{BYE}?from=op&state=z"
    without_state = await browser.client.get("/end_session?" + urlencode(
        {"id_token_hint": hint, "post_logout_redirect_uri": BYE + "?from=op"}))
    assert without_state.headers["Location"] == BYE + "?from=op"


async def test_the_redirect_uri_must_match_exactly(rp):
    tokens = await rp.tokens()
    for near in (BYE + "/", BYE.upper(), BYE + "?x=1", "https://rp.example/by"):
        response = await get(rp, id_token_hint=tokens["id_token"], post_logout_redirect_uri=near)
        assert response.status_code == 400, near
    assert not await signed_out(rp)
