"""Rate limits with ``limits``: in memory per process by default, shared through Redis
(or any ``limits`` storage) when ``PORTICO_RATE_LIMIT_STORAGE`` is set.

Rate limits slow down guessing from one place; the database lockout
(``accounts.signin``) is what every instance agrees on for one account.
"""

from __future__ import annotations

import time

from limits import RateLimitItem, parse
from limits.aio.strategies import MovingWindowRateLimiter
from limits.storage import storage_from_string

from portico.accounts.signin import LockoutPolicy
from portico.accounts.users import username_key
from portico.errors import RateLimited
from portico.http import metrics, services
from portico.settings import Settings


class RateLimiter:
    """Named rules (login, account, sensitive, token) keyed by IP or account."""

    def __init__(self, settings: Settings) -> None:
        uri = settings.rate_limit_storage or "async+memory://"
        if "://" in uri and not uri.startswith("async+"):
            uri = "async+" + uri
        self.storage = storage_from_string(uri)
        self.strategy = MovingWindowRateLimiter(self.storage)
        self.rules: dict[str, RateLimitItem] = {
            "login": parse(settings.rate_limit_login),
            "account": parse(settings.rate_limit_account),
            "sensitive": parse(settings.rate_limit_sensitive),
            "token": parse(settings.rate_limit_token),
        }

    async def hit(self, rule: str, *keys: str) -> None:
        """Count one request; raise ``RateLimited`` (with Retry-After) over the limit."""
        item = self.rules[rule]
        if await self.strategy.hit(item, rule, *keys):
            return
        metrics.rate_limited(rule)
        stats = await self.strategy.get_window_stats(item, rule, *keys)
        raise RateLimited(int(stats.reset_time - time.time()) + 1)

    async def check_login(self, ip: str | None, account: str) -> None:
        """A sign-in attempt: per client IP and per account name."""
        await self.hit("login", ip or "-")
        await self.hit("account", username_key(account)[:150])


def limiter() -> RateLimiter:
    """The current app's limiter."""
    return services().limiter


def lockout_policy(settings: Settings) -> LockoutPolicy:
    """The lockout rules from settings."""
    return LockoutPolicy(settings.max_login_attempts, settings.lockout_duration,
                         settings.bcrypt_rounds)
