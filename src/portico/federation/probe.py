"""Provider tests: the checks an admin runs before trusting a configuration, each
reported on its own line (``ok`` true, false, or null when it cannot be told).

Client credentials are checked the only way the token endpoint allows without a real
sign-in: redeeming a made-up code. ``invalid_client`` means the credentials were
refused; ``invalid_grant`` means they were accepted and only the code was wrong.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx2

from portico.federation.base import Check, ProviderConfig, UpstreamError
from portico.federation.upstream_http import translate

if TYPE_CHECKING:
    from portico.federation.kinds.oauth2 import OAuth2Connector
    from portico.federation.kinds.oidc import OIDCConnector

PROBE_CODE = "portico-provider-test"


def _client(config: ProviderConfig) -> httpx2.AsyncClient:
    return httpx2.AsyncClient(timeout=min(config.timeout, 10.0), follow_redirects=False)


async def _reachable(client: httpx2.AsyncClient, name: str, url: str, method: str = "GET"
                     ) -> Check:
    try:
        response = await client.request(method, url)
    except httpx2.HTTPError as exc:
        return Check(name, False, translate(exc, url).message)
    ok = response.status_code < 500
    return Check(name, ok, f"HTTP {response.status_code} from {url}")


async def _credentials(client: httpx2.AsyncClient, config: ProviderConfig, token_url: str,
                       redirect_uri: str, method: str) -> Check:
    if not config.client_secret:
        return Check("client_credentials", None, "No client secret is set; not checked.")
    data = {"grant_type": "authorization_code", "code": PROBE_CODE,
            "redirect_uri": redirect_uri}
    kwargs: dict[str, Any] = {"headers": {"Accept": "application/json"}}
    if method == "client_secret_post":
        data.update(client_id=config.client_id, client_secret=config.client_secret)
    else:
        kwargs["auth"] = (config.client_id, config.client_secret)
    try:
        response = await client.post(token_url, data=data, **kwargs)
        body = response.json() if response.content else {}
    except (httpx2.HTTPError, ValueError) as exc:
        return Check("client_credentials", None,
                     f"The token endpoint could not be asked ({type(exc).__name__}).")
    error = body.get("error") if isinstance(body, dict) else None
    if error == "invalid_client" or response.status_code == 401:
        return Check("client_credentials", False, "The client id or secret was refused.")
    if error in ("invalid_grant", "bad_verification_code", "invalid_request"):
        return Check("client_credentials", True,
                     "The credentials were accepted (only the test code was refused).")
    return Check("client_credentials", None,
                 f"The answer does not tell (HTTP {response.status_code}).")


async def probe_oidc(connector: OIDCConnector, redirect_uri: str = "") -> list[Check]:
    """Discovery, issuer, JWKS, algorithms, endpoints, client credentials."""
    from portico.federation.kinds.oidc import ALLOWED_ALGS

    config = connector.config
    checks: list[Check] = []
    try:
        md = await connector.app.load_server_metadata()
    except Exception as exc:  # noqa: BLE001 - reported, not raised
        return [Check("discovery", False, translate(exc, connector.issuer).message)]
    checks.append(Check("discovery", True, f"Read {connector.issuer}"
                                           "/.well-known/openid-configuration"))
    issuer = md.get("issuer")
    checks.append(Check("issuer", isinstance(issuer, str) and connector.issuer_matches(issuer),
                        f"The document names the issuer {str(issuer)[:200]}"))
    advertised = md.get("id_token_signing_alg_values_supported") or ["RS256"]
    accepted = [a for a in advertised if a in ALLOWED_ALGS]
    checks.append(Check("algorithms", bool(accepted),
                        "Accepted: " + (", ".join(accepted) or "none of the advertised "
                                        + ", ".join(map(str, advertised)))))
    try:
        jwks = await connector.app.fetch_jwk_set(force=True)
        keys = jwks.get("keys") if isinstance(jwks, dict) else None
        private = any(isinstance(k, dict) and "d" in k for k in keys or [])
        checks.append(Check("jwks", bool(keys) and not private,
                            "The JWKS publishes private key material!" if private
                            else f"{len(keys or [])} signing key(s) published"))
    except Exception as exc:  # noqa: BLE001
        checks.append(Check("jwks", False, translate(exc, "the JWKS").message))
    async with _client(config) as client:
        for name in ("authorization_endpoint", "userinfo_endpoint"):
            if isinstance(md.get(name), str):
                checks.append(await _reachable(client, name, md[name]))
        token_url = md.get("token_endpoint")
        if not isinstance(token_url, str):
            checks.append(Check("token_endpoint", False, "The document has no token endpoint."))
            return checks
        checks.append(await _reachable(client, "token_endpoint", token_url, "POST"))
        methods = md.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        method = "client_secret_basic" if "client_secret_basic" in methods \
            else "client_secret_post"
        checks.append(await _credentials(client, config, token_url, redirect_uri, method))
    return checks


async def probe_oauth2(connector: OAuth2Connector, redirect_uri: str = "") -> list[Check]:
    """Endpoints reachable and client credentials, for a plain OAuth 2.0 provider."""
    config = connector.config
    authorize, token_url, userinfo = connector.endpoints()
    checks: list[Check] = []
    async with _client(config) as client:
        checks.append(await _reachable(client, "authorization_endpoint", authorize))
        checks.append(await _reachable(client, "token_endpoint", token_url, "POST"))
        checks.append(await _reachable(client, "userinfo_endpoint", userinfo))
        method = config.options.get("token_endpoint_auth_method", "client_secret_basic")
        checks.append(await _credentials(client, config, token_url, redirect_uri, method))
    return checks


async def run_probe(connector: Any, redirect_uri: str) -> list[Check]:
    """Every check the connector's kind supports; a kind without any says so."""
    probe = getattr(connector, "probe", None)
    if probe is None:
        return [Check("probe", None, "This kind of provider cannot be tested.")]
    try:
        return list(await probe(redirect_uri))
    except UpstreamError as exc:
        return [Check("probe", False, exc.message)]
