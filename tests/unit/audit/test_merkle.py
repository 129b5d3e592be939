"""RFC 9162 proofs against the transparency-dev/merkle vectors, and the stored-hash
layout (golang.org/x/mod/sumdb/tlog) against a plain in-memory tree."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit import merkle

VECTORS = Path(__file__).parents[2] / "vectors" / "merkle"
# subtree*/ are proofs about arbitrary [start, end) subtrees (the Merkle Tree Certificates
# draft), another proof kind: only their start == 0 cases coincide with RFC 9162. Not used.
INCLUSION = sorted((VECTORS / "inclusion").rglob("*.json"))
CONSISTENCY = sorted((VECTORS / "consistency").rglob("*.json"))


def _case(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value or "")


def _proof(values: list[str] | None) -> list[bytes]:
    return [_b64(v) for v in values or []]


def _id(path: Path) -> str:
    return str(path.relative_to(VECTORS))


def test_the_vectors_are_there() -> None:
    assert len(INCLUSION) > 90
    assert len(CONSISTENCY) > 90


@pytest.mark.parametrize("path", INCLUSION, ids=_id)
def test_inclusion_vector(path: Path) -> None:
    case = _case(path)

    def verify() -> None:
        merkle.verify_inclusion(
            case["leafIdx"],
            case["treeSize"],
            _b64(case["leafHash"]),
            _proof(case["proof"]),
            _b64(case["root"]),
        )

    if case["wantErr"]:
        with pytest.raises(merkle.ProofError):
            verify()
    else:
        verify()


@pytest.mark.parametrize("path", CONSISTENCY, ids=_id)
def test_consistency_vector(path: Path) -> None:
    case = _case(path)

    def verify() -> None:
        merkle.verify_consistency(
            case["size1"], case["size2"], _proof(case["proof"]), _b64(case["root1"]), _b64(case["root2"])
        )

    if case["wantErr"]:
        with pytest.raises(merkle.ProofError):
            verify()
    else:
        verify()


# --- the stored-hash table ---------------------------------------------------------------


def _leaves(count: int) -> list[bytes]:
    return [merkle.leaf_hash(f"entry {i}".encode()) for i in range(count)]


def _reference_root(leaves: Sequence[bytes]) -> bytes:
    """MTH straight from the RFC's recursive definition."""
    if not leaves:
        return merkle.EMPTY_ROOT
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return merkle.node_hash(_reference_root(leaves[:k]), _reference_root(leaves[k:]))


class Table:
    """A dict standing in for the `(index, hash)` table, counting reads."""

    def __init__(self) -> None:
        self.hashes: dict[int, bytes] = {}
        self.reads = 0

    def read(self, indexes: Sequence[int]) -> list[bytes]:
        self.reads += 1
        return [self.hashes[i] for i in indexes]

    def append(self, leaf: bytes) -> None:
        n = len([i for i in self.hashes if merkle.split_stored_hash_index(i)[0] == 0])
        first = merkle.stored_hash_count(n)
        assert first == len(self.hashes)
        for offset, h in enumerate(merkle.stored_hashes_for_record(n, leaf, self.read)):
            self.hashes[first + offset] = h
        assert len(self.hashes) == merkle.stored_hash_count(n + 1)


LEAVES = _leaves(300)
TABLE = Table()
for _leaf in LEAVES:
    TABLE.append(_leaf)


def test_stored_hash_index_round_trips() -> None:
    for level in range(9):
        for n in range(300 >> level):
            assert merkle.split_stored_hash_index(merkle.stored_hash_index(level, n)) == (level, n)
    # Dense: the stored hashes of 300 records are exactly indexes 0..count-1.
    assert sorted(TABLE.hashes) == list(range(merkle.stored_hash_count(300)))


def test_known_indexes() -> None:
    # Record 0: index 0; record 1: 1 and its parent 2; record 2: 3; record 3: 4, 5, 6.
    assert [merkle.stored_hash_index(0, n) for n in range(5)] == [0, 1, 3, 4, 7]
    assert merkle.stored_hash_index(1, 0) == 2
    assert merkle.stored_hash_index(2, 0) == 6
    assert [merkle.stored_hash_count(n) for n in range(6)] == [0, 1, 3, 4, 7, 8]


def test_stored_hashes_are_subtree_roots() -> None:
    for index, h in TABLE.hashes.items():
        level, n = merkle.split_stored_hash_index(index)
        assert h == _reference_root(LEAVES[n << level : (n + 1) << level])


