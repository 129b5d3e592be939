"""The verifier's check of a run of log lines (docs/specs/audit-log-format.md): each
entry's canonical form, members and their types, seq, time and type; and what the
verifier needs of the lines besides (leaf hashes, counts by type, the entries to replay).

Lines are checked in batches with C loops (`_check_batch`); a batch that fails there is
checked line by line (`_check_lines`), which finds the first bad entry and says why.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass
from operator import attrgetter, itemgetter
from typing import Annotated, Any, Literal

import msgspec
import orjson

from audit import merkle
from audit.jcs import MAX_INT, CanonicalError, canonical_bytes, fast_path_holds, has_float, is_canonical

SCOPE_KEYS = frozenset({"election", "station", "country"})
ACTOR_KEYS = frozenset({"user", "role"})
_SCALARS = frozenset({str, int, bool, type(None)})
ENTRY_KEYS = ("actor", "payload", "scope", "seq", "time", "type", "v")
# The form; the ranges are checked once per minute (and seconds < 60 per entry).
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z")
_TYPE = re.compile(r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*")
# Lines checked together: enough to make the per-batch work vanish, few enough that the
# parsed entries stay in the CPU cache (a few thousand at once run several times slower).
BATCH = 128
_STAMP_LENGTH = frozenset({27})
_ZERO_DIGITS = bytes.maketrans(b"123456789", b"000000000")
_TIME_FORMS = b"0000-00-00T00:00:00.000000Z" * BATCH
_MINUTE = itemgetter(slice(0, 16))
_MINUTE_END = ":59.999999Z"


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
    """An entry the checks refuse; `_explain` says why."""


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
    if (
        b'"signatures":' in joined
        or b'"document":' in joined
        or any(_is_audit(t) or _is_tally(t) for t in set(types))
    ):
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


def _is_tally(kind: str) -> bool:
    return "tally." <= kind < "tally/"


def _is_notable(kind: str, payload: dict[str, Any]) -> bool:
    """Replayed: the audit.* entries, the tally's (the verifier recomputes the result from
    them) and signed documents."""
    return "signatures" in payload or "document" in payload or _is_audit(kind) or _is_tally(kind)


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
