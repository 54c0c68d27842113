"""/authorize errors: a page when the redirect target is untrusted, else a redirect
with the exact registered error code, the state and RFC 9207 iss."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from tests.helpers import REDIRECT, query_of


async def _get(rp, **params):
    return await rp.app.test_client().get("/authorize?" + urlencode(params))


async def test_unknown_client_gets_an_error_page_not_a_redirect(rp):
    response = await _get(rp, **rp.params(client_id="nope"))
    assert response.status_code == 400
    assert "The client is not known to this server." in await response.get_data(as_text=True)
    assert "Location" not in response.headers


async def test_unregistered_redirect_uri_gets_an_error_page(rp):
    response = await _get(rp, **rp.params(redirect_uri="https://evil.example/cb"))
    assert response.status_code == 400
    body = await response.get_data(as_text=True)
    assert "The redirect_uri is not registered for this client." in body


async def test_redirect_uri_match_is_exact(rp):
    response = await _get(rp, **rp.params(redirect_uri=REDIRECT + "/"))
    assert response.status_code == 400 and "Location" not in response.headers


async def test_missing_redirect_uri_with_openid_gets_a_page(rp):
    response = await _get(rp, **rp.params(redirect_uri=None))
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("overrides", "error", "description"),
    [
        ({"response_type": None}, "invalid_request", "The response_type parameter is missing."),
        (
            {"response_type": "code code_id"},
            "unsupported_response_type",
            "The response_type is not supported.",
        ),
        (
            {"scope": "nonsense"},
            "invalid_scope",
            "The requested scope is empty or not allowed for this client.",
        ),
        (
            {"prompt": "none login"},
            "invalid_request",
            "The prompt value none must not be combined with others.",
        ),
        (
            {"prompt": "sometimes"},
            "invalid_request",
            "The prompt parameter has an unsupported value.",
        ),
        (
            {"max_age": "-1"},
            "invalid_request",
            "The max_age parameter must be a non-negative integer.",
        ),
        (
            {"max_age": "soon"},
            "invalid_request",
            "The max_age parameter must be a non-negative integer.",
        ),
        ({"claims": "{not json"}, "invalid_request", "The claims parameter is not valid JSON."),
        ({"claims": "[]"}, "invalid_request", "The claims parameter must be a JSON object."),
        (
            {"claims": '{"userinfo": 5}'},
            "invalid_request",
            "The claims parameter member userinfo is malformed.",
        ),
        (
            {"id_token_hint": "abc.def.ghi"},
            "invalid_request",
            "The id_token_hint is not a valid ID token from this issuer.",
        ),
        (
            {"response_mode": "web_message"},
            "invalid_request",
            "The response_mode is not supported.",
        ),
        ({"nonce": "n" * 501}, "invalid_request", "The nonce parameter is too long."),
    ],
)
async def test_bad_parameters_are_redirected_with_the_exact_error(
    rp, overrides, error, description
):
    response = await _get(rp, **rp.params(**overrides))
    assert response.status_code == 302, await response.get_data(as_text=True)
    location = response.headers["Location"]
    assert location.startswith(REDIRECT + "?")
    query = query_of(location)
    assert query == {
        "error": error,
        "error_description": description,
        "state": "xyz",
        "iss": "http://127.0.0.1:8000",
    }


@pytest.mark.parametrize(
    ("response_type", "error", "description"),
    [
        ("token", "unsupported_response_type", "The response_type is not supported."),
        (
            "code id_token",
            "unauthorized_client",
            "The client has not registered this response_type.",
        ),
    ],
)
async def test_errors_for_token_response_types_go_in_the_fragment(
    rp, response_type, error, description
):
    # OAuth 2.0 Multiple Response Types §5: fragment is their default response mode.
    response = await _get(rp, **rp.params(response_type=response_type))
    location = response.headers["Location"]
    assert location.startswith(REDIRECT + "#")
    assert query_of(location) == {
        "error": error,
        "error_description": description,
        "state": "xyz",
        "iss": "http://127.0.0.1:8000",
    }


async def test_a_repeated_parameter_is_refused(rp):
    query = urlencode(rp.params()) + "&scope=openid"
    response = await rp.app.test_client().get("/authorize?" + query)
    assert query_of(response.headers["Location"])["error_description"] == (
        "The scope parameter was included more than once."
    )


async def test_a_repeated_client_id_gets_a_page(rp):
    query = urlencode(rp.params()) + "&client_id=other"
    response = await rp.app.test_client().get("/authorize?" + query)
    assert response.status_code == 400 and "Location" not in response.headers


async def test_unknown_parameters_are_ignored(rp):
    code = await rp.code(unknown_thing="whatever", display="popup")
    assert code


async def test_errors_follow_the_requested_response_mode(rp):
    response = await _get(rp, **rp.params(response_type="token", response_mode="fragment"))
    assert response.headers["Location"].startswith(REDIRECT + "#error=unsupported_response_type")


async def test_form_post_errors_are_posted(rp):
    response = await _get(rp, **rp.params(response_type="token", response_mode="form_post"))
    html = await response.get_data(as_text=True)
    assert response.status_code == 200
    assert f'action="{REDIRECT}"' in html
    assert 'name="error" value="unsupported_response_type"' in html


async def test_oversized_values_are_refused_without_a_500(rp):
    response = await _get(rp, **rp.params(state="s" * 5000))
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        assert query_of(response.headers["Location"])["error"] == "invalid_request"


async def test_post_is_accepted_like_get(rp):
    response = await rp.app.test_client().post(
        "/authorize", form=rp.params(), headers={"Cookie": ""}
    )
    assert response.status_code in (302, 303)
