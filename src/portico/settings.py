"""Typed settings: environment ``PORTICO_*`` > ``portico.toml`` > defaults.

Every field carries a description; ``portico.settings_doc`` turns them into the
README's configuration table, and a test fails when that table is stale. Secret
fields are ``SecretStr`` (masked in reprs) and accept ``file:///path`` values so
container secrets work without putting the secret in the environment.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_CONFIG_FILE = "portico.toml"


def _read_file_reference(value: Any) -> Any:
    """Resolve ``file://`` references so secrets can come from mounted files."""
    raw = value.get_secret_value() if isinstance(value, SecretStr) else value
    if isinstance(raw, str) and raw.startswith("file://"):
        path = Path(raw[len("file://") :])
        try:
            return path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ValueError(f"cannot read secret file {path}: {exc.strerror}") from None
    return value


def is_loopback_url(url: str) -> bool:
    """True when ``url`` points at this machine (the only place plain HTTP is safe)."""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class Settings(BaseSettings):
    """Portico's whole configuration; read once at start and never mutated."""

    model_config = SettingsConfigDict(
        env_prefix="PORTICO_",
        extra="forbid",
        frozen=True,
        validate_default=True,
    )

    issuer: str = Field(
        "http://127.0.0.1:8000",
        description="Public issuer URL; every endpoint is relative to it. No trailing slash.",
    )
    database_url: str = Field(
        "sqlite+aiosqlite:///./portico.db",
        description="SQLAlchemy async URL. SQLite for one instance, "
        "`postgresql+asyncpg://…` for several.",
    )
    keys_dir: Path = Field(
        Path("./keys"),
        description="Where `portico init` writes the master key (`secret.key`, mode 0600). "
        "Signing keys live in the database, not here.",
    )
    secret_key: SecretStr | None = Field(
        None,
        description="Master key (32+ random bytes, base64url or hex) sealing private keys and "
        "secrets at rest. Default: read from `<keys_dir>/secret.key`. Accepts `file://`.",
    )
    insecure_cookies: bool = Field(
        False,
        description="Send cookies without `Secure` for plain-HTTP local testing; "
        "refused unless the issuer is loopback.",
    )
    cors_origins: list[str] = Field(
        default_factory=list,
        description="Origins allowed to call discovery, JWKS, token, userinfo, introspection "
        "and revocation from a browser (JSON list in the environment).",
    )
    trusted_proxy_hops: int = Field(
        0,
        ge=0,
        le=10,
        description="How many reverse proxies in front of Portico to trust for "
        "`X-Forwarded-For`, `-Proto` and `-Host`; 0 ignores those headers.",
    )
    access_token_ttl: int = Field(900, ge=60, description="Access-token lifetime, seconds.")
    dpop_require_nonce: bool = Field(
        False,
        description="Every DPoP proof, at the token endpoint and at UserInfo, must carry a "
        "nonce Portico provides (`use_dpop_nonce` + `DPoP-Nonce`, RFC 9449 §8-9). Nonces "
        "are derived from the master key, so any instance accepts another's.",
    )
    dpop_proof_max_age: int = Field(
        120, ge=10, le=3600,
        description="How old (by its `iat`) a DPoP proof may be, seconds; also how long a "
        "DPoP nonce window lasts (a nonce is good for its window and the next).",
    )
    resources: list[str] = Field(
        default_factory=list,
        description="Resource servers clients may name with `resource` (RFC 8707): absolute "
        "URIs; one ending in `/` also covers every URI below it. The issuer and its "
        "UserInfo endpoint are always allowed (JSON list in the environment).",
    )
    token_exchange: bool = Field(
        False,
        description="Offer the token exchange grant (RFC 8693) at the token endpoint, for "
        "clients whose grant types include it.",
    )
    token_exchange_impersonation_clients: list[str] = Field(
        default_factory=list,
        description="Client ids allowed to exchange a token without an `actor_token` "
        "(impersonation, RFC 8693 §1.1); other clients must present one (delegation, "
        "`act` claim). JSON list in the environment.",
    )
    id_token_ttl: int = Field(3600, ge=60, description="ID-token lifetime, seconds.")
    refresh_token_ttl: int = Field(
        7 * 86400, ge=300, description="Refresh-token lifetime, seconds (rotated on every use)."
    )
    session_ttl: int = Field(86400, ge=300, description="Browser session lifetime, seconds.")
    auth_code_ttl: int = Field(
        60, ge=10, le=600, description="Authorization-code lifetime, seconds (single use)."
    )
    interaction_ttl: int = Field(
        600, ge=60, description="How long a pending login/consent step stays valid, seconds."
    )
    device_code_ttl: int = Field(
        600, ge=60, le=3600,
        description="How long a device authorization (RFC 8628 device and user code) waits "
        "for the person to approve it on `/device`, seconds.",
    )
    device_poll_interval: int = Field(
        5, ge=1, le=60,
        description="Seconds a device must wait between token requests while the person "
        "decides (RFC 8628 `interval`); polling faster adds 5 seconds (`slow_down`).",
    )
    upstream_flow_ttl: int = Field(
        600, ge=60, le=3600,
        description="How long a sign-in through an upstream identity provider may take, "
        "seconds (its state, nonce and PKCE verifier are then discarded).",
    )
    upstream_timeout: float = Field(
        10.0, gt=0, le=10,
        description="Timeout of each request to an upstream identity provider (discovery, "
        "JWKS, token, userinfo), seconds; at most 10.",
    )
    password_min_length: int = Field(8, ge=8, le=128, description="Minimum password length.")
    password_require_classes: bool = Field(
        True, description="Require upper case, lower case and a digit in new passwords."
    )
    bcrypt_rounds: int = Field(12, ge=4, le=16, description="bcrypt cost factor.")
    request_object_max_bytes: int = Field(
        16384,
        ge=1024,
        description="Largest request object, in bytes, accepted by value or `request_uri`.",
    )
    require_signed_request_object: bool = Field(
        False,
        description="Every authorization request must come as a signed request object and "
        "only its parameters count (RFC 9101 §5). A client can also ask for this alone "
        "(`require_signed_request_object` in its metadata).",
    )
    pushed_request_ttl: int = Field(
        90,
        ge=60,
        le=600,
        description="How long a `request_uri` from the pushed authorization request "
        "endpoint stays usable, seconds (RFC 9126; single use).",
    )
    require_pushed_authorization_requests: bool = Field(
        False,
        description="Refuse authorization requests that were not pushed to `/par` first "
        "(RFC 9126 §5). A client can also be required to push on its own.",
    )
    require_pkce: bool = Field(
        False,
        description="Require PKCE (S256) from confidential clients too, whenever a code is "
        "issued (OAuth 2.0 Security BCP §2.1.1; FAPI 2.0 §5.3.2.2). Public clients always "
        "need it.",
    )
    auth_mode: Literal["local", "noop"] = Field(
        "local",
        description="`local`: people sign in. `noop`: no login or consent page, everyone is "
        "the passwordless user `dev` (API calls without credentials too), for developing "
        "relying parties on this machine only.",
    )
    allow_noop_on_public_issuer: bool = Field(
        False, description="Permit `auth_mode=noop` with a non-loopback issuer (dangerous)."
    )
    registration: Literal["invite", "open", "closed"] = Field(
        "invite",
        description="Who may create an account: `invite` (invited people only), `open` "
        "(anyone), `closed` (nobody; admins create accounts).",
    )
    tenancy: Literal["single", "multi"] = Field(
        "single",
        description="`single`: one organization; the first user owns it and others join by "
        "invite (or register when registration is open). `multi`: registering creates a new "
        "organization owned by its creator; invites add members.",
    )
    invite_ttl: int = Field(
        7 * 86400, ge=300, description="How long an invitation link stays valid, seconds."
    )
    client_registration: Literal["off", "open", "token"] = Field(
        "off",
        description="Dynamic client registration at `/connect/register` (RFC 7591/7592): "
        "`off`, `open` (anyone may register a client) or `token` (an initial access token "
        "from `portico registration token create` or the admin API is required; the client "
        "joins that token's organization).",
    )
    client_registration_redirect_schemes: list[str] = Field(
        default_factory=lambda: ["https", "http"],
        description="URI schemes dynamically registered clients may use in `redirect_uris` "
        "(http is only ever accepted on loopback hosts). Add a private-use scheme such as "
        "`com.example.app` to let native apps register (JSON list in the environment).",
    )
    client_registration_redirect_hosts: list[str] = Field(
        default_factory=list,
        description="Hosts dynamically registered clients may use in `redirect_uris`; "
        "`*.example.com` allows subdomains. Empty: any host (JSON list in the environment).",
    )
    client_registration_grant_types: list[Literal[
        "authorization_code", "refresh_token", "client_credentials"]] = Field(
        default_factory=lambda: ["authorization_code", "refresh_token"],
        description="Grant types dynamically registered clients may ask for "
        "(JSON list in the environment).",
    )
    client_registration_response_types: list[str] = Field(
        default_factory=lambda: ["code"],
        description="Response types dynamically registered clients may ask for, among "
        "those Portico supports (JSON list in the environment).",
    )
    client_registration_max_clients: int = Field(
        100, ge=0,
        description="Most dynamically registered clients per organization (those registered "
        "openly, without an organization, count as one group); 0: no limit.",
    )
    smtp_url: SecretStr | None = Field(
        None,
        description="Mail server for invitations: `smtp://user:pass@host:587` (STARTTLS) or "
        "`smtps://…:465` (implicit TLS); `file://` to read it from a file. Unset: invite "
        "links are shown to the admin instead of mailed.",
    )
    mail_from: str = Field(
        "Portico <portico@localhost>", description="Sender address of mails Portico sends."
    )
    session_idle_ttl: int = Field(
        8 * 3600, ge=300, description="Sign a browser session out after this many idle seconds."
    )
    max_login_attempts: int = Field(
        5, ge=1, le=100, description="Failed sign-ins in a row before the account is locked."
    )
    lockout_duration: int = Field(900, ge=10, description="How long a lockout lasts, seconds.")
    rate_limit_storage: str | None = Field(
        None,
        description="`limits` storage URI shared by all instances, e.g. "
        "`async+redis://127.0.0.1:6379`. Default: in memory, per process.",
    )
    rate_limit_login: str = Field(
        "30/minute", description="Sign-in attempts per client IP (pages and API)."
    )
    rate_limit_account: str = Field(
        "10/minute", description="Sign-in attempts per account name, from any IP."
    )
    rate_limit_sensitive: str = Field(
        "10/hour", description="Registrations, recoveries and setup attempts per client IP."
    )
    rate_limit_token: str = Field(
        "600/minute", description="Token-endpoint requests per client IP."
    )
    maintenance_interval: int = Field(
        300,
        ge=0,
        description="Seconds between clean-up passes (expired sessions, codes, tokens, ...); "
        "every instance may run them, a lease row lets one at a time. 0 disables the loop "
        "(run `portico maintenance run` from cron instead).",
    )
    fetch_private_addresses: bool | None = Field(
        None,
        description="Whether URLs a client registers (jwks_uri, request_uri, "
        "sector_identifier_uri, backchannel_logout_uri) may reach loopback, private, "
        "link-local or other non-public addresses. Unset: only with a loopback issuer (a "
        "development setup); otherwise they are refused, so a client cannot make Portico "
        "probe its own network (SSRF). Upstream identity providers are not affected.",
    )
    backchannel_logout_timeout: float = Field(
        5.0,
        gt=0,
        le=30,
        description="Seconds Portico waits for a client's backchannel_logout_uri to answer "
        "one logout notice (OIDC Back-Channel Logout 1.0).",
    )
    backchannel_logout_retry_for: int = Field(
        86400,
        ge=60,
        description="Seconds after a session ended during which an undelivered back-channel "
        "logout notice is retried (with growing pauses) before it is abandoned.",
    )
    backchannel_logout_wait: float = Field(
        2.0,
        ge=0,
        le=10,
        description="Seconds the sign-out page waits for back-channel notices before it "
        "sends the browser on; delivery carries on in the background after that.",
    )
    frontchannel_logout_timeout: int = Field(
        3,
        ge=1,
        le=30,
        description="Seconds the signed-out page gives front-channel logout iframes to load "
        "before continuing to the post_logout_redirect_uri (OIDC Front-Channel Logout 1.0).",
    )
    metrics_enabled: bool = Field(
        True,
        description="Serve Prometheus metrics at /metrics. They hold no personal data, only "
        "counts; turn them off (or block /metrics at the proxy) if they must stay private.",
    )
    shutdown_grace: float = Field(
        10.0,
        ge=0,
        le=600,
        description="Seconds `portico serve` lets in-flight requests finish after SIGTERM "
        "before closing connections (Hypercorn's graceful timeout).",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        "info", description="Level of Portico's own log and of Hypercorn's error log."
    )
    templates_dir: Path | None = Field(
        None, description="Directory of Jinja templates overriding the built-in hosted pages."
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Order the sources: explicit > environment > TOML file > defaults."""
        config_file = Path(os.environ.get("PORTICO_CONFIG", DEFAULT_CONFIG_FILE))
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if config_file.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=config_file))
        return tuple(sources)

    @field_validator("secret_key", "smtp_url", mode="before")
    @classmethod
    def _secret_from_file(cls, value: Any) -> Any:
        return _read_file_reference(value)

    @field_validator("smtp_url")
    @classmethod
    def _check_smtp_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            parts = urlsplit(value.get_secret_value())
            if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
                # The message never echoes the value: it may hold a password.
                raise ValueError("must look like smtp://user:password@host:587 or smtps://…")
        return value

    @field_validator("issuer")
    @classmethod
    def _check_issuer(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an absolute http(s) URL such as https://id.example.com")
        if parts.query or parts.fragment:
            raise ValueError("must not contain a query or fragment (OIDC Discovery §3)")
        if parts.scheme == "http" and not is_loopback_url(value):
            raise ValueError("must use https unless it is a loopback address")
        return value.rstrip("/")

    @field_validator("resources")
    @classmethod
    def _check_resources(cls, value: list[str]) -> list[str]:
        # RFC 8707 §2: an absolute URI without a fragment.
        for uri in value:
            if not urlsplit(uri).scheme or "#" in uri or any(c.isspace() for c in uri):
                raise ValueError(f"{uri!r} must be an absolute URI without a fragment")
        return value

    @field_validator(
        "rate_limit_login", "rate_limit_account", "rate_limit_sensitive", "rate_limit_token"
    )
    @classmethod
    def _check_rate(cls, value: str) -> str:
        from limits import parse

        try:
            parse(value)
        except ValueError:
            raise ValueError("must look like `10/minute` or `100 per hour`") from None
        return value

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        if not (value.startswith("sqlite+aiosqlite://") or value.startswith("postgresql+")):
            raise ValueError(
                "must be an async SQLAlchemy URL: sqlite+aiosqlite:///path.db or "
                "postgresql+asyncpg://user@host/db"
            )
        return value

    @model_validator(mode="after")
    def _check_noop_safety(self) -> Settings:
        if (
            self.auth_mode == "noop"
            and not is_loopback_url(self.issuer)
            and not self.allow_noop_on_public_issuer
        ):
            raise ValueError(
                "PORTICO_AUTH_MODE=noop signs everyone in without a password and is only "
                "allowed with a loopback issuer (set PORTICO_ALLOW_NOOP_ON_PUBLIC_ISSUER=true "
                "to force it)"
            )
        return self

    @model_validator(mode="after")
    def _check_cookie_safety(self) -> Settings:
        if self.insecure_cookies and not is_loopback_url(self.issuer):
            raise ValueError(
                "PORTICO_INSECURE_COOKIES=true is only allowed with a loopback issuer "
                f"(issuer is {self.issuer})"
            )
        return self

    @property
    def cookies_secure(self) -> bool:
        """Cookies are Secure unless explicitly relaxed for loopback HTTP."""
        return not self.insecure_cookies

    @property
    def fetches_private_addresses(self) -> bool:
        """``fetch_private_addresses``, or by default whether the issuer is loopback."""
        if self.fetch_private_addresses is not None:
            return self.fetch_private_addresses
        return is_loopback_url(self.issuer)

    @property
    def is_sqlite(self) -> bool:
        """True for the embedded database (migrations run on `serve`)."""
        return self.database_url.startswith("sqlite")

    def url(self, path: str) -> str:
        """An absolute URL under the issuer."""
        return f"{self.issuer}{path}"


def load_settings(**overrides: Any) -> Settings:
    """Load settings, turning validation errors into one readable message."""
    from pydantic import ValidationError

    try:
        return Settings(**overrides)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            field = ".".join(str(p) for p in err["loc"]) or "settings"
            env = f"PORTICO_{field.upper()}" if err["loc"] else field
            lines.append(f"  {env}: {err['msg']}")
        raise SettingsError("invalid configuration:\n" + "\n".join(lines)) from None


class SettingsError(Exception):
    """Configuration that cannot start the server; the message is safe to print."""
