"""RFC 9162 Merkle trees, and the Go sumdb stored-hash layout for keeping one in a table.

Hashing and proof verification follow RFC 9162 section 2.1. Storage follows
golang.org/x/mod/sumdb/tlog: every complete subtree hash gets a dense integer
index, so a table `(index, hash)` holds the whole tree and any root or proof is
one `read` of at most a few dozen indexes.

Stored-hash numbering: the hash at (level, n) covers records [n * 2**level,
(n + 1) * 2**level); level 0 holds the leaf hashes. Appending record n stores
`stored_hashes_for_record(n, ...)` at indexes `stored_hash_count(n)` onwards:
its leaf hash, then one hash per subtree the record completes. Indexes are
0-based, dense and never change.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence

HASH_SIZE = 32
EMPTY_ROOT = hashlib.sha256(b"").digest()

# read(indexes) returns the stored hashes at those indexes, in the same order.
HashReader = Callable[[Sequence[int]], Sequence[bytes]]


class ProofError(ValueError):
    """A proof that does not verify, or inputs no proof can have."""


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def root(leaf_hashes: Sequence[bytes]) -> bytes:
    """MTH of the leaves with these hashes (RFC 9162 section 2.1.1)."""
    if not leaf_hashes:
        return EMPTY_ROOT
    # The stack holds the roots of complete subtrees, largest first.
    stack: list[bytes] = []
    for count, h in enumerate(leaf_hashes, 1):
        while count & 1 == 0:
            h = node_hash(stack.pop(), h)
            count >>= 1
        stack.append(h)
    h = stack.pop()
    while stack:
        h = node_hash(stack.pop(), h)
    return h


# --- verification (RFC 9162 sections 2.1.3.2 and 2.1.4.2) ------------------------------


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes], root_hash: bytes) -> None:
    """Raise ProofError unless `proof` shows `leaf` at `index` in the tree `root_hash` of `size`."""
    _check_hashes(leaf, root_hash, *proof)
    if not 0 <= index < size:
        raise ProofError(f"index {index} is outside a tree of size {size}")
    fn, sn, r = index, size - 1, leaf
    for p in proof:
        if sn == 0:
            raise ProofError("inclusion proof too long")
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("inclusion proof too short")
    if r != root_hash:
        raise ProofError("inclusion proof does not lead to the root")


def verify_consistency(size1: int, size2: int, proof: Sequence[bytes], root1: bytes, root2: bytes) -> None:
    """Raise ProofError unless `proof` shows the tree (size1, root1) is a prefix of (size2, root2).

    RFC 9162 defines proofs for 0 < size1 < size2. As in transparency-dev/merkle, equal
    sizes need an empty proof and equal roots, and nothing is proved from size 0.
    """
    if not 0 < size1 <= size2:
        raise ProofError(f"no consistency proof from size {size1} to size {size2}")
    if size1 == size2:
        if proof:
            raise ProofError("equal sizes need an empty consistency proof")
        if root1 != root2:
            raise ProofError("equal sizes with different roots")
        return
    _check_hashes(root1, root2, *proof)
    if not proof:
        raise ProofError("empty consistency proof")
    path = list(proof)
    if size1 & (size1 - 1) == 0:
        path.insert(0, root1)
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise ProofError("consistency proof too long")
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ProofError("consistency proof too short")
    if fr != root1:
        raise ProofError("consistency proof does not lead to the old root")
    if sr != root2:
        raise ProofError("consistency proof does not lead to the new root")


def _check_hashes(*hashes: bytes) -> None:
    if any(len(h) != HASH_SIZE for h in hashes):
        raise ProofError(f"a hash is not {HASH_SIZE} bytes")


# --- stored hashes (golang.org/x/mod/sumdb/tlog) ----------------------------------------


def stored_hash_index(level: int, n: int) -> int:
    """Index of the hash at (level, n)."""
    # Level L's n-th hash is stored right after leaf ((n + 1) << L) - 1, whose index is
    # n + n/2 + n/4 + ... (floors), which is 2n minus the number of ones in n.
    n = ((n + 1) << level) - 1
    return 2 * n - n.bit_count() + level


def split_stored_hash_index(index: int) -> tuple[int, int]:
    """(level, n) of a stored-hash index: the inverse of `stored_hash_index`."""
    # stored_hash_index(0, n) < 2n, so n is in [index/2, index/2 + log2(index)].
    n = index // 2
    index_n = stored_hash_index(0, n)
    while True:
        # Record n adds 1 + trailing_zeros(n + 1) hashes.
        following = index_n + 1 + _trailing_zeros(n + 1)
        if following > index:
            break
        n += 1
        index_n = following
    level = index - index_n
    return level, n >> level


def stored_hash_count(n: int) -> int:
    """Number of stored hashes of a tree of n records: the first index of record n."""
    if n == 0:
        return 0
    count = stored_hash_index(0, n - 1) + 1
    i = n - 1
    while i & 1:
        count += 1
        i >>= 1
    return count


def stored_hashes_for_record(n: int, leaf: bytes, read: HashReader) -> list[bytes]:
    """The hashes to store, from index `stored_hash_count(n)`, when appending record n."""
    # Each trailing 1 bit of n completes a subtree, whose left sibling is stored already.
    m = _trailing_zeros(n + 1)
    indexes = [stored_hash_index(i, (n >> i) - 1) for i in reversed(range(m))]
    old = _read(read, indexes)
    hashes = [leaf]
    h = leaf
    for i in range(m):
        h = node_hash(old[m - 1 - i], h)
        hashes.append(h)
    return hashes


def frontier_indexes(n: int) -> list[int]:
    """The stored hashes of the complete subtrees of the tree of n records, largest first:
    all that appending records n, n + 1, ... reads that those appends did not write."""
    return _subtree_indexes(0, n, [])


def tree_hash(n: int, read: HashReader) -> bytes:
    """Root of the tree of the first n records (SHA-256 of nothing when n is 0)."""
    if n == 0:
        return EMPTY_ROOT
    hashes = _read(read, _subtree_indexes(0, n, []))
    h, rest = _subtree_hash(0, n, hashes)
    assert not rest
    return h


def prove_record(t: int, n: int, read: HashReader) -> list[bytes]:
    """RFC 9162 inclusion proof of record n in the tree of size t (one `read`)."""
    if not 0 <= n < t:
        raise ProofError(f"no record {n} in a tree of size {t}")
    indexes = _leaf_proof_indexes(0, t, n, [])
    proof, rest = _leaf_proof(0, t, n, _read(read, indexes))
    assert not rest
    return proof


def prove_tree(t: int, n: int, read: HashReader) -> list[bytes]:
    """RFC 9162 consistency proof that the tree of size n is a prefix of size t (one `read`).

    Empty when n == t; nothing is proved from the empty tree (n must be ≥ 1).
    """
    if not 0 < n <= t:
        raise ProofError(f"no consistency proof from size {n} to size {t}")
    if n == t:
        return []
    indexes = _tree_proof_indexes(0, t, n, [])
    proof, rest = _tree_proof(0, t, n, _read(read, indexes))
    assert not rest
    return proof


def check_record(proof: Sequence[bytes], t: int, root_hash: bytes, n: int, leaf: bytes) -> None:
    verify_inclusion(n, t, leaf, proof, root_hash)


def check_tree(proof: Sequence[bytes], t: int, root_t: bytes, n: int, root_n: bytes) -> None:
    verify_consistency(n, t, proof, root_n, root_t)


# --- a whole tree in memory (the verifier's) ---------------------------------------


def subtree_levels(leaves: bytes) -> list[bytes]:
    """[leaves, level 1, level 2, ...]: level j holds the hashes of the complete subtrees
    of 2**j leaves, 32 bytes each, in order, up to the root."""
    return [leaves] + [nodes for _, nodes in inner_levels(leaves, 0)]


def inner_levels(leaves: bytes, first: int) -> list[tuple[int, bytes]]:
    """For the leaves from index `first` on: (index of the first node, nodes) of each level
    from 1 up, for the nodes whose subtree lies within these leaves. A worker builds them
    for its run of leaves; `join_levels` adds the nodes across runs."""
    out: list[tuple[int, bytes]] = []
    below, start = leaves, first
    while True:
        skip = (start & 1) * 32  # a right child: its parent spans the run before
        pairs = len(below[skip:]) // 64
        if not pairs:
            return out
        below = _node_hashes(below, skip, pairs)
        start = (start + 1) >> 1
        out.append((start, below))


def leaf_hashes(leaves: Iterable[bytes]) -> bytes:
    """The leaf hashes of `leaves`, 32 bytes each."""
    # Copying a hash that has taken the prefix saves joining it to every leaf.
    prefixed = hashlib.sha256(b"\x00").copy
    digests = []
    for leaf in leaves:
        h = prefixed()
        h.update(leaf)
        digests.append(h.digest())
    return b"".join(digests)


def _node_hashes(level: bytes, skip: int, pairs: int) -> bytes:
    """The parents of `pairs` pairs of hashes in `level`, from byte `skip` on."""
    prefixed, view = hashlib.sha256(b"\x01").copy, memoryview(level)
    digests = []
    for i in range(skip, skip + 64 * pairs, 64):
        h = prefixed()
        h.update(view[i : i + 64])
        digests.append(h.digest())
    return b"".join(digests)


def join_levels(leaves: bytes, parts: Sequence[list[tuple[int, bytes]]]) -> list[bytes]:
    """`subtree_levels(leaves)` from the `inner_levels` of consecutive runs of them: the
    nodes no run holds are hashed here, from the level below."""
    levels = [leaves]
    while len(levels[-1]) >= 64:
        below, j = levels[-1], len(levels) - 1
        pieces, done = [], 0  # node index reached on this level
        for part in parts:
            if j < len(part):
                start, nodes = part[j]
                pieces += [_pair_hash(below, m) for m in range(done, start)]
                pieces.append(nodes)
                done = start + len(nodes) // 32
        pieces += [_pair_hash(below, m) for m in range(done, len(below) // 64)]
        levels.append(b"".join(pieces))
    return levels


def _pair_hash(level: bytes, m: int) -> bytes:
    return hashlib.sha256(b"\x01" + level[64 * m : 64 * m + 64]).digest()


def prefix_root(levels: Sequence[bytes], size: int) -> bytes:
    """Root of the first `size` leaves: its complete subtrees, folded right to left."""
    if size == 0:
        return EMPTY_ROOT
    nodes = []
    start = 0
    for level in range(size.bit_length() - 1, -1, -1):
        if size >> level & 1:
            i = (start >> level) * 32
            nodes.append(levels[level][i : i + 32])
            start += 1 << level
    h = nodes.pop()
    while nodes:
        h = node_hash(nodes.pop(), h)
    return h


def level_reader(levels: Sequence[bytes]) -> HashReader:
    """A HashReader over the levels: stored-hash index -> (level, n) -> hash, so the
    prove_* functions work on a tree held in memory."""

    def read(indexes: Sequence[int]) -> list[bytes]:
        out = []
        for index in indexes:
            level, n = split_stored_hash_index(index)
            out.append(levels[level][n * 32 : n * 32 + 32])
        return out

    return read


# The index functions list, in order, the stored hashes that the matching assembly
# functions consume, so each proof is one read.


def _read(read: HashReader, indexes: list[int]) -> list[bytes]:
    if not indexes:
        return []
    hashes = list(read(indexes))
    if len(hashes) != len(indexes) or any(len(h) != HASH_SIZE for h in hashes):
        raise ProofError("the hash reader returned the wrong number or size of hashes")
    return hashes


def _trailing_zeros(x: int) -> int:
    return (x & -x).bit_length() - 1


def _max_pow2_below(n: int) -> int:
    """Largest power of two smaller than n (n ≥ 2): RFC 9162's k."""
    return 1 << ((n - 1).bit_length() - 1)


