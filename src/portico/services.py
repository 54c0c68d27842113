"""The long-lived objects one Portico process holds, built once by ``create_app``.

Nothing here is state that matters across instances: the database is the source
of truth; these are connections and short caches.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from portico.crypto.secretbox import SecretBox, parse_master_key
from portico.crypto.signing_keys import KeyService
from portico.policy import PolicyStore
from portico.protocol.authlib_bridge import ProtocolBridge
from portico.protocol.fetch import Fetcher
from portico.settings import Settings, SettingsError
from portico.storage.db import Database

if TYPE_CHECKING:
    from portico.http.rate_limit import RateLimiter


@dataclass
class Services:
    """Everything a request handler may need, besides the request."""

    settings: Settings
    db: Database
    box: SecretBox
    keys: KeyService
    fetcher: Fetcher
    bridge: ProtocolBridge
    csrf_key: bytes
    limiter: RateLimiter
    policy: PolicyStore  # admin-set authentication policy over ``settings`` (portico.policy)


def master_key(settings: Settings) -> bytes:
    """The AES-256-GCM master key from the setting or ``<keys_dir>/secret.key``."""
    if settings.secret_key is not None:
        text = settings.secret_key.get_secret_value()
        source = "PORTICO_SECRET_KEY"
    else:
        path = Path(settings.keys_dir) / "secret.key"
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise SettingsError(
                f"no master key: set PORTICO_SECRET_KEY or run `portico init` to create {path}"
            ) from None
        source = str(path)
    try:
        return parse_master_key(text)
    except ValueError as exc:
        raise SettingsError(f"{source}: {exc}") from None


def build_services(settings: Settings) -> Services:
    """Wire the process-wide objects from settings."""
    import hashlib
    import hmac

    key = master_key(settings)
    db = Database(settings.database_url)
    box = SecretBox(key)
    keys = KeyService(db, box, max(settings.access_token_ttl, settings.id_token_ttl))
    fetcher = Fetcher(public_only=not settings.fetches_private_addresses)
    bridge = ProtocolBridge(settings, db, keys.load, fetcher.jwks)
    csrf_key = hmac.new(key, b"portico-csrf-v1", hashlib.sha256).digest()
    from portico.http.rate_limit import RateLimiter

    return Services(settings, db, box, keys, fetcher, bridge, csrf_key, RateLimiter(settings),
                    PolicyStore(settings, db))
