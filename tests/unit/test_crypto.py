"""Sealing secrets at rest and random tokens."""

from __future__ import annotations

import os
import stat
import time

import pytest

from portico.crypto.secretbox import (
    SecretBox,
    SecretBoxError,
    new_master_key_text,
    parse_master_key,
    write_master_key,
)
from portico.crypto.tokens import lookup_hash, new_client_id, new_id, random_token, same_hash


def test_sealed_values_open_only_in_their_place():
    box = SecretBox(os.urandom(32))
    sealed = box.seal(b"client-secret", "clients:abc:secret")
    assert b"client-secret" not in sealed.encode()
    assert box.open(sealed, "clients:abc:secret") == b"client-secret"
    with pytest.raises(SecretBoxError):
        box.open(sealed, "clients:other:secret")


def test_a_wrong_key_or_tampering_fails_to_open():
    box = SecretBox(os.urandom(32))
    sealed = box.seal(b"x", "t:1:c")
    with pytest.raises(SecretBoxError):
        SecretBox(os.urandom(32)).open(sealed, "t:1:c")
    tampered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
    with pytest.raises(SecretBoxError):
        box.open(tampered, "t:1:c")
    with pytest.raises(SecretBoxError):
        box.open("%%%", "t:1:c")


def test_the_box_never_shows_its_key():
    key = os.urandom(32)
    assert key.hex() not in repr(SecretBox(key))


def test_master_keys_parse_from_base64url_or_hex():
    text = new_master_key_text()
    key = parse_master_key(text)
    assert len(key) == 32 and parse_master_key(key.hex()) == key
    with pytest.raises(ValueError):
        parse_master_key("too-short")


def test_the_master_key_file_is_private_and_never_overwritten(tmp_path):
    path = tmp_path / "keys" / "secret.key"
    assert write_master_key(path) is True
    first = path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert write_master_key(path) is False
    assert path.read_text() == first


def test_tokens_are_random_prefixed_and_compared_by_hash():
    a, b = random_token(32, prefix="pk_"), random_token(32, prefix="pk_")
    assert a != b and a.startswith("pk_") and len(a) > 40
    assert same_hash(a, lookup_hash(a)) and not same_hash(b, lookup_hash(a))


def test_client_ids_never_start_with_a_dash() -> None:
    # One token in 64 starts with "-"; 2,000 draws without one means the guard works.
    ids = [new_client_id() for _ in range(2000)]
    assert not any(i.startswith("-") for i in ids)
    assert len(set(ids)) == len(ids) and all(len(i) == 22 for i in ids)


def test_row_ids_are_hex_unique_and_ordered_by_time() -> None:
    first = new_id()
    time.sleep(0.002)
    later = [new_id() for _ in range(1000)]
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in [first, *later])
    assert len(set(later)) == len(later)
    assert all(first < i for i in later)  # a later millisecond sorts after
