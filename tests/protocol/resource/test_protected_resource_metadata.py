"""Protected resource metadata (RFC 9728), over real HTTP: a client that meets a 401 at
UserInfo follows ``resource_metadata`` and finds the authorization server."""

from __future__ import annotations

import re

import httpx


def test_a_401_leads_to_the_metadata_and_on_to_the_authorization_server(live_server):
    base = live_server.url
    refused = httpx.get(f"{base}/userinfo", timeout=10)
    assert refused.status_code == 401
    challenges = refused.headers.get_list("WWW-Authenticate")
    assert [c.split(" ")[0] for c in challenges] == ["Bearer", "DPoP"]
    link = re.search(r'resource_metadata="([^"]+)"', challenges[0]).group(1)
    assert link == f"{base}/.well-known/oauth-protected-resource/userinfo"

    metadata = httpx.get(link, timeout=10).json()
    # RFC 9728 §3.3: the resource is exactly the URL the client called.
    assert metadata["resource"] == f"{base}/userinfo"
    assert metadata["authorization_servers"] == [base]
    assert metadata["bearer_methods_supported"] == ["header", "body"]
    assert "ES256" in metadata["dpop_signing_alg_values_supported"]
    assert metadata["dpop_bound_access_tokens_required"] is False
    assert "openid" in metadata["scopes_supported"]

    server = httpx.get(f"{metadata['authorization_servers'][0]}"
                       "/.well-known/oauth-authorization-server", timeout=10).json()
    assert server["issuer"] == base
    assert server["dpop_signing_alg_values_supported"] == (
        metadata["dpop_signing_alg_values_supported"])


def test_the_issuer_is_a_resource_too(live_server):
    metadata = httpx.get(f"{live_server.url}/.well-known/oauth-protected-resource",
                         timeout=10).json()
    assert metadata["resource"] == live_server.url
    assert metadata["bearer_methods_supported"] == ["header"]
    assert metadata["jwks_uri"] == f"{live_server.url}/jwks"
