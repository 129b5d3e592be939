"""Document numbers: normalized, sealed at rest, and keyed-hashed for matching and the log."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
from dataclasses import dataclass
from functools import cache, cached_property

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_NOT_ALNUM = re.compile(r"[^0-9A-Z]")


def normalize_number(number: str) -> str:
    """Spaces, dashes and case do not make a different document."""
    return _NOT_ALNUM.sub("", number.upper())


@dataclass(frozen=True)
class DocumentKeys:
    """Keys derived once from OCV_KEY_SECRET: one to hash, one to seal."""

    secret: str

    def _derive(self, purpose: bytes) -> bytes:
        return HKDF(hashes.SHA256(), 32, b"ocv documents", purpose).derive(self.secret.encode())

    @cached_property
    def _hash_key(self) -> bytes:
        return self._derive(b"hash v1")

    @cached_property
    def _cipher(self) -> AESGCM:
        return AESGCM(self._derive(b"seal v1"))

    def number_hash(self, election: str, doc_type: str, number: str) -> str:
        message = f"{election}\x00{doc_type}\x00{normalize_number(number)}".encode()
        return hmac.new(self._hash_key, message, hashlib.sha256).hexdigest()

    def seal(self, number: str) -> str:
        nonce = os.urandom(12)
        box = self._cipher.encrypt(nonce, normalize_number(number).encode(), b"document")
        return base64.b64encode(nonce + box).decode()

    def open(self, sealed: str) -> str:
        raw = base64.b64decode(sealed)
        return self._cipher.decrypt(raw[:12], raw[12:], b"document").decode()


@cache
def document_keys(secret: str) -> DocumentKeys:
    """The keys of a secret, derived once per process."""
    return DocumentKeys(secret)
