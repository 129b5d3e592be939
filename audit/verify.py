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
import datetime as dt
import hashlib
import mmap
import multiprocessing
import os
import re
import tarfile
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import accumulate
from operator import attrgetter, itemgetter
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from audit import merkle, note
from audit.jcs import (
    MAX_INT,
    CanonicalError,
    canonical_bytes,
    fast_path_holds,
    has_float,
    is_canonical,
    loads_strict,
)

PARALLEL_THRESHOLD = 200_000  # entries; below it, starting workers costs more than it saves
CHUNK_BYTES = 8 << 20  # per chunk: bounds memory, paces the progress bar
# Workers get smaller chunks, so none idles long while another finishes the last one.
WORKER_CHUNK_BYTES = 2 << 20
SCOPE_KEYS = frozenset({"election", "station", "country"})
ACTOR_KEYS = frozenset({"user", "role"})
_SCALARS = frozenset({str, int, bool, type(None)})
ENTRY_KEYS = ("actor", "payload", "scope", "seq", "time", "type", "v")
# The form; the ranges are checked once per minute (and seconds < 60 per entry).
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")
_TYPE = re.compile(r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*")
_CHECKPOINT_FILE = re.compile(r"(0|[1-9][0-9]*)\.txt")
# Lines checked together: enough to make the per-batch work vanish, few enough that the
# parsed entries stay in the CPU cache (a few thousand at once run several times slower).
BATCH = 128
_STAMP_LENGTH = frozenset({27})
_ZERO_DIGITS = bytes.maketrans(b"123456789", b"000000000")
_TIME_FORMS = b"0000-00-00T00:00:00.000000Z" * BATCH
_MINUTE = itemgetter(slice(0, 16))
_MINUTE_END = ":59.999999Z"

# progress(entries just checked, entries in all)
Progress = Callable[[int, int], None]


# --- results ------------------------------------------------------------------------------


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
    digests: int = 0  # state digests that matched the replay
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
    return Bundle(files["log.jsonl"], checkpoints, files.get("keys.json"), state)


# --- entries: one chunk of lines ----------------------------------------------------------


@dataclass
class Scan:
    """What a chunk of log lines yields: everything the parent needs, nothing more."""

    seq0: int
    hashes: bytes  # leaf hashes, 32 bytes each
    counts: dict[str, int]
    notable: list[tuple[int, dict[str, Any]]]  # audit.* entries and signed documents
    snapshots: dict[int, dict[str, int]]  # counts before each state digest, in this chunk
    first_time: str = ""
    last_time: str = ""
    error: tuple[int, str] | None = None


class _Bad(Exception):
    pass


def scan_chunk(buf: bytes, seq0: int) -> Scan:
    """Check a run of complete lines (each ending in "\\n") that starts at entry `seq0`.

    Lines go in batches: each is checked at once with C loops (`_check_batch`), and only
    a batch that fails there is checked line by line (`_check_lines`), which finds the
    first bad entry and says why, or passes what the batch checks left to it."""
    lines = buf.split(b"\n")
    lines.pop()
    scan = Scan(seq0, merkle.leaf_hashes(lines), {}, [], {})
    kinds: list[str] = []
    times = ("", "")  # the last entry's time, and the end of the last minute found real
    for start in range(0, len(lines), BATCH):
        batch = lines[start : start + BATCH]
        checked = _check_batch(batch, seq0 + start, times, kinds, scan.notable)
        if checked is None:
            checked, scan.error = _check_lines(batch, seq0 + start, times, kinds, scan.notable)
            if scan.error:
                break
        times = checked
    _count(scan, kinds)
    if kinds:
        scan.first_time, scan.last_time = orjson.loads(lines[0])["time"], times[0]
    return scan


def _check_batch(
    lines: list[bytes],
    seq0: int,
    times: tuple[str, str],
    kinds: list[str],
    notable: list[tuple[int, dict[str, Any]]],
) -> tuple[str, str] | None:
    """Every check of `_check_lines`, on the whole batch at once: the new `times` once all
    hold (kinds and notable entries added), else None with nothing added.

    The decoder checks each entry's members and their types in C (`_Entry`); the rest is
    one C loop per test over the batch. It must never pass what `_check_lines` would refuse.
    Canonical form: each line is decoded alone, so the batch's dump is the lines' dumps
    joined by ",", and it equals the lines joined by "," only if each dump is its line (a
    JSON text never holds a "," after a complete value, so no dump can end inside a line
    or run past one). The dump sorts keys by code point as JCS does below U+10000; a line
    with a character beyond takes the line checks (`fast_path_holds`)."""
    try:
        entries = list(map(_decode_entry, lines))
    except (msgspec.DecodeError, RecursionError):
        return None
    joined = b",".join(lines)
    count = len(entries)
    seqs, stamps, types = list(map(_SEQ, entries)), list(map(_STAMP, entries)), list(map(_KIND, entries))
    if (
        _encode_entries(entries)[1:-1] != joined
        or not _all_nfc(lines)
        or seqs != list(range(seq0, seq0 + count))
        or not _stamps_hold(stamps, times[0])
    ):
        return None
    minute_end = _minutes_hold(stamps, times[1])
    if minute_end is None:
        return None
    # A member name is written `"name":` in canonical form, so a batch without these
    # bytes has no signed document; a match may be inside a string, hence the check.
    if b'"signatures":' in joined or b'"document":' in joined or any(map(_is_audit, set(types))):
        notable.extend(
            (entry.seq, orjson.loads(line))
            for entry, line in zip(entries, lines, strict=True)
            if _is_notable(entry.type, entry.payload)
        )
    kinds.extend(types)
    return stamps[-1], minute_end


class _Actor(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    role: str
    user: str


class _Scope(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True, gc=False):
    country: str | msgspec.UnsetType = msgspec.UNSET
    election: str | msgspec.UnsetType = msgspec.UNSET
    station: str | msgspec.UnsetType = msgspec.UNSET


# Payload values: no float, no integer beyond JCS's, lists and objects three deep at most
# (a deeper one fails the decoding, and its batch takes the line checks).
_Scalar = Annotated[int, msgspec.Meta(ge=-MAX_INT, le=MAX_INT)] | str | bool | None
_Value3 = _Scalar | list[_Scalar] | dict[str, _Scalar]
_Value2 = _Scalar | list[_Value3] | dict[str, _Value3]
_Value = _Scalar | list[_Value2] | dict[str, _Value2]


class _Entry(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """An entry as `_check_batch` decodes it: exactly these members, of these types (a
    bool is no int here, a float no int), members sorted as the dump writes them."""

    actor: _Actor | None
    payload: dict[str, _Value]
    scope: _Scope
    seq: int
    time: str
    type: str
    v: Literal[1]


_decode_entry = msgspec.json.Decoder(_Entry).decode
_encode_entries = msgspec.json.Encoder(order="sorted").encode
_SEQ, _STAMP, _KIND = attrgetter("seq"), attrgetter("time"), attrgetter("type")


def _all_nfc(lines: list[bytes]) -> bool:
    """NFC, checked once on the lines beyond ASCII joined by "\n", which is NFC exactly
    when each of them is: "\n" composes and reorders with nothing."""
    wide = b"\n".join([line for line in lines if not line.isascii()])
    return not wide or fast_path_holds(wide)


def _stamps_hold(stamps: list[str], last_time: str) -> bool:
    """The form of every time (joined, digits zeroed, against the form repeated), seconds
    below 60, and the order from the previous entry's time on (strings: `_Entry`)."""
    if not _STAMP_LENGTH.issuperset(map(len, stamps)) or stamps[0] < last_time:
        return False
    joined = "".join(stamps).encode()
    return (
        joined.translate(_ZERO_DIGITS) == _TIME_FORMS[: len(joined)]
        and len(joined) == 27 * len(stamps)  # no character beyond ASCII
        and not joined[17::27].translate(None, b"012345")
        and stamps == sorted(stamps)
    )


def _minutes_hold(stamps: list[str], minute_end: str) -> str | None:
    """The end of the last minute, once every minute of the (sorted) stamps is known
    real; None if one is not. `minute_end` ends the previous entry's minute, which no
    stamp precedes: a batch that ends within it (the usual case) has no new minute."""
    if stamps[-1] <= minute_end:
        return minute_end
    for minute in sorted(set(map(_MINUTE, stamps))):
        if minute + _MINUTE_END != minute_end:
            try:
                minute_end = _check_minute(minute)
            except _Bad:
                return None
    return minute_end


def _is_audit(kind: str) -> bool:
    return "audit." <= kind < "audit/"


def _is_notable(kind: str, payload: dict[str, Any]) -> bool:
    """Replayed: the audit.* entries and signed documents."""
    return "signatures" in payload or "document" in payload or _is_audit(kind)


def _check_lines(
    lines: list[bytes],
    seq0: int,
    times: tuple[str, str],
    kinds: list[str],
    notable: list[tuple[int, dict[str, Any]]],
) -> tuple[tuple[str, str], tuple[int, str] | None]:
    """The checks entry by entry: the new `times`, and the first failure (seq, reason)."""
    time_format, scope_keys, actor_keys, scalars = _TIME.fullmatch, SCOPE_KEYS, ACTOR_KEYS, _SCALARS
    append = kinds.append
    last_time, minute_end = times
    entry: Any = None
    seq = seq0
    # Exact type tests (bool is an int, and a float must not pass for one); the reason
    # is worded by _explain only once something fails. Types are checked in _count.
    try:
        for seq, line in enumerate(lines, seq0):  # noqa: B007  (seq names the failure)
            # Floats are excluded by the exact types below and the search of the payload.
            entry = is_canonical(line, floats=False)
            v, s, time, kind = entry["v"], entry["seq"], entry["time"], entry["type"]
            actor, scope, payload = entry["actor"], entry["scope"], entry["payload"]
            if (
                s != seq
                or type(s) is not int
                or v != 1
                or type(v) is not int
                or len(entry) != 7
                or type(time) is not str
                or time < last_time
                or not time_format(time)
                or time[17] > "5"
                or type(kind) is not str
                or type(payload) is not dict
                or type(scope) is not dict
                or not scope.keys() <= scope_keys
                or (
                    actor is not None
                    and (
                        type(actor) is not dict
                        or actor.keys() != actor_keys
                        or type(actor["user"]) is not str
                        or type(actor["role"]) is not str
                    )
                )
            ):
                raise _Bad
            for value in scope.values():
                if type(value) is not str:
                    raise _Bad
            if not set(map(type, payload.values())) <= scalars and has_float(payload):
                raise _Bad
            if time > minute_end:
                minute_end = _check_minute(time)
            append(kind)
            if _is_notable(kind, payload):
                notable.append((seq, entry))
            last_time = time
    except CanonicalError as error:
        return (last_time, minute_end), (seq, str(error))
    except (_Bad, KeyError, TypeError):
        return (last_time, minute_end), (seq, _explain(entry, seq, last_time))
    return (last_time, minute_end), None


def _count(scan: Scan, kinds: list[str]) -> None:
    """Counts per type, the counts before each state digest, and the first bad type."""
    counts: Counter[str] = Counter()
    done = 0
    for seq, entry in scan.notable:
        if entry["type"] == "audit.state_digest":
            counts.update(kinds[done : seq - scan.seq0])
            done = seq - scan.seq0
            scan.snapshots[seq] = dict(counts)
    counts.update(kinds[done:])
    scan.counts = dict(counts)
    bad = [kind for kind in counts if not _TYPE.fullmatch(kind)]
    if bad:
        seq, kind = min((kinds.index(kind) + scan.seq0, kind) for kind in bad)
        if scan.error is None or seq < scan.error[0]:
            scan.error = (seq, f"type {kind!r} is not <module>.<event>")


def _check_minute(time: str) -> str:
    """The last time in the same minute, once that minute is known to be real."""
    try:
        dt.datetime.fromisoformat(time[:16])
    except ValueError:
        raise _Bad from None
    return time[:16] + ":59.999999Z"


def _is_actor(actor: Any) -> bool:
    return (
        type(actor) is dict
        and len(actor) == 2
        and type(actor.get("user")) is str
        and type(actor.get("role")) is str
    )


def _is_scope(scope: Any) -> bool:
    return (
        type(scope) is dict
        and scope.keys() <= SCOPE_KEYS
        and all(type(value) is str for value in scope.values())
    )


def _real(time: str) -> bool:
    try:
        _check_minute(time)
    except _Bad:
        return False
    return True


def _explain(entry: Any, seq: int, last_time: str) -> str:
    """Why an entry failed the fast checks, in words (only runs on failure)."""
    if type(entry) is not dict:
        return "an entry is a JSON object"
    if sorted(entry) != list(ENTRY_KEYS):
        return f"members are {sorted(entry)}, expected {list(ENTRY_KEYS)}"
    if type(entry["v"]) is not int or entry["v"] != 1:
        return f"v is {entry['v']!r}, expected 1"
    if type(entry["seq"]) is not int or entry["seq"] != seq:
        return f"seq is {entry['seq']!r}, expected {seq} (its line number)"
    time = entry["time"]
    if type(time) is not str or not _TIME.fullmatch(time) or time[17] > "5" or not _real(time):
        return f"time {time!r} is not RFC 3339 UTC with microseconds (YYYY-MM-DDThh:mm:ss.ffffffZ)"
    if time < last_time:
        return f"time {time} is before the previous entry's {last_time}"
    if entry["actor"] is not None and not _is_actor(entry["actor"]):
        return 'actor is null or {"user": <string>, "role": <string>}'
    if not _is_scope(entry["scope"]):
        return "scope is an object of string codes among election, station, country"
    if type(entry["type"]) is not str:
        return "type is a string"
    if type(entry["payload"]) is not dict:
        return "payload is an object"
    try:
        canonical_bytes(entry["payload"])
    except CanonicalError as error:
        return f"payload.{error}"
    return "not a valid entry"


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


def _check_checkpoints(texts: dict[int, str], levels: list[bytes], replay: Replay, report: Report) -> None:
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
        _check_checkpoints(texts, levels, replay, report)
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
    return report


def _summarize(scans: Iterable[Scan], report: Report) -> None:
    for scan in scans:
        report.entries += len(scan.hashes) // 32
        report.types = _add(report.types, scan.counts)
        if scan.first_time and report.first_time is None:
            report.first_time = scan.first_time
        if scan.last_time:
            report.last_time = scan.last_time
