"""Offline verification of an audit bundle (docs/specs/audit-log-format.md).

Runs on an observer's machine with no server, database or app code: it trusts only
the log's verifier key given on the command line. Order of the checks, and so of
the failure reported first: the bundle's files, then every entry in `seq` order
(canonical form, members, key registry, document signatures, state digests), then
every checkpoint by size, then keys.json, then the state files.

Large logs are parsed in chunks, in worker processes when there are cores to spare;
Merkle roots, the key registry and everything that needs the whole log are computed
in the parent from what the chunks return.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import mmap
import multiprocessing
import os
import re
import tarfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import accumulate
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit import merkle, note
from audit.entry_scan import Scan, scan_chunk
from audit.jcs import CanonicalError, canonical_bytes, loads_strict
from audit.replay_polling import PollingReplay, PollingRuleBroken
from audit.results_replay import ResultsBad, ResultsReplay

PARALLEL_THRESHOLD = 200_000  # entries; below it, starting workers costs more than it saves
CHUNK_BYTES = 8 << 20  # per chunk: bounds memory, paces the progress bar
# Workers get smaller chunks, so none idles long while another finishes the last one.
WORKER_CHUNK_BYTES = 2 << 20
_CHECKPOINT_FILE = re.compile(r"(0|[1-9][0-9]*)\.txt")

# progress(entries just checked, entries in all)
Progress = Callable[[int, int], None]


# --- results ------------------------------------------------------------------------------


class _Bad(Exception):
    """An entry the replay refuses; `_replay` reports it as the entry's failure."""


class Failed(Exception):
    """The first thing that does not hold. `where`: bundle, entry, checkpoint, keys.json
    or state; `at`: the entry's seq, the checkpoint's size, or a file name."""

    def __init__(self, where: str, at: int | str | None, reason: str) -> None:
        super().__init__(f"{where} {at}: {reason}" if at is not None else f"{where}: {reason}")
        self.where, self.at, self.reason = where, at, reason


class BundleNotFound(Exception):
    """No bundle at that path: a usage error, not a failed verification."""


@dataclass
class CheckpointInfo:
    size: int
    cosigners: list[str]  # observer keys whose cosignature verified
    unverified: list[str]  # names on signature lines by keys the log does not register


@dataclass
class KeyInfo:
    name: str
    vkey: str
    role: str
    owner: str
    registered_seq: int
    revoked_seq: int | None = None


@dataclass
class Report:
    ok: bool = False
    entries: int = 0
    first_time: str | None = None
    last_time: str | None = None
    types: dict[str, int] = field(default_factory=dict)
    origin: str | None = None
    checkpoints: list[CheckpointInfo] = field(default_factory=list)
    keys: list[KeyInfo] = field(default_factory=list)
    documents: int = 0  # signed documents whose every signature verified
    signatures: int = 0
    digests: int = 0  # state digests whose entries_by_type matched the replay
    voters_marked: int = 0  # the marked register the polling replay rebuilt
    protocols: int = 0  # station protocols whose figures matched their stations' entries
    certifications: int = 0  # certified results that the recount from the log matched
    state_checked: list[str] = field(default_factory=list)
    state_unchecked: list[str] = field(default_factory=list)  # no digest names them
    failure: Failed | None = None


# --- the bundle ---------------------------------------------------------------------------


@dataclass
class Bundle:
    log: bytes
    checkpoints: dict[str, bytes]  # file name -> content
    keys: bytes | None
    state: dict[str, bytes]  # file name -> content
    leaf_hashes: bytes = b""  # as the log stored them; optional, checked against the roots


