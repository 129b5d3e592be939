"""C2SP signed notes with Ed25519 keys (https://c2sp.org/signed-note), and the
checkpoints they carry (https://c2sp.org/tlog-checkpoint).

A note is its text (lines each ending in "\\n"), a blank line, then signature
lines "— <key name> <base64(4-byte key id || signature)>", each ending in "\\n".
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

ED25519 = b"\x01"  # the signed-note algorithm byte
SIGNATURE_PREFIX = "\u2014 "  # em dash, space
MAX_SIGNATURES = 100  # as golang.org/x/mod/sumdb/note: bounds the work an open costs
HASH_SIZE = 32

_KEY_ID = re.compile(r"[0-9a-f]{8}")
_DECIMAL = re.compile(r"0|[1-9][0-9]*")
# Text may hold no control character but newline (C2SP signed-note).
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")


class NoteError(ValueError):
    """A malformed note, key or checkpoint, or a signature that does not verify."""


def check_name(name: str) -> None:
    """Key names: non-empty, no whitespace, no '+'."""
    if not name or "+" in name or any(c.isspace() for c in name) or _CONTROL.search(name):
        raise NoteError(f"invalid key name {name!r}: non-empty, no whitespace, no '+'")


def key_id(name: str, public_key: bytes) -> bytes:
    """First 4 bytes of SHA-256(name || 0x0A || 0x01 || public key)."""
    return hashlib.sha256(name.encode() + b"\n" + ED25519 + public_key).digest()[:4]


def format_vkey(name: str, public_key: bytes) -> str:
    """`<name>+<key id hex>+<base64(0x01 || public key)>`."""
    check_name(name)
    if len(public_key) != 32:
        raise NoteError("an Ed25519 public key is 32 bytes")
    return f"{name}+{key_id(name, public_key).hex()}+{_b64(ED25519 + public_key)}"


def parse_vkey(vkey: str) -> tuple[str, bytes]:
    """(name, 32-byte Ed25519 public key) of a verifier key; NoteError if malformed."""
    parts = vkey.split("+", 2)  # base64 may hold "+"
    if len(parts) != 3:
        raise NoteError("a verifier key is <name>+<key id>+<key>")
    name, kid, public_key = _key_parts(parts[0], parts[1], parts[2], "verifier key")
    if kid != key_id(name, public_key).hex():
        raise NoteError("verifier key: the key id does not match the key")
    return name, public_key


def format_skey(name: str, private_key: Ed25519PrivateKey) -> str:
    """`PRIVATE+KEY+<name>+<key id hex>+<base64(0x01 || 32-byte seed)>`."""
    check_name(name)
    seed = private_key.private_bytes_raw()
    return f"PRIVATE+KEY+{name}+{key_id(name, _public(private_key)).hex()}+{_b64(ED25519 + seed)}"


def parse_skey(skey: str) -> tuple[str, Ed25519PrivateKey]:
    """(name, private key) of a signer key; NoteError if malformed."""
    parts = skey.split("+", 4)
    if len(parts) != 5 or parts[:2] != ["PRIVATE", "KEY"]:
        raise NoteError("a signer key is PRIVATE+KEY+<name>+<key id>+<key>")
    name, kid, seed = _key_parts(parts[2], parts[3], parts[4], "signer key")
    private_key = Ed25519PrivateKey.from_private_bytes(seed)
    # The id is that of the public half.
    if kid != key_id(name, _public(private_key)).hex():
        raise NoteError("signer key: the key id does not match the key")
    return name, private_key


def sign_note(text: str, name: str, private_key: Ed25519PrivateKey) -> str:
    """The signature line, ending in "\\n", of `text` by the key `name`."""
    _check_text(text)
    check_name(name)
    signature = private_key.sign(text.encode())
    return f"{SIGNATURE_PREFIX}{name} {_b64(key_id(name, _public(private_key)) + signature)}\n"


def verify_signature_line(text: str, line: str, vkey: str) -> None:
    """Raise NoteError unless `line` (with or without its "\\n") signs `text` with `vkey`."""
    _check_text(text)
    name, public_key = parse_vkey(vkey)
    signer, kid, signature = _parse_signature_line(line.removesuffix("\n"))
    if (signer, kid) != (name, key_id(name, public_key)):
        raise NoteError(f"the signature is by {signer!r}, not by the key {name!r}")
    _verify(public_key, text, signature, name)


def open_note(note: str, known_vkeys: Iterable[str]) -> tuple[str, list[str], list[str]]:
    """(text, names whose signatures verified, signature lines by unknown keys).

    A signature by a known key (same name and key id) must verify; signatures by other
    keys are returned unchecked. NoteError if malformed, or if no known key signed.
    """
    if _CONTROL.search(note):
        raise NoteError("a note holds no control character but newline")
    split = note.rfind("\n\n")
    if split < 0:
        raise NoteError("no blank line before the signatures")
    text, block = note[: split + 1], note[split + 2 :]
    _check_text(text)
    if not block.endswith("\n"):
        raise NoteError("the signature lines must end in a newline")
    lines = block[:-1].split("\n")
    if len(lines) > MAX_SIGNATURES:
        raise NoteError(f"more than {MAX_SIGNATURES} signatures")
    keys = {}
    for vkey in known_vkeys:
        name, public_key = parse_vkey(vkey)
        keys[name, key_id(name, public_key)] = public_key
    verified: list[str] = []
    unknown: list[str] = []
    seen = set()
    for line in lines:
        name, kid, signature = _parse_signature_line(line)
        known = keys.get((name, kid))
        if known is None:
            if line not in unknown:
                unknown.append(line)
        elif (name, kid) not in seen:  # a repeated signature counts once
            seen.add((name, kid))
            _verify(known, text, signature, name)
            verified.append(name)
    if not verified:
        raise NoteError("no signature by a known key")
    return text, verified, unknown


@dataclass(frozen=True)
class Checkpoint:
    """A C2SP tlog-checkpoint body: origin, tree size, root hash, extension lines."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def format(self) -> str:
        lines = [self.origin, str(self.size), _b64(self.root), *self.extensions]
        if (
            not self.origin
            or self.size < 0
            or len(self.root) != HASH_SIZE
            or any(not line or "\n" in line for line in lines)
        ):
            raise NoteError(
                "a checkpoint needs an origin, a size ≥ 0, a 32-byte root, "
                "and non-empty single-line extensions"
            )
        text = "\n".join(lines) + "\n"
        _check_text(text)
        return text

    @classmethod
    def parse(cls, text: str) -> Checkpoint:
        _check_text(text)
        lines = text[:-1].split("\n")
        if len(lines) < 3 or not all(lines):
            raise NoteError(
                "a checkpoint is origin, size and root hash lines, then non-empty extension lines"
            )
        origin, size, root, *extensions = lines
        if not _DECIMAL.fullmatch(size) or int(size) >= 1 << 64:
            raise NoteError(f"checkpoint size {size!r} is not a decimal number")
        root_hash = _unb64(root, "checkpoint root")
        if len(root_hash) != HASH_SIZE:
            raise NoteError("the checkpoint root is not 32 bytes")
        return cls(origin, int(size), root_hash, tuple(extensions))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _unb64(text: str, what: str) -> bytes:
    try:
        data = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise NoteError(f"{what}: not standard base64") from None
    if _b64(data) != text:  # one encoding per value: no stray padding bits
        raise NoteError(f"{what}: not canonical base64")
    return data


