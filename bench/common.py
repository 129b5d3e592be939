"""Shared by the benchmarks: timing medians and the baseline every ratio is against."""

from __future__ import annotations

import hashlib
import statistics
import time
from collections.abc import Callable, Sequence


def median_seconds(action: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def baseline_root(leaves: Sequence[bytes]) -> bytes:
    """The baseline: a plain hashlib loop computing the RFC 9162 root of the leaves."""
    sha256 = hashlib.sha256
    stack: list[tuple[int, bytes]] = []  # (height, hash) of complete subtrees, left to right
    for leaf in leaves:
        node, height = sha256(b"\x00" + leaf).digest(), 0
        while stack and stack[-1][0] == height:
            node = sha256(b"\x01" + stack.pop()[1] + node).digest()
            height += 1
        stack.append((height, node))
    if not stack:
        return sha256(b"").digest()
    node = stack.pop()[1]
    while stack:
        node = sha256(b"\x01" + stack.pop()[1] + node).digest()
    return node


def report(name: str, value: float, unit: str, baseline: float, ratio: float, target: str) -> None:
    print(
        f"{name:44} {value:12,.1f} {unit:10} baseline {baseline:12,.1f} {unit:10} "
        f"ratio {ratio:6.2f}  (target {target})"
    )