def read_bundle(path: Path) -> Bundle:
    """The bundle's files, from a directory or a .tar.gz of one (read in memory, never
    extracted, so names in the archive cannot write anywhere)."""
    if path.is_dir():
        return _bundle(
            {p.relative_to(path).as_posix(): p.read_bytes() for p in path.rglob("*") if p.is_file()}
        )
    if not path.is_file():
        raise BundleNotFound(f"no bundle at {path}")
    try:
        with tarfile.open(path, "r:*") as tar:
            members = {m.name: m for m in tar.getmembers() if m.isfile()}
            logs = sorted((n for n in members if n.rsplit("/", 1)[-1] == "log.jsonl"), key=len)
            if not logs:
                raise Failed("bundle", None, "no log.jsonl in the archive")
            root = logs[0][: -len("log.jsonl")]
            contents = {}
            for name, member in members.items():
                if name.startswith(root):
                    extracted = tar.extractfile(member)
                    assert extracted is not None  # regular files always extract
                    contents[name[len(root) :]] = extracted.read()
    except (tarfile.TarError, OSError, EOFError) as error:
        raise Failed("bundle", None, f"not a readable directory or .tar.gz: {error}") from None
    return _bundle(contents)


def _bundle(files: dict[str, bytes]) -> Bundle:
    if "log.jsonl" not in files:
        raise Failed("bundle", None, "no log.jsonl")
    checkpoints = {n.split("/", 1)[1]: data for n, data in files.items() if n.startswith("checkpoints/")}
    state = {n.split("/", 1)[1]: data for n, data in files.items() if n.startswith("state/")}
    return Bundle(
        files["log.jsonl"], checkpoints, files.get("keys.json"), state, files.get("leaf-hashes.bin", b"")
    )


# --- entries: the whole log ---------------------------------------------------------------