def _subtree_indexes(lo: int, hi: int, need: list[int]) -> list[int]:
    # [lo, hi) as complete subtrees, largest first: one stored hash each.
    while lo < hi:
        level = (hi - lo).bit_length() - 1
        need.append(stored_hash_index(level, lo >> level))
        lo += 1 << level
    return need


def _subtree_hash(lo: int, hi: int, hashes: list[bytes]) -> tuple[bytes, list[bytes]]:
    count = 0
    while lo < hi:
        lo += 1 << ((hi - lo).bit_length() - 1)
        count += 1
    h = hashes[count - 1]
    for i in range(count - 2, -1, -1):
        h = node_hash(hashes[i], h)
    return h, hashes[count:]


def _leaf_proof_indexes(lo: int, hi: int, n: int, need: list[int]) -> list[int]:
    if hi - lo == 1:
        return need
    k = _max_pow2_below(hi - lo)
    if n < lo + k:
        _leaf_proof_indexes(lo, lo + k, n, need)
        return _subtree_indexes(lo + k, hi, need)
    _subtree_indexes(lo, lo + k, need)
    return _leaf_proof_indexes(lo + k, hi, n, need)


def _leaf_proof(lo: int, hi: int, n: int, hashes: list[bytes]) -> tuple[list[bytes], list[bytes]]:
    if hi - lo == 1:
        return [], hashes
    k = _max_pow2_below(hi - lo)
    if n < lo + k:
        proof, hashes = _leaf_proof(lo, lo + k, n, hashes)
        sibling, hashes = _subtree_hash(lo + k, hi, hashes)
    else:
        sibling, hashes = _subtree_hash(lo, lo + k, hashes)
        proof, hashes = _leaf_proof(lo + k, hi, n, hashes)
    proof.append(sibling)
    return proof, hashes


