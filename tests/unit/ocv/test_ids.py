"""UUIDv7 row ids (RFC 9562): version and variant bits, time order, randomness."""

from __future__ import annotations

import time
import uuid

from ocv import ids


def test_version_variant_and_timestamp() -> None:
    before = time.time_ns() // 1_000_000
    value = ids.uuid7()
    after = time.time_ns() // 1_000_000
    assert value.version == 7
    assert value.variant == uuid.RFC_4122
    assert before <= value.int >> 80 <= after  # the top 48 bits: Unix milliseconds


def test_ids_grow_with_time_and_do_not_repeat() -> None:
    earlier = ids.uuid7_hex()
    time.sleep(0.002)
    later = ids.uuid7_hex()
    assert earlier < later  # hex order is time order across milliseconds
    many = {ids.uuid7_hex() for _ in range(10_000)}
    assert len(many) == 10_000
    assert all(uuid.UUID(hex=h).version == 7 for h in list(many)[:100])


def test_random_bits_are_not_constant() -> None:
    # The 74 random bits: rand_a (12 bits above the version) and rand_b (62 bits below the variant).
    values = [ids.uuid7().int for _ in range(200)]
    rand_a = {v >> 64 & 0xFFF for v in values}
    rand_b = {v & ((1 << 62) - 1) for v in values}
    assert len(rand_a) > 100
    assert len(rand_b) == 200
