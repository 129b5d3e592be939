"""Bundle export for offline verification (docs/specs/audit-log-format.md, "Bundle")."""

from __future__ import annotations

import io
import json
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit import checkpoints, merkle, sequencer
from audit.keys import list_keys, log_key
from audit.models import Checkpoint, Entry, MerkleHash
from audit.service import size
from audit.state import append_digest, current_state, latest_digest_seq
from ocv.settings import Settings

PAGE = 10_000
LEAF_HASHES = "leaf-hashes.bin"  # 32 bytes an entry, in seq order


def prepare(session: Session, settings: Settings) -> tuple[int, dict[str, Any]]:
    """Bring the log to an exportable head: every pending entry integrated, a state digest
    and a checkpoint covering all. Returns the checkpoint's size and the state the digest
    commits to, for `write_bundle`, which may run in a later transaction (the sequencer's
    lock is held only to the end of this one).

    Nothing is appended when nothing changed since the last export, so repeated
    downloads do not grow the log.
    """
    sequencer.integrate(session)
    if latest_digest_seq(session) != size(session) - 1:
        _seq, state = append_digest(session)
    else:
        state = current_state(session)
    return checkpoints.issue(session, settings, "export").size, state


def write_bundle(
    session: Session, directory: Path, tree_size: int, state: dict[str, Any] | None = None
) -> None:
    """Write the bundle of the first `tree_size` entries into `directory`, with `state` when
    given: the state a digest of these entries commits to (`prepare`). Without it, no
    `state/`: the state as it is now may be ahead of the last digest the entries hold."""
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / "log.jsonl").open("wb") as out:
        for leaf in _leaves(session, tree_size):
            out.write(leaf + b"\n")
    (directory / LEAF_HASHES).write_bytes(b"".join(_stored_leaf_hashes(session, tree_size)))
    (directory / "checkpoints").mkdir(exist_ok=True)
    for checkpoint in session.scalars(
        select(Checkpoint).where(Checkpoint.size <= tree_size).order_by(Checkpoint.size)
    ):
        (directory / "checkpoints" / f"{checkpoint.size}.txt").write_text(
            checkpoints.full_text(checkpoint), encoding="utf-8"
        )
    keys = {
        "log": log_key(session).vkey,
        "keys": [
            {
                "name": k.name,
                "vkey": k.vkey,
                "role": k.role,
                "registered_seq": k.registered_seq,
                "revoked_seq": k.revoked_seq,
            }
            for k in list_keys(session)
            if k.role != "log"
        ],
    }
    (directory / "keys.json").write_text(json.dumps(keys, indent=1, ensure_ascii=False) + "\n")
    if state is not None:
        _write_state(state, directory / "state")


def _leaves(session: Session, tree_size: int) -> Iterator[bytes]:
    for start in range(0, tree_size, PAGE):
        yield from session.scalars(
            select(Entry.leaf)
            .where(Entry.seq >= start, Entry.seq < min(start + PAGE, tree_size))
            .order_by(Entry.seq)
        )


def _stored_leaf_hashes(session: Session, tree_size: int) -> Iterator[bytes]:
    """The leaf hashes as the log stored them when each entry was appended (not recomputed
    from the rows, which could have been edited since): the verifier checks them against
    the signed roots, then names the entry whose bytes no longer hash to its leaf."""
    for start in range(0, tree_size, PAGE):
        wanted = {merkle.stored_hash_index(0, n): n for n in range(start, min(start + PAGE, tree_size))}
        query = select(MerkleHash.index, MerkleHash.hash).where(MerkleHash.index.in_(list(wanted)))
        found: dict[int, bytes] = {index: value for index, value in session.execute(query)}
        yield from (found.get(index, b"") for index in wanted)


def _write_state(state: dict[str, Any], directory: Path) -> None:
    directory.mkdir(exist_ok=True)
    for name, value in state.items():
        (directory / f"{name}.json").write_text(json.dumps(value, ensure_ascii=False, indent=1) + "\n")


def bundle_tar_gz(session: Session, tree_size: int, state: dict[str, Any] | None = None) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "bundle"
        write_bundle(session, root, tree_size, state)
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
            tar.add(root, arcname="bundle")
        return buffer.getvalue()
