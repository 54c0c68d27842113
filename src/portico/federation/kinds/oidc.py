"""Any OpenID Connect provider, found by issuer discovery.

The flow is the authorization code flow with PKCE (S256) and a nonce. The ID token
is validated by authlib against the upstream's JWKS (refetched once on an unknown
``kid``): signature, ``iss``, ``aud``, ``azp``, ``exp``, ``iat`` (60 s of skew),
``nonce`` and ``at_hash``. Only asymmetric algorithms the upstream advertises are
accepted: never ``none``, never HMAC (which a public key could be abused to forge).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from portico.federation.base import (
    Check,
    FlowSecrets,
    LoginHints,
    ProviderConfig,
    UpstreamError,
    UpstreamResult,
)
from portico.federation.kinds import Kind, register
from portico.federation.upstream_http import OpenIDApp, client_kwargs, translate

ALLOWED_ALGS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
                "ES256", "ES384", "ES512", "EdDSA")
ID_TOKEN_SKEW = 60
OIDC_MAPPING = {
    "subject": "sub",
    "username": "preferred_username",
    "email": "email",
    "email_verified": "email_verified",
    "name": {"template": "{given_name} {family_name}", "path": "name"},
    "given_name": "given_name",
    "family_name": "family_name",
    "picture": "picture",
    "locale": "locale",
}


class OIDCOptions(BaseModel):
    """Options of a generic OpenID Connect provider."""

    model_config = ConfigDict(extra="forbid")

    fetch_userinfo: bool = True
    """Also read the userinfo endpoint (many providers put email there only)."""


def upstream_error_page(provider: str, params: Mapping[str, str]) -> UpstreamError:
    """RFC 6749 §4.1.2.1: the upstream sent the browser back with an error."""
    code = (params.get("error") or "")[:40]
    if code in ("access_denied", "consent_required", "login_required"):
        return UpstreamError("upstream_denied",
                             f"The sign-in at {provider} was cancelled or refused.",
                             detail=f"error={code}")
    return UpstreamError("upstream_error", f"{provider} reported an error.",
                         detail=f"error={code}")


def auth_time_of(claims: Mapping[str, Any]) -> datetime | None:
    value = claims.get("auth_time")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    return None


class OIDCConnector:
    """Generic OIDC; the Google, Entra and GitLab kinds subclass it for their quirks."""

    def __init__(self, config: ProviderConfig) -> None:
        if not config.issuer:
            raise UpstreamError("misconfigured", f"{config.display_name} has no issuer.")
        self.config = config
        self.issuer = config.issuer.rstrip("/")
        self.app = OpenIDApp(
            framework=None,
            name=config.slug,
            client_id=config.client_id,
            client_secret=config.client_secret,
            server_metadata_url=f"{self.issuer}/.well-known/openid-configuration",
            client_kwargs=client_kwargs(config),
        )
        self._metadata: dict[str, Any] | None = None

    # --- quirks a kind may override --------------------------------------------------

    def issuer_matches(self, discovered: str) -> bool:
        """OIDC Discovery §4.3: the discovered issuer must be the configured one."""
        return discovered.rstrip("/") == self.issuer

    def check_id_claims(self, claims: Mapping[str, Any], metadata: Mapping[str, Any]) -> None:
        """Kind-specific checks after the standard ones (none for plain OIDC)."""

    def id_claims_options(self, metadata: Mapping[str, Any]) -> dict[str, Any]:
        return {"iss": {"essential": True, "values": [metadata["issuer"]]}}

    def authorize_extras(self) -> dict[str, str]:
        return {}

    # --- the flow --------------------------------------------------------------------

    async def metadata(self) -> dict[str, Any]:
        """The discovery document, checked once per opened connector."""
        if self._metadata is not None:
            return self._metadata
        name = self.config.display_name
        try:
            md = await self.app.load_server_metadata()
        except Exception as exc:  # noqa: BLE001 - every failure becomes an UpstreamError
            raise translate(exc, name) from None
        if not isinstance(md.get("issuer"), str) or not self.issuer_matches(md["issuer"]):
            self.app.server_metadata.clear()
            raise UpstreamError("issuer_mismatch",
                                f"{name} is not configured correctly (issuer mismatch).",
                                detail=f"discovery issuer {str(md.get('issuer'))[:200]}")
        missing = [k for k in ("authorization_endpoint", "token_endpoint", "jwks_uri")
                   if not isinstance(md.get(k), str)]
        if missing:
            self.app.server_metadata.clear()
            raise UpstreamError("bad_discovery", f"{name} is not configured correctly.",
                                detail="discovery lacks " + ", ".join(missing))
        advertised = md.get("id_token_signing_alg_values_supported") or ["RS256"]
        algs = [a for a in advertised if a in ALLOWED_ALGS]
        if not algs:
            raise UpstreamError("unsupported_alg",
                                f"{name} signs identity tokens in a way Portico does not accept.",
                                detail=f"advertised {advertised!r:.200}")
        md["id_token_signing_alg_values_supported"] = algs
        methods = md.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
        if "client_secret_basic" not in methods and "client_secret_post" in methods:
            self.app.client_kwargs["token_endpoint_auth_method"] = "client_secret_post"
        self._metadata = md
        return md

    async def authorization_url(self, redirect_uri: str, flow: FlowSecrets,
                                hints: LoginHints) -> str:
        md = await self.metadata()
        extra: dict[str, Any] = dict(self.authorize_extras())
        if hints.force_login:
            extra["prompt"] = "login"
            extra["max_age"] = 0
        elif hints.max_age is not None:
            extra["max_age"] = hints.max_age
        if hints.login_hint:
            extra["login_hint"] = hints.login_hint
        try:
            made = await self.app.create_authorization_url(
                redirect_uri, state=flow.state, nonce=flow.nonce,
                code_verifier=flow.code_verifier, **extra)
        except Exception as exc:  # noqa: BLE001
            raise translate(exc, self.config.display_name) from None
        assert md["authorization_endpoint"]
        return str(made["url"])

    def _check_callback(self, md: Mapping[str, Any], params: Mapping[str, str]) -> str:
        name = self.config.display_name
        if "error" in params:
            raise upstream_error_page(name, params)
        iss = params.get("iss")
        # RFC 9207 §2.4: a mix-up attack shows as an unexpected (or missing) iss.
        if iss is not None and not self.issuer_matches(iss) and iss != md["issuer"]:
            raise UpstreamError("issuer_mismatch", f"The answer did not come from {name}.",
                                detail="callback iss does not match")
        if iss is None and md.get("authorization_response_iss_parameter_supported") is True:
            raise UpstreamError("issuer_mismatch", f"The answer did not come from {name}.",
                                detail="callback lacks iss")
        code = params.get("code")
        if not code or len(code) > 4096:
            raise UpstreamError("bad_callback", f"{name} sent no authorization code.")
        return code

    async def complete(self, redirect_uri: str, flow: FlowSecrets,
                       params: Mapping[str, str]) -> UpstreamResult:
        md = await self.metadata()
        code = self._check_callback(md, params)
        name = self.config.display_name
        try:
            token = await self.app.fetch_access_token(
                redirect_uri, code=code, code_verifier=flow.code_verifier)
            if "id_token" not in token:
                raise UpstreamError("invalid_id_token", f"{name} sent no identity token.")
            claims = dict(await self.app.parse_id_token(
                token, flow.nonce, claims_options=self.id_claims_options(md),
                leeway=ID_TOKEN_SKEW))
            self.check_id_claims(claims, md)
            merged = dict(claims)
            if self.config.options.get("fetch_userinfo", True) and md.get("userinfo_endpoint") \
                    and token.get("access_token"):
                info = dict(await self.app.userinfo(token=token))
                # OIDC Core §5.3.2: userinfo about someone else must not be used.
                if info.get("sub") != claims.get("sub"):
                    raise UpstreamError("invalid_userinfo",
                                        f"{name} sent details about another account.")
                merged = {**info, **claims}
        except Exception as exc:  # noqa: BLE001
            raise translate(exc, name) from None
        amr = claims.get("amr")
        return UpstreamResult(
            claims=merged,
            acr=claims.get("acr") if isinstance(claims.get("acr"), str) else None,
            amr=tuple(a for a in amr if isinstance(a, str))[:10] if isinstance(amr, list) else (),
            auth_time=auth_time_of(claims),
        )

    async def probe(self, redirect_uri: str = "") -> list[Check]:
        """Discovery, issuer, JWKS, algorithms, endpoints and client credentials."""
        from portico.federation.probe import probe_oidc

        return await probe_oidc(self, redirect_uri)


def _open(config: ProviderConfig) -> OIDCConnector:
    return OIDCConnector(config)


KIND = register(Kind(
    name="oidc",
    title="OpenID Connect",
    description="Any OpenID Connect provider (Keycloak, Auth0, Okta, another Portico...), "
    "configured from its issuer's discovery document.",
    factory=_open,
    options_model=OIDCOptions,
    issuer="required",
    default_mapping=OIDC_MAPPING,
))
