"""Crypto helpers: password hashing, secret sealing and Ed25519 keys.

Sealed blobs are ``v1.<kdf>.<salt>.<nonce>.<ciphertext>`` (base64url parts), AES-256-GCM
under a key derived from a password (scrypt) or from the environment secret (HKDF).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from ocv.errors import OCVError


class SealError(OCVError):
    """A sealed secret could not be opened: wrong password or secret, or damaged data."""

    http_status = 403


@dataclass(frozen=True)
class PasswordHashing:
    """Argon2id with rehash-on-login when the cost parameters change."""

    time_cost: int = 3
    memory_cost: int = 65536

    @property
    def hasher(self) -> PasswordHasher:
        return PasswordHasher(time_cost=self.time_cost, memory_cost=self.memory_cost)

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, password_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(password_hash, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self.hasher.check_needs_rehash(password_hash)


# scrypt n=2**15 takes ~0.1 s: opening a personal key is a deliberate act, not a hot path.
SCRYPT_N = 2**15


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _password_key(password: str, salt: bytes, n: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=8, p=1).derive(password.encode())


def _secret_key(secret: str, salt: bytes) -> bytes:
    return HKDF(hashes.SHA256(), 32, salt, b"ocv seal v1").derive(secret.encode())


def seal_with_password(plaintext: bytes, password: str, n: int = SCRYPT_N) -> str:
    salt, nonce = os.urandom(16), os.urandom(12)
    box = AESGCM(_password_key(password, salt, n)).encrypt(nonce, plaintext, b"scrypt")
    return ".".join(["v1", f"scrypt{n}", _b64(salt), _b64(nonce), _b64(box)])


def seal_with_secret(plaintext: bytes, secret: str) -> str:
    salt, nonce = os.urandom(16), os.urandom(12)
    box = AESGCM(_secret_key(secret, salt)).encrypt(nonce, plaintext, b"hkdf")
    return ".".join(["v1", "hkdf", _b64(salt), _b64(nonce), _b64(box)])


def open_sealed(sealed: str, *, password: str | None = None, secret: str | None = None) -> bytes:
    try:
        version, kdf, salt, nonce, box = sealed.split(".")
        if version != "v1":
            raise ValueError(version)
        if kdf.startswith("scrypt") and password is not None:
            key, aad = _password_key(password, _unb64(salt), int(kdf[6:])), b"scrypt"
        elif kdf == "hkdf" and secret is not None:
            key, aad = _secret_key(secret, _unb64(salt)), b"hkdf"
        else:
            raise ValueError(kdf)
        return AESGCM(key).decrypt(_unb64(nonce), _unb64(box), aad)
    except (ValueError, InvalidTag):
        raise SealError("the sealed secret could not be opened") from None


def sha256_hex(data: bytes | str) -> str:
    if isinstance(data, str):
        data = data.encode()
    return hashlib.sha256(data).hexdigest()


def constant_time_equal(a: str | bytes, b: str | bytes) -> bool:
    if isinstance(a, str):
        a = a.encode()
    if isinstance(b, str):
        b = b.encode()
    return hmac.compare_digest(a, b)
