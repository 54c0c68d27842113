"""The resource-indicator rules on their own (RFC 8707 §2)."""

from __future__ import annotations

import pytest
from tests.conftest import make_settings

from portico.protocol.resources import InvalidTarget, from_parameter, narrowed, requested

ORDERS = "https://api.example.com/orders"
MCP = "https://mcp.example.net/mcp"


def test_resources_come_from_repeated_parameters_or_a_request_object_array():
    assert from_parameter(None, []) == []
    assert from_parameter(ORDERS, [ORDERS, MCP]) == [ORDERS, MCP]
    # A request object's array was merged into the first value as JSON (OIDC Core §6.3.3).
    assert from_parameter(f'["{ORDERS}", "{MCP}"]', [MCP]) == [ORDERS, MCP]
    assert from_parameter(MCP, []) == [MCP]
    with pytest.raises(InvalidTarget):
        from_parameter('["not closed', [])


def test_only_known_resources_pass(tmp_path):
    settings = make_settings("sqlite+aiosqlite:///x.db", tmp_path,
                             resources=["https://api.example.com/", MCP])
    assert requested([], settings) is None
    assert requested([ORDERS, ORDERS, MCP], settings) == [ORDERS, MCP]
    assert requested(["http://127.0.0.1:8000"], settings) == ["http://127.0.0.1:8000"]
    for bad in (MCP + "/more", "https://api.example.com", "urn:x:y", "https://a b/"):
        with pytest.raises(InvalidTarget):
            requested([bad], settings)


def test_a_token_request_may_only_narrow():
    assert narrowed(None, [ORDERS]) == [ORDERS]
    assert narrowed([MCP], None) == [MCP]
    with pytest.raises(InvalidTarget):
        narrowed([MCP], [ORDERS])


def test_settings_refuse_a_resource_with_a_fragment(tmp_path):
    with pytest.raises(ValueError, match="fragment"):
        make_settings("sqlite+aiosqlite:///x.db", tmp_path, resources=["https://a.example/#x"])
