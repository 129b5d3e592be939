"""Registration numbers: read aloud over a phone, typed on a phone, and self-checking.

A number is 8 random data characters and one check character, stored undecorated
(``K7M4QX9T2``) and shown in three groups of three (``K7M-4QX-9T2``). 31**8 is about 8.5e11, so
with 5 million voters registered a freshly drawn number is already taken with probability
~6e-6; the registry keeps the column unique and draws again on a clash. Random rather than
sequential numbers also say nothing about when or where someone registered.
"""

from __future__ import annotations

import random
import secrets
import unicodedata
from typing import Literal

# Crockford's base-32 set (digits and letters without I, L and O, which read as 1, 1 and 0, and
# without U, which is written like V) less Z, which is "zed" or "zee" depending on where one
# learnt English and is handwritten like 2. That leaves 31 symbols, a prime: the check needs it.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXY"
DATA_LENGTH = 8
LENGTH = DATA_LENGTH + 1
GROUP = 3

_VALUE = {symbol: value for value, symbol in enumerate(ALPHABET)}
_P = len(ALPHABET)
# Each lookalike that is not in the alphabet has exactly one lookalike that is, so the mapping
# is safe: if a guess is wrong it is a single substitution, which the check always catches.
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V", "Z": "2"})

# Valid numbers satisfy sum(w[i] * value[i]) == 0 (mod 31), weights 9, 8, ..., 1, check last.
# A substitution at i changes the sum by w[i] * (new - old): neither factor is 0 mod the prime
# 31, so neither is the product. Swapping i and j changes it by (w[i] - w[j]) * (v[j] - v[i]):
# the weights are distinct mod 31, so every transposition (adjacent ones included) is caught.
_WEIGHTS = tuple(range(LENGTH, 0, -1))
_SPACE = _P**DATA_LENGTH


class InvalidRegNo(ValueError):
    """``reason`` is "format" (not a registration number at all) or "check" (a registration
    number with a typing or reading mistake in it)."""

    def __init__(self, message: str, reason: Literal["format", "check"]) -> None:
        super().__init__(message)
        self.reason: Literal["format", "check"] = reason


def check_char(data: str) -> str:
    """The check character for DATA_LENGTH canonical data characters."""
    if len(data) != DATA_LENGTH or any(symbol not in _VALUE for symbol in data):
        raise InvalidRegNo(
            f"check_char needs {DATA_LENGTH} characters from {ALPHABET!r}, got {data!r}", "format"
        )
    total = sum(w * _VALUE[symbol] for w, symbol in zip(_WEIGHTS, data, strict=False))
    return ALPHABET[-total % _P]  # the check character's weight is 1


def generate(rng: random.Random | secrets.SystemRandom | None = None) -> str:
    """A new number in canonical (undecorated) form; pass a seeded ``rng`` only in tests."""
    # One uniform draw below 31**8, written in base 31: the same distribution as eight
    # independent symbols, at a fraction of the cost (bulk imports draw a million).
    value = secrets.randbelow(_SPACE) if rng is None else rng.randrange(_SPACE)
    symbols, total = [], 0
    for weight in _WEIGHTS[DATA_LENGTH - 1 :: -1]:  # the last data character first
        value, digit = divmod(value, _P)
        symbols.append(ALPHABET[digit])
        total += weight * digit
    return "".join(reversed(symbols)) + ALPHABET[-total % _P]


def normalize(text: str) -> str:
    """The canonical form of what someone typed: upper case, no spaces or dashes, lookalikes
    mapped. Raises InvalidRegNo(reason="format") if that is not LENGTH alphabet characters."""
    canonical = []
    # NFKC turns full-width forms into ASCII; phones set to Arabic or Persian type their own digits.
    for ch in unicodedata.normalize("NFKC", text):
        if ch.isspace() or unicodedata.category(ch) == "Pd":
            continue
        if unicodedata.category(ch) == "Nd":
            ch = str(unicodedata.decimal(ch))
        canonical.append(ch.upper().translate(_LOOKALIKES))
    result = "".join(canonical)
    stray = sorted({ch for ch in result if ch not in _VALUE})
    if stray:
        raise InvalidRegNo(
            "not a registration number: it contains "
            + ", ".join(repr(ch) for ch in stray)
            + f"; registration numbers use only {ALPHABET}",
            "format",
        )
    if len(result) != LENGTH:
        raise InvalidRegNo(
            f"not a registration number: those have {LENGTH} characters, this has {len(result)}", "format"
        )
    return result


def validate(text: str) -> str:
    """The canonical form, or InvalidRegNo telling a non-number ("format") from a mistyped
    number ("check")."""
    reg_no = normalize(text)
    if check_char(reg_no[:DATA_LENGTH]) != reg_no[DATA_LENGTH]:
        raise InvalidRegNo(
            "the check character does not match: a character was misread or mistyped — check the number",
            "check",
        )
    return reg_no


def is_valid(text: str) -> bool:
    try:
        validate(text)
    except InvalidRegNo:
        return False
    return True


def format(reg_no: str) -> str:  # shadows the builtin on purpose: callers write regno.format
    """Display form, ``K7M-4QX-9T2``; validates first so a wrong number is never shown neatly."""
    canonical = validate(reg_no)
    return "-".join(canonical[i : i + GROUP] for i in range(0, LENGTH, GROUP))