def _tree_proof_indexes(lo: int, hi: int, n: int, need: list[int]) -> list[int]:
    if n == hi:
        return need if lo == 0 else _subtree_indexes(lo, hi, need)
    k = _max_pow2_below(hi - lo)
    if n <= lo + k:
        _tree_proof_indexes(lo, lo + k, n, need)
        return _subtree_indexes(lo + k, hi, need)
    _subtree_indexes(lo, lo + k, need)
    return _tree_proof_indexes(lo + k, hi, n, need)


def _tree_proof(lo: int, hi: int, n: int, hashes: list[bytes]) -> tuple[list[bytes], list[bytes]]:
    if n == hi:
        if lo == 0:  # the old tree itself: the verifier has its root
            return [], hashes
        h, hashes = _subtree_hash(lo, hi, hashes)
        return [h], hashes
    k = _max_pow2_below(hi - lo)
    if n <= lo + k:
        proof, hashes = _tree_proof(lo, lo + k, n, hashes)
        sibling, hashes = _subtree_hash(lo + k, hi, hashes)
    else:
        sibling, hashes = _subtree_hash(lo, lo + k, hashes)
        proof, hashes = _tree_proof(lo + k, hi, n, hashes)
    proof.append(sibling)
    return proof, hashes


class RootBuilder:
    """The RFC 9162 Merkle root of leaves added one at a time, in O(log n) memory.

    Equal to `audit.merkle.root([leaf_hash(d) for d in leaves])` without keeping the list.
    """

    def __init__(self) -> None:
        self.count = 0
        self.stack: list[bytes] = []  # roots of the complete subtrees, largest first

    def add(self, data: bytes) -> None:
        self.count += 1
        h, count = leaf_hash(data), self.count
        while count & 1 == 0:
            h = node_hash(self.stack.pop(), h)
            count >>= 1
        self.stack.append(h)

    def root(self) -> bytes:
        if not self.stack:
            return EMPTY_ROOT
        h = self.stack[-1]
        for left in reversed(self.stack[:-1]):
            h = node_hash(left, h)
        return h
