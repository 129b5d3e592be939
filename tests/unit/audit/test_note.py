"""Signed notes and checkpoints: the C2SP and golang.org/x/mod vectors byte for byte,
and the malformed or forged notes a verifier must refuse."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from audit import note

VECTORS = json.loads((Path(__file__).parents[2] / "vectors" / "signed-note.json").read_text())
SIGN = VECTORS["sign"][0]
VERIFY = VECTORS["verify"][0]


def _public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def test_verify_vector() -> None:
    text, verified, unknown = note.open_note(VERIFY["note"], [VERIFY["vkey"]])
    assert text == "This is an example message.\n"
    assert verified == ["example.com/foo"]
    assert unknown == []


def test_sign_vector_byte_for_byte() -> None:
    name, key = note.parse_skey(SIGN["skey"])
    assert name == "PeterNeumann"
    assert note.format_vkey(name, _public(key)) == SIGN["vkey"]
    assert note.format_skey(name, key) == SIGN["skey"]
    line = note.sign_note(SIGN["text"], name, key)
    assert line == SIGN["signature_line"] + "\n"
    assert note.open_note(SIGN["text"] + "\n" + line, [SIGN["vkey"]])[1] == ["PeterNeumann"]
    note.verify_signature_line(SIGN["text"], SIGN["signature_line"], SIGN["vkey"])


def test_vkey_round_trip_and_key_id() -> None:
    name, public_key = note.parse_vkey(SIGN["vkey"])
    assert note.key_id(name, public_key).hex() == "c74f20a3"
    assert note.format_vkey(name, public_key) == SIGN["vkey"]


@pytest.mark.parametrize(
    "vkey",
    [
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong id
        "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # upper-case id
        "Peter+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # other name, same id
        "PeterNeumann+c74f20a3+Ahpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # algorithm 2
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10",  # short key
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW=",  # bad base64
        "PeterNeumann+c74f20a3",
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "",
    ],
)
def test_malformed_vkeys(vkey: str) -> None:
    with pytest.raises(note.NoteError):
        note.parse_vkey(vkey)


@pytest.mark.parametrize("name", ["", "a b", "a+b", "tab\there", "nbsp\u00a0", "new\nline"])
def test_key_name_rules(name: str) -> None:
    with pytest.raises(note.NoteError):
        note.format_vkey(name, bytes(32))
    with pytest.raises(note.NoteError):
        note.sign_note("text\n", name, Ed25519PrivateKey.generate())


def test_skey_with_a_mismatched_id_is_refused() -> None:
    with pytest.raises(note.NoteError):
        note.parse_skey(SIGN["skey"].replace("c74f20a3", "c74f20a4"))
    with pytest.raises(note.NoteError):
        note.parse_skey(SIGN["skey"].replace("PRIVATE+KEY", "PUBLIC+KEY"))


def _signed(text: str = "origin\n1\nroot\n") -> tuple[str, str, Ed25519PrivateKey]:
    key = Ed25519PrivateKey.generate()
    return (
        text + "\n" + note.sign_note(text, "log.example/a", key),
        note.format_vkey("log.example/a", _public(key)),
        key,
    )


def test_a_bad_signature_is_refused() -> None:
    signed, vkey, _ = _signed()
    prefix, encoded = signed.rsplit(" ", 1)
    raw = bytearray(base64.b64decode(encoded))
    raw[10] ^= 1  # in the signature, after the key id
    forged = prefix + " " + base64.b64encode(bytes(raw)).decode() + "\n"
    with pytest.raises(note.NoteError, match="does not verify"):
        note.open_note(forged, [vkey])


def test_tampered_text_is_refused() -> None:
    signed, vkey, _ = _signed()
    with pytest.raises(note.NoteError, match="does not verify"):
        note.open_note(signed.replace("1", "2", 1), [vkey])


def test_a_signature_by_another_key_id_is_not_the_known_key() -> None:
    signed, _, _ = _signed()
    other = note.format_vkey("log.example/a", _public(Ed25519PrivateKey.generate()))
    with pytest.raises(note.NoteError, match="no signature by a known key"):
        note.open_note(signed, [other])
    with pytest.raises(note.NoteError):
        note.verify_signature_line("origin\n1\nroot\n", signed.split("\n\n")[1], other)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda s: s.replace("\n\n", "\n"),  # no blank line
        lambda s: s[:-1],  # signature block without its newline
        lambda s: s.replace("\u2014 ", "- "),  # not an em dash
        lambda s: s.replace("\u2014 ", "\u2014"),
        lambda s: s + "\n",  # an empty signature line
        lambda s: s.replace("root\n", "ro\x07ot\n"),  # control character
        lambda s: s.replace("==\n", "=\n") if "==\n" in s else s.replace("=\n", "\n"),  # base64
    ],
)
def test_malformed_notes_are_refused(mangle: Callable[[str], str]) -> None:
    signed, vkey, _ = _signed()
    with pytest.raises(note.NoteError):
        note.open_note(mangle(signed), [vkey])


def test_text_must_end_in_newline() -> None:
    with pytest.raises(note.NoteError):
        note.sign_note("no newline", "a", Ed25519PrivateKey.generate())
    with pytest.raises(note.NoteError):
        note.sign_note("", "a", Ed25519PrivateKey.generate())


def test_cosignatures_known_and_unknown() -> None:
    text = "origin\n1\nroot\n"
    signed, vkey, _ = _signed(text)
    witness = Ed25519PrivateKey.generate()
    stranger = Ed25519PrivateKey.generate()
    full = signed + note.sign_note(text, "witness", witness) + note.sign_note(text, "stranger", stranger)
    witness_vkey = note.format_vkey("witness", _public(witness))
    body, verified, unknown = note.open_note(full, [vkey, witness_vkey])
    assert body == text
    assert verified == ["log.example/a", "witness"]
    assert [line.split(" ")[1] for line in unknown] == ["stranger"]
    # A repeated signature counts once.
    assert (
        note.open_note(full + note.sign_note(text, "witness", witness), [vkey, witness_vkey])[1] == verified
    )


def test_signature_count_is_bounded() -> None:
    text = "t\n"
    key = Ed25519PrivateKey.generate()
    line = note.sign_note(text, "k", key)
    vkey = note.format_vkey("k", _public(key))
    assert note.open_note(text + "\n" + line * note.MAX_SIGNATURES, [vkey])[1] == ["k"]
    with pytest.raises(note.NoteError, match="more than"):
        note.open_note(text + "\n" + line * (note.MAX_SIGNATURES + 1), [vkey])


# --- checkpoints --------------------------------------------------------------------------


def test_checkpoint_round_trip() -> None:
    checkpoint = note.Checkpoint("ocv.example/audit", 12345, bytes(range(32)), ("ext one",))
    text = checkpoint.format()
    assert text == ("ocv.example/audit\n12345\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\next one\n")
    assert note.Checkpoint.parse(text) == checkpoint
    assert note.Checkpoint.parse("o\n0\n" + text.split("\n")[2] + "\n").size == 0


@pytest.mark.parametrize(
    "text",
    [
        "o\n012\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",  # leading zero
        "o\n-1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
        "o\n+1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
        "o\n18446744073709551616\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
        "o\n1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\n",  # 31 bytes
        "o\n1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8\n",  # unpadded
        "o\n1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh9=\n",  # stray bits
        "o\n1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",  # no final newline
        "o\n1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n\n",  # empty extension line
        "\n1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",  # no origin
        "o\n1\n",
    ],
)
def test_malformed_checkpoints(text: str) -> None:
    with pytest.raises(note.NoteError):
        note.Checkpoint.parse(text)


def test_checkpoint_format_checks_its_fields() -> None:
    with pytest.raises(note.NoteError):
        note.Checkpoint("o", 1, bytes(31)).format()
    with pytest.raises(note.NoteError):
        note.Checkpoint("two\nlines", 1, bytes(32)).format()
    with pytest.raises(note.NoteError):
        note.Checkpoint("o", 1, bytes(32), ("",)).format()
