"""Row ids: UUIDv7 (RFC 9562), random but ordered by time of creation.

Random version-4 ids land all over an index, so each insert touches a cold page once a
table outgrows the cache; ids that grow with time are appended next to the last one.
The 74 random bits keep them unguessable.
"""

from __future__ import annotations

import os
import time
import uuid

_VERSION_AND_VARIANT = (0x7 << 76) | (0b10 << 62)
_RAND_B = (1 << 62) - 1  # the low 62 bits; rand_a, 12 bits, sits above the variant


def uuid7_int() -> int:
    """A new UUIDv7 as an integer: 48 bits of Unix milliseconds, then 74 random bits."""
    random_bits = int.from_bytes(os.urandom(10))
    return (
        (time.time_ns() // 1_000_000) << 80
        | _VERSION_AND_VARIANT
        | (random_bits >> 62 & 0xFFF) << 64
        | random_bits & _RAND_B
    )


def uuid7() -> uuid.UUID:
    return uuid.UUID(int=uuid7_int())


def uuid7_hex() -> str:
    """The same as `uuid7().hex`, without building the UUID object."""
    return f"{uuid7_int():032x}"
