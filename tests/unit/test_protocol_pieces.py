"""Small protocol pieces: parameter parsing, errors, claims, redirect URIs, redaction."""

from __future__ import annotations

import pytest

from portico.audit.redact import redact
from portico.clients import check_redirect_uri
from portico.errors import ValidationFailed
from portico.protocol.authorize.respond import FormPost, RedirectTo, deliver
from portico.protocol.claims import parse_claims_parameter
from portico.protocol.errors import InvalidRequest, InvalidRequestPage, OAuthError
from portico.protocol.params import parse


def test_parse_keeps_first_values_and_notes_repeats_and_oversize():
    params = parse([("a", "1"), ("a", "2"), ("b", ""), ("c", "x" * 5000)])
    assert params.get("a") == "1" and params.repeated == {"a"}
    assert params.get("b") is None and params.oversized == {"c"}


def test_error_descriptions_are_restricted_to_the_rfc_charset():
    err = InvalidRequest('bad "value" \\ é\n')
    assert err.description == "bad ?value? ? ??"
    assert err.as_dict() == {"error": "invalid_request", "error_description": err.description}


def test_error_details_never_reach_the_repr():
    err = OAuthError("public", detail="secret-token-123")
    assert "secret-token-123" not in repr(err) and "secret-token-123" not in str(err)


def test_page_errors_are_not_redirectable():
    assert InvalidRequest.redirectable and not InvalidRequestPage.redirectable


def test_claims_parameter_accepts_objects_and_null_members():
    parsed = parse_claims_parameter('{"id_token": {"email": null, "acr": {"essential": true}}}')
    assert parsed == {"id_token": {"email": None, "acr": {"essential": True}}}
    assert parse_claims_parameter(None) is None
    with pytest.raises(InvalidRequest):
        parse_claims_parameter('{"id_token": {"email": 3}}')


def test_responses_go_where_the_response_mode_says():
    params = [("code", "c"), ("iss", "https://id.example")]
    assert deliver("https://rp.example/cb?x=1", "query", params) == RedirectTo(
        "https://rp.example/cb?x=1&code=c&iss=https%3A%2F%2Fid.example"
    )
    assert deliver("https://rp.example/cb", "fragment", params) == RedirectTo(
        "https://rp.example/cb#code=c&iss=https%3A%2F%2Fid.example"
    )
    assert deliver("https://rp.example/cb", "form_post", params) == FormPost(
        "https://rp.example/cb", params
    )


@pytest.mark.parametrize(
    "uri",
    [
        "https://rp.example/cb",
        "http://127.0.0.1:9000/cb",
        "http://localhost/cb",
        "com.example.app:/callback",
    ],
)
def test_acceptable_redirect_uris(uri):
    assert check_redirect_uri(uri) == uri


@pytest.mark.parametrize(
    "uri",
    [
        "http://rp.example/cb",
        "https://rp.example/cb#frag",
        "javascript:alert(1)",
        "/relative",
        "https:///nohost",
    ],
)
def test_refused_redirect_uris(uri):
    with pytest.raises(ValidationFailed):
        check_redirect_uri(uri)


def test_audit_details_are_redacted_recursively():
    clean = redact(
        {
            "password": "p",
            "client_secret": "s",
            "nested": {"refresh_token": "t"},
            "client_id": "keep",
            "username": "alice",
            "kid": "k1",
        }
    )
    assert clean == {
        "password": "[redacted]",
        "client_secret": "[redacted]",
        "nested": {"refresh_token": "[redacted]"},
        "client_id": "keep",
        "username": "alice",
        "kid": "k1",
    }