def _chunks(data: bytes, count: int) -> list[tuple[int, int]]:
    """(start, end) of about `count` runs of whole lines (finding line ends, not counting)."""
    step = max(1, len(data) // max(1, count))
    bounds = []
    start = 0
    while start < len(data):
        end = data.find(b"\n", min(start + step, len(data)) - 1) + 1 or len(data)
        bounds.append((start, end))
        start = end
    return bounds


_SHARED: bytes = b""  # the log, inherited by forked workers instead of sent to them


# Forked workers write the leaf hashes and Merkle nodes of their chunks here, in memory
# shared with the parent: receiving them through a pipe takes the parent CPU time that
# the workers need. The buffer, and the byte offset of each level in it (leaves first).
_LEVELS: tuple[mmap.mmap, list[int]] | None = None


def _scan_task(task: tuple[bytes | None, int, int, int]) -> tuple[Scan, list[tuple[int, bytes]]]:
    """A chunk's scan, and the Merkle nodes within its leaves (the parent adds the rest)."""
    buf, start, end, seq0 = task
    scan = scan_chunk(_SHARED[start:end] if buf is None else buf, seq0)
    return scan, merkle.inner_levels(scan.hashes, seq0)


def _scan_shared_task(task: tuple[bytes | None, int, int, int]) -> tuple[Scan, list[tuple[int, int]]]:
    """`_scan_task` with the hashes and nodes left in `_LEVELS`: the scan without its
    hashes, and the (first index, byte length) of the run's nodes on each level."""
    assert _LEVELS is not None  # set before the workers were forked
    shared, offsets = _LEVELS
    scan, inner = _scan_task(task)
    spans = []
    for offset, (first, nodes) in zip(offsets, [(scan.seq0, scan.hashes), *inner], strict=False):
        shared[offset + 32 * first : offset + 32 * first + len(nodes)] = nodes
        spans.append((first, len(nodes)))
    scan.hashes = b""
    return scan, spans


def _count_task(bounds: tuple[int, int]) -> int:
    start, end = bounds
    return _SHARED.count(b"\n", start, end)


def _scan_all(
    data: bytes, jobs: int, parallel_threshold: int, progress: Progress | None
) -> tuple[list[Scan], list[bytes]]:
    """Scan every line and build the Merkle levels, in worker processes for large logs.

    Counting lines is a pass over the whole log, so it is done only where needed: to
    give each worker its first seq (by the workers), and for the progress bar's total."""
    if jobs > 1 and _more_lines_than(data, parallel_threshold):
        return _scan_parallel(data, jobs, progress)
    total = data.count(b"\n") if progress else 0
    scans: list[Scan] = []
    seq0 = 0
    for start, end in _chunks(data, len(data) // CHUNK_BYTES + 1):
        scans.append(scan_chunk(data[start:end], seq0))
        seq0 += len(scans[-1].hashes) // 32
        if progress:
            progress(len(scans[-1].hashes) // 32, total)
        if scans[-1].error:
            break
    return scans, merkle.subtree_levels(b"".join(s.hashes for s in scans))


def _more_lines_than(data: bytes, count: int) -> bool:
    """Whether `data` holds more than `count` lines, counting no further than needed."""
    found = 0
    for start in range(0, len(data), CHUNK_BYTES):
        found += data.count(b"\n", start, start + CHUNK_BYTES)
        if found > count:
            return True
    return False


def _scan_parallel(data: bytes, jobs: int, progress: Progress | None) -> tuple[list[Scan], list[bytes]]:
    global _SHARED
    bounds = _chunks(data, max(jobs * 4, len(data) // WORKER_CHUNK_BYTES))
    if "fork" not in multiprocessing.get_all_start_methods():
        counts = [data.count(b"\n", start, end) for start, end in bounds]
        return _scan_spawned(data, bounds, counts, jobs, progress)
    context = multiprocessing.get_context("fork")
    _SHARED = data
    try:
        # The workers count the lines of their chunks: the parent has no core to spare.
        with context.Pool(jobs) as pool:
            counts = pool.map(_count_task, bounds)
        return _scan_forked(bounds, counts, jobs, progress)
    finally:
        _SHARED = b""


def _scan_forked(
    bounds: list[tuple[int, int]], counts: list[int], jobs: int, progress: Progress | None
) -> tuple[list[Scan], list[bytes]]:
    global _LEVELS
    total = sum(counts)
    offsets = list(accumulate((32 * (total >> level) for level in range(total.bit_length())), initial=0))
    seq0s = accumulate(counts, initial=0)
    tasks = [(None, start, end, seq0) for (start, end), seq0 in zip(bounds, seq0s, strict=False)]
    with mmap.mmap(-1, offsets[-1]) as shared:
        _LEVELS = (shared, offsets)
        try:
            with multiprocessing.get_context("fork").Pool(jobs) as pool:
                scans, parts = [], []
                for scan, spans in pool.imap(_scan_shared_task, tasks):
                    nodes = [
                        (first, shared[offset + 32 * first : offset + 32 * first + size])
                        for offset, (first, size) in zip(offsets, spans, strict=False)
                    ]
                    scan.hashes = nodes[0][1]
                    scans.append(scan)
                    parts.append(nodes[1:])
                    if progress:
                        progress(len(scan.hashes) // 32, total)
        finally:
            _LEVELS = None
    return scans, merkle.join_levels(b"".join(s.hashes for s in scans), parts)


def _scan_spawned(
    data: bytes, bounds: list[tuple[int, int]], counts: list[int], jobs: int, progress: Progress | None
) -> tuple[list[Scan], list[bytes]]:
    """Without fork, each worker is sent its chunk and sends its hashes and nodes back."""
    total = sum(counts)
    tasks = [
        (data[start:end], start, end, seq0)
        for (start, end), seq0 in zip(bounds, accumulate(counts, initial=0), strict=False)
    ]
    with multiprocessing.get_context("spawn").Pool(jobs) as pool:
        scans, parts = [], []
        for scan, inner in pool.imap(_scan_task, tasks):
            scans.append(scan)
            parts.append(inner)
            if progress:
                progress(len(scan.hashes) // 32, total)
    return scans, merkle.join_levels(b"".join(s.hashes for s in scans), parts)


# --- replay: the key registry, signed documents, state digests ----------------------------


class Replay:
    def __init__(self, log_vkey: str, checkpoint_bodies: dict[int, str]) -> None:
        self.log_vkey = log_vkey
        self.bodies = checkpoint_bodies
        self.origin: str | None = None
        self.keys: dict[str, KeyInfo] = {}
        self.public: dict[str, bytes] = {}
        self.documents = self.signatures = self.digests = 0
        self.last_state: tuple[int, dict[str, Any]] | None = None
        self.polling = PollingReplay()
        self.results = ResultsReplay()
        self.roots: dict[int, str] = {}
        for size, body in checkpoint_bodies.items():
            try:
                self.roots[size] = note.Checkpoint.parse(body).root.hex()
            except note.NoteError:
                continue  # reported by the checkpoint checks

    def entry(self, seq: int, entry: dict[str, Any], counts: dict[str, int] | None) -> None:
        kind, payload = entry["type"], entry["payload"]
        if (seq == 0) != (kind == "audit.log_created"):
            raise _Bad("entry 0, and only entry 0, is audit.log_created")
        if kind == "audit.log_created":
            self._log_created(seq, payload)
        elif kind == "audit.key_registered":
            self._register(seq, *_strings(payload, "name", "vkey", "role", "owner"))
        elif kind == "audit.key_revoked":
            self._key_revoked(seq, payload)
        elif kind == "audit.state_digest":
            assert counts is not None  # the scan snapshots the counts before every digest
            self._state_digest(seq, payload, counts)
        elif kind == "audit.checkpoint_cosigned":
            self._checkpoint_cosigned(seq, payload)
        if "signatures" in payload:
            self._document(seq, payload)
        try:
            self.polling.entry(seq, entry, self.keys)
        except PollingRuleBroken as error:
            raise _Bad(str(error)) from None
        if kind == "polling.protocol_signed" or kind.startswith("tally."):
            try:
                self.results.entry(seq, entry, self.roots)
            except ResultsBad as error:
                raise _Bad(f"the result does not add up: {error}") from None
            except (KeyError, TypeError, AttributeError) as error:
                raise _Bad(f"a malformed {kind} entry ({error!r})") from None

    def _log_created(self, seq: int, payload: dict[str, Any]) -> None:
        origin, vkey = _strings(payload, "origin", "vkey")
        if vkey != self.log_vkey:
            raise _Bad(f"the log key here is {vkey}, not the --log-key given")
        self.origin = origin
        self._register(seq, note.parse_vkey(vkey)[0], vkey, "log", "ocv")

    def _register(self, seq: int, name: str, vkey: str, role: str, owner: str) -> None:
        if role == "log" and seq != 0:
            raise _Bad("the role 'log' is the log key's alone")
        if name in self.keys:
            raise _Bad(
                f"key name {name!r} was registered at entry {self.keys[name].registered_seq}"
                "; names are never reused"
            )
        try:
            vkey_name, public_key = note.parse_vkey(vkey)
        except note.NoteError as error:
            raise _Bad(f"key {name!r}: {error}") from None
        if vkey_name != name:
            raise _Bad(f"key {name!r} is registered with a verifier key named {vkey_name!r}")
        self.keys[name] = KeyInfo(name, vkey, role, owner, seq)
        self.public[name] = public_key

    def _key_revoked(self, seq: int, payload: dict[str, Any]) -> None:
        name, _reason = _strings(payload, "name", "reason")
        key = self.keys.get(name)
        if key is None:
            raise _Bad(f"revokes {name!r}, which is not a registered key")
        if key.revoked_seq is not None:
            raise _Bad(f"key {name!r} was revoked already at entry {key.revoked_seq}")
        if key.role == "log":
            raise _Bad("revokes the log key, the log's trust root")
        key.revoked_seq = seq

    def _state_digest(self, seq: int, payload: dict[str, Any], counts: dict[str, int]) -> None:
        claimed, state = payload.get("entries_by_type"), payload.get("state", {})
        if type(claimed) is not dict or type(state) is not dict:
            raise _Bad("a state digest has entries_by_type and state objects")
        if claimed != counts:
            diff = sorted(t for t in claimed.keys() | counts.keys() if claimed.get(t) != counts.get(t))
            raise _Bad(
                "entries_by_type differs from the replay: "
                + ", ".join(f"{t} {claimed.get(t, 0)} claimed, {counts.get(t, 0)} replayed" for t in diff[:5])
            )
        self.digests += 1
        self.last_state = (seq, state)

    def _checkpoint_cosigned(self, seq: int, payload: dict[str, Any]) -> None:
        size, name, line = payload.get("size"), payload.get("key"), payload.get("signature")
        if type(size) is not int or type(name) is not str or type(line) is not str:
            raise _Bad("a cosignature entry has size, key and signature")
        self._active(seq, name)
        if self.keys[name].role != "observer":
            raise _Bad(f"cosigned with {name!r}, which is not an observer key")
        body = self.bodies.get(size)
        if body is not None:
            try:
                note.verify_signature_line(body, line, self.keys[name].vkey)
            except note.NoteError as error:
                raise _Bad(f"cosignature of checkpoint {size}: {error}") from None

    def _document(self, seq: int, payload: dict[str, Any]) -> None:
        signatures = payload["signatures"]
        if "document" not in payload or type(signatures) is not list:
            raise _Bad("signatures go with a document, as a list")
        signed = canonical_bytes(payload["document"])
        for signature in signatures:
            if type(signature) is not dict or sorted(signature) != ["key", "sig"]:
                raise _Bad('each signature is {"key": <name>, "sig": <base64>}')
            name, sig = _strings(signature, "key", "sig")
            self._active(seq, name)
            try:
                raw = base64.b64decode(sig, validate=True)
                Ed25519PublicKey.from_public_bytes(self.public[name]).verify(raw, signed)
            except (binascii.Error, ValueError, InvalidSignature):
                raise _Bad(f"the signature by {name!r} does not verify") from None
            self.signatures += 1
        self.documents += 1

    def _active(self, seq: int, name: str) -> None:
        key = self.keys.get(name)
        if key is None:
            raise _Bad(f"signed by {name!r}, which is not a registered key")
        if not key.registered_seq < seq:
            raise _Bad(f"signed by {name!r} before its registration")
        if key.revoked_seq is not None and key.revoked_seq < seq:
            raise _Bad(f"signed by {name!r}, revoked at entry {key.revoked_seq}")


def _strings(payload: dict[str, Any], *names: str) -> list[str]:
    values = [payload.get(name) for name in names]
    if not all(type(value) is str and value for value in values):
        raise _Bad(f"payload needs non-empty strings {', '.join(names)}")
    return values  # type: ignore[return-value]  # checked just above


def _replay(scans: list[Scan], replay: Replay, stop: int) -> None:
    """Feed the notable entries before `stop` to `replay`, in order; Failed on the first bad."""
    before: dict[str, int] = {}
    for scan in scans:
        for seq, entry in scan.notable:
            if seq >= stop:
                return
            counts = None
            if seq in scan.snapshots:
                counts = _add(before, scan.snapshots[seq])
            try:
                replay.entry(seq, entry, counts)
            except (_Bad, CanonicalError) as error:
                raise Failed("entry", seq, str(error)) from None
        before = _add(before, scan.counts)


def _add(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    total = dict(a)
    for kind, count in b.items():
        total[kind] = total.get(kind, 0) + count
    return total


def _check_entries(data: bytes, scans: list[Scan], replay: Replay) -> None:
    """The first failing entry: a line, time order across chunks, then the replay."""
    errors = [s.error for s in scans if s.error]
    for previous, scan in zip(scans, scans[1:], strict=False):
        if scan.first_time and scan.first_time < previous.last_time:
            errors.append(
                (scan.seq0, f"time {scan.first_time} is before the previous entry's {previous.last_time}")
            )
    complete = sum(len(s.hashes) // 32 for s in scans)
    if not data.endswith(b"\n"):
        errors.append((data.count(b"\n"), "the last line has no newline: a truncated log"))
    first = min(errors, default=None)
    starts = bool(scans and scans[0].notable and scans[0].notable[0][0] == 0)
    if not starts and (first is None or first[0] > 0):
        first = (0, "entry 0 is not audit.log_created")
    _replay(scans, replay, first[0] if first else complete)
    if first:
        raise Failed("entry", first[0], first[1])


# --- checkpoints --------------------------------------------------------------------------


def _checkpoint_texts(files: dict[str, bytes]) -> dict[int, str]:
    texts = {}
    for name, content in sorted(files.items()):
        match = _CHECKPOINT_FILE.fullmatch(name)
        if not match:
            raise Failed("checkpoint", name, "checkpoint files are named <size>.txt")
        try:
            texts[int(match.group(1))] = content.decode("utf-8")
        except UnicodeDecodeError:
            raise Failed("checkpoint", int(match.group(1)), "not UTF-8") from None
    if not texts:
        raise Failed("bundle", None, "no checkpoints")
    return dict(sorted(texts.items()))


def _bodies(texts: dict[int, str]) -> dict[int, str]:
    return {size: text[: text.rfind("\n\n") + 1] for size, text in texts.items() if "\n\n" in text}


def _changed_entry(stored: bytes, levels: list[bytes], size: int, root: bytes, since: int) -> int | None:
    """The first entry from `since` whose leaf hash is not the one the log stored, if the
    stored hashes (leaf-hashes.bin) are those `root` signs; None if they are not."""
    if (
        len(stored) < 32 * size
        or merkle.prefix_root(merkle.subtree_levels(stored[: 32 * size]), size) != root
    ):
        return None
    recomputed = levels[0]
    for n in range(since, size):
        if recomputed[32 * n : 32 * n + 32] != stored[32 * n : 32 * n + 32]:
            return n
    return None


def _check_checkpoints(
    texts: dict[int, str], levels: list[bytes], replay: Replay, report: Report, stored: bytes = b""
) -> None:
    entries = len(levels[0]) // 32
    log_name = note.parse_vkey(replay.log_vkey)[0]
    observers = [k.vkey for k in replay.keys.values() if k.role == "observer"]
    read = merkle.level_reader(levels)
    previous: tuple[int, bytes] | None = None
    for size, text in texts.items():
        try:
            body, verified, unknown = note.open_note(text, [replay.log_vkey, *observers])
            if log_name not in verified:
                raise note.NoteError("not signed by the log key")
            checkpoint = note.Checkpoint.parse(body)
        except note.NoteError as error:
            raise Failed("checkpoint", size, str(error)) from None
        if checkpoint.size != size:
            raise Failed("checkpoint", size, f"the file for size {size} holds size {checkpoint.size}")
        if checkpoint.origin != replay.origin:
            raise Failed(
                "checkpoint", size, f"origin {checkpoint.origin!r} is not the log's {replay.origin!r}"
            )
        if size > entries:
            raise Failed("checkpoint", size, f"signs {size} entries; the log has only {entries}")
        root = merkle.prefix_root(levels, size)
        if checkpoint.root != root:
            since = previous[0] if previous else 0
            changed = _changed_entry(stored, levels, size, checkpoint.root, since)
            if changed is not None:
                raise Failed(
                    "entry",
                    changed,
                    "changed since it was logged: its bytes do not hash to the leaf"
                    f" that checkpoint {size} signs",
                )
            raise Failed(
                "checkpoint",
                size,
                f"root differs from the log's first {size} entries: "
                f"an entry from seq {since} to {size - 1} was changed",
            )
        if previous and previous[0] > 0:
            # Redundant with the two recomputed roots, but it is what an observer checks.
            proof = merkle.prove_tree(size, previous[0], read)
            merkle.verify_consistency(previous[0], size, proof, previous[1], root)
        previous = (size, root)
        report.checkpoints.append(
            CheckpointInfo(
                size, [n for n in verified if n != log_name], [line.split(" ")[1] for line in unknown]
            )
        )
    if previous is None or previous[0] != entries:
        last = previous[0] if previous else 0
        raise Failed("entry", last, f"no checkpoint signs entries from seq {last} on")


# --- keys.json and state/ -----------------------------------------------------------------


def _check_keys_file(content: bytes | None, replay: Replay) -> None:
    if content is None:
        raise Failed("keys.json", None, "missing")
    try:
        listed = loads_strict(content)
    except CanonicalError as error:
        raise Failed("keys.json", None, str(error)) from None
    if type(listed) is not dict or sorted(listed) != ["keys", "log"] or type(listed["keys"]) is not list:
        raise Failed("keys.json", None, 'expected {"log": <vkey>, "keys": [...]}')
    if listed["log"] != replay.log_vkey:
        raise Failed("keys.json", None, "names another log key")
    expected = {
        k.name: {
            "name": k.name,
            "vkey": k.vkey,
            "role": k.role,
            "registered_seq": k.registered_seq,
            "revoked_seq": k.revoked_seq,
        }
        for k in replay.keys.values()
        if k.role != "log"
    }
    seen = set()
    for key in listed["keys"]:
        name = key.get("name") if type(key) is dict else None
        if type(name) is not str or name in seen:
            raise Failed("keys.json", None, f"a key without a name, or listed twice: {name!r}")
        seen.add(name)
        if name not in expected:
            raise Failed("keys.json", None, f"lists {name!r}, which the log never registered")
        if key != expected[name]:
            diff = [
                f"{m} {key.get(m)!r} (the log says {v!r})"
                for m, v in expected[name].items()
                if key.get(m) != v
            ] or [f"members {sorted(key)}"]
            raise Failed("keys.json", None, f"key {name!r}: " + ", ".join(diff))
    missing = sorted(expected.keys() - seen)
    if missing:
        raise Failed("keys.json", None, f"leaves out keys the log registered: {missing}")


def _check_state(files: dict[str, bytes], replay: Replay, report: Report) -> None:
    seq, digests = replay.last_state or (None, {})
    for name, content in sorted(files.items()):
        piece = name.removesuffix(".json")
        if piece not in digests:
            report.state_unchecked.append(name)
            continue
        try:
            digest = hashlib.sha256(canonical_bytes(loads_strict(content))).hexdigest()
        except CanonicalError as error:
            raise Failed("state", name, str(error)) from None
        if digest != digests[piece]:
            raise Failed("state", name, f"does not match the digest in entry {seq}")
        report.state_checked.append(name)


# --- all of it ----------------------------------------------------------------------------


def verify_bundle(
    path: Path,
    log_vkey: str,
    *,
    jobs: int | None = None,
    parallel_threshold: int = PARALLEL_THRESHOLD,
    progress: Progress | None = None,
) -> Report:
    """Check everything; the report's `failure` is the first thing that does not hold."""
    note.parse_vkey(log_vkey)  # a malformed key is the caller's error: NoteError
    report = Report()
    replay: Replay | None = None
    try:
        bundle = read_bundle(path)
        texts = _checkpoint_texts(bundle.checkpoints)
        if not bundle.log:
            raise Failed("entry", 0, "the log is empty")
        jobs = jobs or os.cpu_count() or 1
        complete = bundle.log
        if not complete.endswith(b"\n"):  # reported in order, after the lines before it
            complete = complete[: complete.rfind(b"\n") + 1]
        scans, levels = _scan_all(complete, jobs, parallel_threshold, progress)
        _summarize(scans, report)
        replay = Replay(log_vkey, _bodies(texts))
        _check_entries(bundle.log, scans, replay)
        _check_checkpoints(texts, levels, replay, report, bundle.leaf_hashes)
        _check_keys_file(bundle.keys, replay)
        _check_state(bundle.state, replay, report)
    except Failed as failure:
        report.failure = failure
    else:
        report.ok = True
    if replay is not None:
        report.origin, report.keys = replay.origin, list(replay.keys.values())
        report.documents, report.signatures = replay.documents, replay.signatures
        report.digests = replay.digests
        report.voters_marked, report.protocols = len(replay.polling.marks), replay.polling.protocols
        report.certifications = replay.results.certifications
    return report


def _summarize(scans: Iterable[Scan], report: Report) -> None:
    for scan in scans:
        report.entries += len(scan.hashes) // 32
        report.types = _add(report.types, scan.counts)
        if scan.first_time and report.first_time is None:
            report.first_time = scan.first_time
        if scan.last_time:
            report.last_time = scan.last_time
