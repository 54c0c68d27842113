"""Password hashing and policy.

bcrypt (cost 12) over an HMAC-SHA256 pre-hash: bcrypt 5 raises above 72 bytes and
older versions silently truncate, so every password is first reduced to 44 ASCII
bytes with no NULs. Hashing takes ~300 ms of CPU, so it always runs in a worker
thread; bcrypt releases the GIL, so the event loop keeps serving.

The threads are a pool of one per core, not asyncio's default executor (cores + 4
threads, shared with everything else): in a login storm that keeps every core hashing
while queueing the surplus instead of time-slicing six hashes over two cores, which
made each login, and the event loop's share of the CPU, slower (bench/README.md).
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import hmac
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import bcrypt

from portico.errors import PolicyViolation

# A fixed, public pepper: the pre-hash is about length, not secrecy.
_PREHASH_KEY = b"portico-password-prehash-v1"
MAX_PASSWORD_BYTES = 1024


def _prehash(password: str) -> bytes:
    digest = hmac.new(_PREHASH_KEY, password.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest)


T = TypeVar("T")


@functools.cache
def _hashing_pool() -> ThreadPoolExecutor:
    # Made on first use, so each server process (``--workers``) has its own. The cores
    # this process may run on (a container's cpuset), not the machine's.
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return ThreadPoolExecutor(max_workers=cores or os.cpu_count() or 1,
                              thread_name_prefix="bcrypt")


async def _off_loop(fn: Callable[..., T], *args: object) -> T:
    return await asyncio.get_running_loop().run_in_executor(_hashing_pool(), fn, *args)


def _hash_sync(password: str, rounds: int) -> str:
    return bcrypt.hashpw(_prehash(password), bcrypt.gensalt(rounds)).decode()


def _verify_sync(password: str, hashed: str | None, rounds: int) -> bool:
    try:
        ok = bcrypt.checkpw(_prehash(password), (hashed or _dummy_hash(rounds)).encode())
        return ok and hashed is not None
    except ValueError:
        return False


async def hash_password(password: str, rounds: int = 12) -> str:
    """bcrypt-hash off the event loop."""
    return await _off_loop(_hash_sync, password, rounds)


async def verify_password(password: str, hashed: str | None, rounds: int = 12) -> bool:
    """Check off the event loop; an absent hash costs the same time as a wrong password,
    so ``rounds`` must be the cost real hashes are made with."""
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        return False
    return await _off_loop(_verify_sync, password, hashed, rounds)


_DUMMY: dict[int, str] = {}


def _dummy_hash(rounds: int) -> str:
    # Computed lazily, per cost, so "no such user" pays the same bcrypt verification.
    if rounds not in _DUMMY:
        _DUMMY[rounds] = _hash_sync("portico-no-such-user", rounds)
    return _DUMMY[rounds]


@dataclass(frozen=True)
class PasswordPolicy:
    """The rules a new password must meet; each failed rule is reported by name."""

    min_length: int = 8
    require_classes: bool = True

    def problems(self, password: str) -> list[str]:
        """Every rule ``password`` breaks, phrased for the person choosing it."""
        try:
            password.encode("utf-8")
        except UnicodeEncodeError:
            return ["only valid text (no unpaired surrogate characters)"]
        found = []
        if len(password) < self.min_length:
            found.append(f"at least {self.min_length} characters")
        if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
            found.append(f"at most {MAX_PASSWORD_BYTES} bytes")
        if self.require_classes:
            if not any(c.isupper() for c in password):
                found.append("an upper-case letter")
            if not any(c.islower() for c in password):
                found.append("a lower-case letter")
            if not any(c.isdigit() for c in password):
                found.append("a digit")
        return found

    def check(self, password: str) -> None:
        """Raise ``PolicyViolation`` listing the failed rules."""
        problems = self.problems(password)
        if problems:
            raise PolicyViolation("the password does not meet the policy", problems)