def test_tree_hash_matches_root_for_every_size() -> None:
    for size in range(301):
        expected = merkle.root(LEAVES[:size])
        assert expected == _reference_root(LEAVES[:size])
        TABLE.reads = 0
        assert merkle.tree_hash(size, TABLE.read) == expected
        assert TABLE.reads == (1 if size else 0)


ROOTS = [merkle.root(LEAVES[:size]) for size in range(len(LEAVES) + 1)]


def test_every_inclusion_proof() -> None:
    for size in range(1, len(LEAVES) + 1):
        for index in range(size):
            TABLE.reads = 0
            proof = merkle.prove_record(size, index, TABLE.read)
            assert TABLE.reads <= 1  # one query per proof
            merkle.verify_inclusion(index, size, LEAVES[index], proof, ROOTS[size])
    merkle.check_record(proof, size, ROOTS[size], index, LEAVES[index])


def test_every_consistency_proof() -> None:
    for size in range(1, len(LEAVES) + 1):
        for old in range(1, size + 1):
            TABLE.reads = 0
            proof = merkle.prove_tree(size, old, TABLE.read)
            assert TABLE.reads <= 1
            merkle.verify_consistency(old, size, proof, ROOTS[old], ROOTS[size])
    merkle.check_tree(proof, size, ROOTS[size], old, ROOTS[old])


def test_bad_inputs() -> None:
    with pytest.raises(merkle.ProofError):
        merkle.prove_record(5, 5, TABLE.read)
    with pytest.raises(merkle.ProofError):
        merkle.prove_tree(5, 6, TABLE.read)
    with pytest.raises(merkle.ProofError):
        merkle.prove_tree(5, 0, TABLE.read)
    with pytest.raises(merkle.ProofError):
        merkle.tree_hash(3, lambda indexes: [b"short"] * len(indexes))


sizes = st.integers(min_value=1, max_value=300)


def _flip(proof: list[bytes], data: st.DataObject) -> list[bytes]:
    i = data.draw(st.integers(0, len(proof) - 1))
    bit = data.draw(st.integers(0, 255))
    changed = bytearray(proof[i])
    changed[bit // 8] ^= 1 << (bit % 8)
    return [*proof[:i], bytes(changed), *proof[i + 1 :]]


def _altered(proof: list[bytes], data: st.DataObject) -> list[bytes]:
    choices = ["add", "add_front"] + (["flip", "drop", "drop_front"] if proof else [])
    kind = data.draw(st.sampled_from(choices))
    if kind == "flip":
        return _flip(proof, data)
    if kind == "drop":
        return proof[:-1]
    if kind == "drop_front":
        return proof[1:]
    extra = LEAVES[data.draw(st.integers(0, 299))]
    return [*proof, extra] if kind == "add" else [extra, *proof]


@settings(max_examples=300, deadline=None)
@given(size=sizes, data=st.data())
def test_inclusion_property(size: int, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, size - 1))
    root = merkle.root(LEAVES[:size])
    assert merkle.tree_hash(size, TABLE.read) == root
    proof = merkle.prove_record(size, index, TABLE.read)
    merkle.verify_inclusion(index, size, LEAVES[index], proof, root)

    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(index, size, LEAVES[index], _altered(proof, data), root)
    other = data.draw(st.integers(0, size))  # `size` itself is out of range
    if other != index:
        with pytest.raises(merkle.ProofError):
            merkle.verify_inclusion(other, size, LEAVES[index], proof, root)
    with pytest.raises(merkle.ProofError):
        merkle.verify_inclusion(index, size, merkle.leaf_hash(b"forged"), proof, root)


@settings(max_examples=300, deadline=None)
@given(size=sizes, data=st.data())
def test_consistency_property(size: int, data: st.DataObject) -> None:
    old = data.draw(st.integers(1, size))
    root, old_root = merkle.root(LEAVES[:size]), merkle.root(LEAVES[:old])
    proof = merkle.prove_tree(size, old, TABLE.read)
    merkle.verify_consistency(old, size, proof, old_root, root)
    if old == size:
        assert proof == []
        return
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(old, size, _altered(proof, data), old_root, root)
    with pytest.raises(merkle.ProofError):
        merkle.verify_consistency(old, size, proof, old_root, merkle.root(LEAVES[: size - 1]))
    wrong_old = data.draw(st.integers(1, size - 1))
    if wrong_old != old:
        with pytest.raises(merkle.ProofError):
            merkle.verify_consistency(wrong_old, size, proof, old_root, root)
