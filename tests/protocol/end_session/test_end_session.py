"""RP-Initiated Logout 1.0."""

from __future__ import annotations

from urllib.parse import urlencode

from tests.helpers import query_of


async def test_a_valid_hint_signs_out_and_redirects_with_state(rp):
    tokens = await rp.tokens()
    response = await rp.browser.client.get(
        "/end_session?"
        + urlencode(
            {
                "id_token_hint": tokens["id_token"],
                "state": "bye1",
                "post_logout_redirect_uri": "https://rp.example/bye",
            }
        )
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "https://rp.example/bye?state=bye1"
    again = await rp.browser.authorize(**rp.params(prompt="none"))
    assert query_of(again.headers["Location"])["error"] == "login_required"


async def test_an_unregistered_post_logout_uri_gets_a_page(rp):
    tokens = await rp.tokens()
    response = await rp.browser.client.get(
        "/end_session?"
        + urlencode(
            {
                "id_token_hint": tokens["id_token"],
                "post_logout_redirect_uri": "https://evil.example",
            }
        )
    )
    assert response.status_code == 400 and "Location" not in response.headers


async def test_without_a_hint_the_person_is_asked_first(rp):
    response = await rp.browser.client.get("/end_session")
    assert response.status_code == 200
    assert "Sign out?" in await response.get_data(as_text=True)
    still = await rp.browser.authorize(**rp.params(prompt="none"))
    assert "code" in query_of(still.headers["Location"])


async def test_a_bad_hint_asks_and_never_redirects(rp):
    response = await rp.browser.client.get(
        "/end_session?"
        + urlencode(
            {"id_token_hint": "not.a.token", "post_logout_redirect_uri": "https://rp.example/bye"}
        )
    )
    assert response.status_code == 400 and "Location" not in response.headers
