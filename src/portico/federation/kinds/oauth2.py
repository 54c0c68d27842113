"""A plain OAuth 2.0 provider: authorization, token and userinfo URLs plus claim paths.

There is no ID token, so who the person is comes from the userinfo URL, read with the
access token just obtained over TLS from the token endpoint. The claim mapping must
name the stable ``subject`` (``id`` for most APIs).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict

from portico.federation.base import (
    Check,
    FlowSecrets,
    LoginHints,
    ProviderConfig,
    UpstreamError,
    UpstreamResult,
)
from portico.federation.kinds import Kind, register
from portico.federation.kinds.oidc import upstream_error_page
from portico.federation.upstream_http import OAuth2App, client_kwargs, translate


class OAuth2Options(BaseModel):
    """The endpoints of a generic OAuth 2.0 provider."""

    model_config = ConfigDict(extra="forbid")

    authorization_endpoint: AnyHttpUrl
    token_endpoint: AnyHttpUrl
    userinfo_endpoint: AnyHttpUrl
    token_endpoint_auth_method: Literal["client_secret_basic", "client_secret_post"] = (
        "client_secret_basic")

    def model_dump(self, **kw: Any) -> dict[str, Any]:  # type: ignore[override]
        data = super().model_dump(**kw)
        return {k: str(v) if k.endswith("_endpoint") else v for k, v in data.items()}


class OAuth2Connector:
    """Generic OAuth 2.0 with PKCE; GitHub subclasses it."""

    def __init__(self, config: ProviderConfig) -> None:
        self.config = config
        authorize, token, self.userinfo_url = self.endpoints()
        self.app = OAuth2App(
            framework=None,
            name=config.slug,
            client_id=config.client_id,
            client_secret=config.client_secret,
            authorize_url=authorize,
            access_token_url=token,
            client_kwargs=client_kwargs(
                config, token_endpoint_auth_method=config.options.get(
                    "token_endpoint_auth_method", "client_secret_basic"),
                headers={"Accept": "application/json"}),
        )

    def endpoints(self) -> tuple[str, str, str]:
        """(authorization, token, userinfo) URLs."""
        o = self.config.options
        return o["authorization_endpoint"], o["token_endpoint"], o["userinfo_endpoint"]

    async def enrich(self, token: Mapping[str, Any], claims: dict[str, Any]) -> dict[str, Any]:
        """Kind-specific extra look-ups after userinfo (GitHub's email list)."""
        return claims

    async def authorization_url(self, redirect_uri: str, flow: FlowSecrets,
                                hints: LoginHints) -> str:
        extra: dict[str, Any] = {}
        if hints.login_hint:
            extra["login_hint"] = hints.login_hint
        try:
            made = await self.app.create_authorization_url(
                redirect_uri, state=flow.state, code_verifier=flow.code_verifier, **extra)
        except Exception as exc:  # noqa: BLE001 - every failure becomes an UpstreamError
            raise translate(exc, self.config.display_name) from None
        return str(made["url"])

    async def complete(self, redirect_uri: str, flow: FlowSecrets,
                       params: Mapping[str, str]) -> UpstreamResult:
        name = self.config.display_name
        if "error" in params:
            raise upstream_error_page(name, params)
        code = params.get("code")
        if not code or len(code) > 4096:
            raise UpstreamError("bad_callback", f"{name} sent no authorization code.")
        try:
            token = await self.app.fetch_access_token(
                redirect_uri, code=code, code_verifier=flow.code_verifier)
            if not token.get("access_token"):
                raise UpstreamError("token_error", f"{name} sent no access token.")
            response = await self.app.get(self.userinfo_url, token=token)
            response.raise_for_status()
            claims = response.json()
            if not isinstance(claims, dict):
                raise UpstreamError("bad_response",
                                    f"{name} sent an answer Portico cannot use.")
            claims = await self.enrich(token, claims)
        except Exception as exc:  # noqa: BLE001
            raise translate(exc, name) from None
        return UpstreamResult(claims=claims)

    async def probe(self, redirect_uri: str = "") -> list[Check]:
        from portico.federation.probe import probe_oauth2

        return await probe_oauth2(self, redirect_uri)


KIND = register(Kind(
    name="oauth2",
    title="OAuth 2.0",
    description="A provider that speaks plain OAuth 2.0: give its authorization, token and "
    "userinfo URLs, and map the userinfo answer's fields (subject is required).",
    factory=OAuth2Connector,
    options_model=OAuth2Options,
    issuer="unused",
    default_scopes=(),
    default_mapping={"subject": "id", "username": "login", "email": "email",
                     "email_verified": "email_verified", "name": "name"},
))
