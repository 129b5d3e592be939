"""Sealing secrets and hashing passwords."""

from __future__ import annotations

import pytest

from ocv.crypto import PasswordHashing, SealError, open_sealed, seal_with_password, seal_with_secret


def test_password_sealing_round_trip_and_wrong_password() -> None:
    sealed = seal_with_password(b"private key bytes", "owner's password", n=2**10)
    assert b"private key" not in sealed.encode()
    assert open_sealed(sealed, password="owner's password") == b"private key bytes"
    with pytest.raises(SealError):
        open_sealed(sealed, password="someone else's")


def test_secret_sealing_detects_tampering() -> None:
    sealed = seal_with_secret(b"log key", "environment secret")
    assert open_sealed(sealed, secret="environment secret") == b"log key"
    head, tail = sealed.rsplit(".", 1)
    flipped = head + "." + ("A" if tail[0] != "A" else "B") + tail[1:]
    with pytest.raises(SealError):
        open_sealed(flipped, secret="environment secret")
    with pytest.raises(SealError):
        open_sealed(sealed, password="environment secret")  # a secret seal is not a password seal


def test_argon2id_hash_and_rehash() -> None:
    weak = PasswordHashing(time_cost=1, memory_cost=1024)
    strong = PasswordHashing(time_cost=2, memory_cost=2048)
    hashed = weak.hash("a password")
    assert hashed.startswith("$argon2id$")
    assert weak.verify(hashed, "a password")
    assert not weak.verify(hashed, "another")
    assert not weak.verify("garbage", "a password")
    assert strong.needs_rehash(hashed)