def _public(private_key: Ed25519PrivateKey) -> bytes:
    return private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _key_parts(name: str, kid: str, encoded: str, what: str) -> tuple[str, str, bytes]:
    check_name(name)
    if not _KEY_ID.fullmatch(kid):
        raise NoteError(f"{what}: the key id is not 8 lowercase hex digits")
    key = _unb64(encoded, what)
    if len(key) != 33 or key[:1] != ED25519:
        raise NoteError(f"{what}: not an Ed25519 key (0x01 and 32 bytes)")
    return name, kid, key[1:]


def _parse_signature_line(line: str) -> tuple[str, bytes, bytes]:
    """(name, key id, signature) of "— <name> <base64>"."""
    if not line.startswith(SIGNATURE_PREFIX):
        raise NoteError(f"not a signature line: {line[:60]!r}")
    name, _, encoded = line[len(SIGNATURE_PREFIX) :].partition(" ")
    check_name(name)
    data = _unb64(encoded, f"signature by {name}")
    if len(data) < 5:
        raise NoteError(f"signature by {name}: too short")
    return name, data[:4], data[4:]


def _verify(public_key: bytes, text: str, signature: bytes, name: str) -> None:
    try:
        Ed25519PublicKey.from_public_bytes(public_key).verify(signature, text.encode())
    except InvalidSignature:
        raise NoteError(f"the signature by {name} does not verify") from None


def _check_text(text: str) -> None:
    if not text.endswith("\n"):
        raise NoteError("note text must end with a newline")
    if _CONTROL.search(text):
        raise NoteError("note text holds no control character but newline")
    try:
        text.encode()
    except UnicodeEncodeError:
        raise NoteError("note text is not valid Unicode") from None
