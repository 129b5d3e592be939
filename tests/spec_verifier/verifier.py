"""Verify an exported OCV audit bundle, from the published format alone.

Written from docs/specs/audit-log-format.md and nothing else: it imports nothing from the
project, only the standard library and `cryptography`. Each check names the section of
that page it implements ("§ Entry", "§ Order", ...).

    python tests/spec_verifier/verifier.py BUNDLE [--log-key VKEY]

BUNDLE is the bundle's directory or its `.tar.gz`; VKEY is the log's verifier key, had from
the election authority out of band (without it, entry 0 is taken as the trust root). Prints
one line per failure and exits 1 if there is any, else prints a summary and exits 0.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import hashlib
import json
import re
import sys
import tarfile
import tempfile
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


class Failures:
    """Every failure found, one line each: where (entry, checkpoint or file), then why."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(self, where: str, why: str) -> None:
        self.lines.append(f"{where}: {why}")


class Malformed(ValueError):
    """A value that is not what the format says it is."""


# § Entry: JSON, canonicalized with RFC 8785 (JCS).

MAX_EXACT_INTEGER = 2**53 - 1  # RFC 8785 numbers are IEEE 754 doubles: larger integers are not exact


def parse_json(raw: bytes) -> Any:
    """§ Entry: UTF-8 JSON with no floating-point number and no duplicate member name."""

    def unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        names = [name for name, _ in pairs]
        if len(set(names)) != len(names):
            duplicate = next(name for name in names if names.count(name) > 1)
            raise Malformed(f"duplicate member name {duplicate!r}")
        return dict(pairs)

    def no_float(text: str) -> Any:
        raise Malformed(f"floating-point number {text}")

    try:
        return json.loads(
            raw.decode("utf-8"),
            object_pairs_hook=unique_members,
            parse_float=no_float,
            parse_constant=no_float,
        )
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise Malformed(f"not UTF-8 JSON ({error})") from error


_JCS_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def _jcs_string(text: str) -> str:
    """RFC 8785 section 3.2.2.2: escape only '"', '\\' and the controls, the rest as is."""
    out = []
    for char in text:
        if char in _JCS_ESCAPES:
            out.append(_JCS_ESCAPES[char])
        elif char < " ":
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def _jcs_text(value: Any) -> str:
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int):
        if abs(value) > MAX_EXACT_INTEGER:
            raise Malformed(f"integer {value} is beyond what RFC 8785 represents exactly")
        return str(value)
    if isinstance(value, str):
        return _jcs_string(value)
    if isinstance(value, list):
        return "[" + ",".join(_jcs_text(item) for item in value) + "]"
    if isinstance(value, dict):
        # RFC 8785 section 3.2.3: members sorted by their names' UTF-16 code units.
        members = sorted(value.items(), key=lambda member: member[0].encode("utf-16-be"))
        return "{" + ",".join(f"{_jcs_string(name)}:{_jcs_text(item)}" for name, item in members) + "}"
    raise Malformed(f"{type(value).__name__} is not a JSON value")


def jcs(value: Any) -> bytes:
    """RFC 8785 bytes of a JSON value (UTF-8; a lone surrogate cannot be encoded)."""
    try:
        return _jcs_text(value).encode("utf-8")
    except UnicodeEncodeError as error:
        raise Malformed("a string holds a lone surrogate") from error


def non_nfc_string(value: Any) -> str | None:
    """§ Entry: strings are NFC-normalized (member names as well as values)."""
    if isinstance(value, str):
        return None if unicodedata.normalize("NFC", value) == value else value
    if isinstance(value, list):
        return next((s for s in map(non_nfc_string, value) if s is not None), None)
    if isinstance(value, dict):
        return next((s for s in map(non_nfc_string, [*value, *value.values()]) if s is not None), None)
    return None


# § Entry: the members of an entry.

ENTRY_MEMBERS = {"v", "seq", "time", "type", "actor", "scope", "payload"}
SCOPE_MEMBERS = {"election", "station", "country"}
TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z\Z")
EVENT_TYPE = re.compile(r"[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\Z")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def entry_shape_problem(entry: Any) -> str | None:
    """§ Entry, its table: the seven members and their types."""
    if not isinstance(entry, dict):
        return "is not a JSON object"
    if set(entry) != ENTRY_MEMBERS:
        return f"has members {sorted(entry)}, not {sorted(ENTRY_MEMBERS)}"
    if entry["v"] != 1 or not _is_int(entry["v"]):
        return f"has format version {entry['v']!r}, not 1"
    if not _is_int(entry["seq"]) or entry["seq"] < 0:
        return f"has seq {entry['seq']!r}, not a non-negative integer"
    if not isinstance(entry["time"], str) or not TIME.match(entry["time"]):
        return f"has time {entry['time']!r}, not RFC 3339 UTC with microseconds and Z"
    if not isinstance(entry["type"], str) or not EVENT_TYPE.match(entry["type"]):
        return f"has type {entry['type']!r}, not <module>.<event>"
    actor = entry["actor"]
    if actor is not None and not (
        isinstance(actor, dict)
        and set(actor) == {"user", "role"}
        and all(isinstance(v, str) for v in actor.values())
    ):
        return f"has actor {actor!r}, neither null nor {{user, role}}"
    scope = entry["scope"]
    if (
        not isinstance(scope, dict)
        or not set(scope) <= SCOPE_MEMBERS
        or not all(isinstance(v, str) for v in scope.values())
    ):
        return f"has scope {scope!r}, not an object of election, station, country codes"
    if not isinstance(entry["payload"], dict):
        return "has a payload that is not an object"
    return None


def parse_entry(line: bytes) -> tuple[dict[str, Any] | None, list[str]]:
    """§ Entry and § Bundle: a line of log.jsonl is exactly the entry's JCS bytes, its
    strings NFC. Gives the entry (None if it cannot be read as one) and what is wrong."""
    try:
        entry = parse_json(line)
    except Malformed as error:
        return None, [str(error)]
    problem = entry_shape_problem(entry)
    if problem:
        return None, [problem]
    problems = []
    try:
        if jcs(entry) != line:
            problems.append("its bytes are not the JCS serialization of the entry")
    except Malformed as error:
        problems.append(str(error))
    text = non_nfc_string(entry)
    if text is not None:
        problems.append(f"string {text!r} is not NFC-normalized")
    return entry, problems


# § Entry (leaf hash) and § Merkle tree (RFC 9162 section 2.1).


def leaf_hash(leaf: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def merkle_root(hashes: list[bytes]) -> bytes:
    """MTH over leaf hashes: k is the largest power of two smaller than n."""
    if not hashes:
        return hashlib.sha256(b"").digest()
    if len(hashes) == 1:
        return hashes[0]
    k = 1 << ((len(hashes) - 1).bit_length() - 1)
    return node_hash(merkle_root(hashes[:k]), merkle_root(hashes[k:]))


# § Checkpoint: verifier keys, notes and their signatures.


@dataclass(frozen=True)
class VerifierKey:
    name: str
    key_id: bytes
    public: Ed25519PublicKey
    text: str


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except binascii.Error as error:
        raise Malformed(f"{text!r} is not standard base64") from error


def key_id(name: str, public: bytes) -> bytes:
    """Key id = first 4 bytes of SHA-256(name || 0x0A || 0x01 || 32-byte public key)."""
    return hashlib.sha256(name.encode("utf-8") + b"\n\x01" + public).digest()[:4]


def parse_vkey(text: str) -> VerifierKey:
    """`<name>+<key id, 8 lowercase hex>+<base64(0x01 || 32-byte public key)>`: the name
    holds no "+", the base64 may, so the string splits at its first two "+"."""
    parts = text.split("+", 2) if isinstance(text, str) else []
    if len(parts) != 3 or not parts[0] or not re.fullmatch(r"[0-9a-f]{8}", parts[1]):
        raise Malformed(f"verifier key {text!r} is not <name>+<8 hex>+<base64>")
    name, hex_id, encoded = parts
    raw = _b64(encoded)
    if len(raw) != 33 or raw[0] != 0x01:
        raise Malformed(f"verifier key {name!r} is not an Ed25519 key (0x01 and 32 bytes)")
    if key_id(name, raw[1:]).hex() != hex_id:
        raise Malformed(f"verifier key {name!r} has key id {hex_id}, not {key_id(name, raw[1:]).hex()}")
    return VerifierKey(name, bytes.fromhex(hex_id), Ed25519PublicKey.from_public_bytes(raw[1:]), text)


def ed25519_holds(key: VerifierKey, signature: bytes, message: bytes) -> bool:
    try:
        key.public.verify(signature, message)
    except InvalidSignature:
        return False
    return True


@dataclass(frozen=True)
class NoteSignature:
    name: str
    blob: bytes  # 4-byte key id || 64-byte Ed25519 signature
    line: str


@dataclass(frozen=True)
class Checkpoint:
    origin: str
    size: int
    root: bytes
    body: bytes  # the signed text: every line before the blank line, each ending in "\n"
    signatures: list[NoteSignature]


SIGNATURE_LINE = re.compile(r"\u2014 (\S+) (\S+)\Z")


def parse_checkpoint(raw: bytes) -> Checkpoint:
    """§ Checkpoint: a C2SP tlog-checkpoint signed as a C2SP signed-note."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise Malformed("is not UTF-8") from error
    body, blank, signature_block = text.partition("\n\n")
    if not blank or not signature_block.endswith("\n"):
        raise Malformed("is not a note: body, blank line, signature lines each ending in \\n")
    lines = body.split("\n")
    if len(lines) < 3 or not lines[0]:
        raise Malformed("has no origin, tree size and root hash")
    if not re.fullmatch(r"0|[1-9][0-9]*", lines[1]):
        raise Malformed(f"tree size {lines[1]!r} is not decimal")
    root = _b64(lines[2])
    if len(root) != 32:
        raise Malformed("root hash is not 32 bytes")
    signatures = []
    for line in signature_block[:-1].split("\n"):
        match = SIGNATURE_LINE.match(line)
        if not match:
            raise Malformed(f"signature line {line!r} is not '— <key name> <base64>'")
        signatures.append(NoteSignature(match[1], _b64(match[2]), line))
    return Checkpoint(lines[0], int(lines[1]), root, (body + "\n").encode("utf-8"), signatures)


def signature_holds(checkpoint: Checkpoint, signature: NoteSignature, key: VerifierKey) -> bool:
    """The key's name and key id, and an Ed25519 signature over the note body."""
    blob = signature.blob
    return (
        signature.name == key.name
        and blob[:4] == key.key_id
        and ed25519_holds(key, blob[4:], checkpoint.body)
    )


def signed_by(checkpoint: Checkpoint, key: VerifierKey) -> bool:
    return any(signature_holds(checkpoint, signature, key) for signature in checkpoint.signatures)


# § Bundle: the files.


@dataclass
class Bundle:
    root: Path
    lines: list[bytes]  # log.jsonl, one entry's leaf bytes each
    checkpoints: dict[str, bytes]  # checkpoints/<size>.txt by file name
    keys_json: bytes | None
    leaf_hashes: bytes | None
    state: dict[str, bytes]  # state/<name>.json by name


def read_bundle(root: Path, failures: Failures) -> Bundle:
    log = root / "log.jsonl"
    raw = log.read_bytes() if log.is_file() else b""
    if not log.is_file():
        failures.add("log.jsonl", "missing")
    elif raw and not raw.endswith(b"\n"):
        failures.add("log.jsonl", "its last line does not end in \\n")
    lines = raw.split(b"\n")[:-1] if raw.endswith(b"\n") else raw.split(b"\n") if raw else []
    checkpoint_dir = root / "checkpoints"
    checkpoints = (
        {p.name: p.read_bytes() for p in sorted(checkpoint_dir.glob("*"))} if checkpoint_dir.is_dir() else {}
    )
    state_dir = root / "state"
    state = {p.stem: p.read_bytes() for p in sorted(state_dir.glob("*.json"))} if state_dir.is_dir() else {}
    keys = root / "keys.json"
    hashes = root / "leaf-hashes.bin"
    return Bundle(
        root,
        lines,
        checkpoints,
        keys.read_bytes() if keys.is_file() else None,
        hashes.read_bytes() if hashes.is_file() else None,
        state,
    )


def unpack(path: Path, into: Path) -> Path:
    """§ Bundle: a directory, or a .tar.gz of it (its files at the top, or in one folder)."""
    with tarfile.open(path, "r:gz") as archive:
        archive.extractall(into, filter="data")
    if (into / "log.jsonl").exists():
        return into
    folders = [p for p in into.iterdir() if p.is_dir()]
    return folders[0] if len(folders) == 1 else into


# § Entry, § Order and § Verifier: the walk along the log, entry by entry.


@dataclass
class RegisteredKey:
    name: str
    vkey: VerifierKey
    role: str
    owner: str
    registered_seq: int
    revoked_seq: int | None = None


@dataclass
class StationAccounts:
    """§ Polling replay, "The station's accounts": per ballot style."""

    received: Counter[str] = field(default_factory=Counter)
    resupplied: Counter[str] = field(default_factory=Counter)
    transferred: Counter[str] = field(default_factory=Counter)
    checked_in: Counter[str] = field(default_factory=Counter)
    tendered: Counter[str] = field(default_factory=Counter)
    spoiled: Counter[str] = field(default_factory=Counter)
    unused: Counter[str] = field(default_factory=Counter)

    def figures(self, style: str) -> dict[str, int]:
        return {
            "received": self.received[style],
            "resupplied": self.resupplied[style],
            "transferred": self.transferred[style],
            "issued": self.checked_in[style] + self.tendered[style],
            "spoiled": self.spoiled[style],
            "unused": self.unused[style],
        }


def sha256_hex(document: Any) -> str:
    return hashlib.sha256(jcs(document)).hexdigest()


# § State replay: the four pieces of state a digest commits to, rebuilt from the entries.

STATE_PIECES = ("accounts", "registry", "marked_register", "polling_stations")

# What polling_stations' "state" becomes at each entry that moves a station on.
STATION_STATES = {
    "polling.station_opened": "polling",
    "polling.station_paused": "paused",
    "polling.station_closed": "closed",
    "polling.count_finished": "counted",
    "polling.protocol_signed": "signed",
    "polling.protocol_submitted": "submitted",
}


def add_count(tree: dict[str, Any], path: list[str], n: int) -> None:
    """§ State replay: add n at `path`; a count of 0 is removed, then every object left empty."""
    node = tree
    for name in path[:-1]:
        node = node.setdefault(name, {})
    node[path[-1]] = node.get(path[-1], 0) + n
    nodes = [tree]
    for name in path[:-1]:
        nodes.append(nodes[-1][name])
    for depth in range(len(path) - 1, -1, -1):
        value = nodes[depth][path[depth]]
        if value == 0 or value == {}:
            del nodes[depth][path[depth]]


class StateReplay:
    """§ State replay: accounts, registry and polling_stations as the entries so far make
    them; marked_register is counted from the polling replay's marks."""

    def __init__(self, marks: dict[str, dict[str, tuple[str, str]]]) -> None:
        self.accounts: dict[str, dict[str, Any]] = {}
        self.registry: dict[str, Any] = {}
        self.polling_stations: dict[str, dict[str, str]] = {}
        self.marks = marks  # election -> reg_no -> (station, style), kept by § Polling replay

    def piece(self, name: str) -> Any:
        if name == "marked_register":
            counts: dict[str, Any] = {}
            for election, marks in self.marks.items():
                for station, _style in marks.values():
                    add_count(counts, [election, station], 1)
            return counts
        return getattr(self, name)

    def digest(self, name: str) -> str:
        return sha256_hex(self.piece(name))

    def apply(self, entry: dict[str, Any]) -> bool:
        """Let the entry take effect; whether it is one that may change a piece."""
        kind, payload = entry["type"], entry["payload"]
        election = entry["scope"].get("election", "")
        if kind == "auth.user_created":
            self.accounts[payload["username"]] = {
                "role": payload["role"],
                "station": payload["station"],
                "active": True,
            }
        elif kind == "auth.role_changed":
            account = self.accounts[payload["username"]]
            account["role"], account["station"] = payload["to"]["role"], payload["to"]["station"]
        elif kind in ("auth.user_deactivated", "auth.user_reactivated"):
            self.accounts[payload["username"]]["active"] = kind == "auth.user_reactivated"
        elif kind == "registration.voter_enrolled":
            add_count(self.registry, [election, payload["station"], "registered"], 1)
        elif kind == "registration.import_completed":
            for station, n in payload["by_station"].items():
                add_count(self.registry, [election, station, "registered"], n)
        elif kind in ("registration.voter_cancelled", "registration.voter_reinstated"):
            cancelled = 1 if kind == "registration.voter_cancelled" else -1
            add_count(self.registry, [election, entry["scope"]["station"], "registered"], -cancelled)
            add_count(self.registry, [election, entry["scope"]["station"], "cancelled"], cancelled)
        elif kind == "registration.voter_transferred":
            add_count(self.registry, [election, payload["from"], "registered"], -1)
            add_count(self.registry, [election, payload["to"], "registered"], 1)
        elif kind.startswith("polling.") and "station" in payload:
            if kind in STATION_STATES:  # a station is listed once it has left setup
                station = self.polling_stations.setdefault(
                    f"{election}/{payload['station']}", {"state": "setup", "day": "0"}
                )
                station["state"] = STATION_STATES[kind]
                if kind == "polling.station_opened":
                    station["day"] = str(payload["day"])
        else:
            return False
        return True


class Replay:
    """Walks the entries in seq order, holding what the log has said so far."""

    def __init__(self, failures: Failures, log_key: VerifierKey | None) -> None:
        self.failures = failures
        self.expected_log_key = log_key
        self.log_key: VerifierKey | None = None
        self.origin: str | None = None
        self.keys: dict[str, RegisteredKey] = {}
        self.types_so_far: Counter[str] = Counter()
        self.last_time: str | None = None
        self.last_state: dict[str, str] | None = None
        self.roles: dict[str, tuple[str, str | None]] = {}  # username -> (role, station)
        self.marks: dict[str, dict[str, tuple[str, str]]] = {}  # election -> reg_no -> (station, style)
        self.stations: dict[tuple[str, str], StationAccounts] = {}
        self.signed_protocols: dict[tuple[str, str], str] = {}  # (election, station) -> sha256
        self.protocols = 0
        self.cosignatures: dict[tuple[int, str], int] = {}  # (size, signature line) -> seq
        self.state = StateReplay(self.marks)
        # § State replay: pieces of a digest (its seq, the name, the claimed digest) that the
        # replay before it did not give, still to be matched before the next state digest.
        self.state_pending: list[tuple[int, str, str]] = []
        self.state_digests = 0  # audit.state_digest entries with a state
        self.digests_unmatched: set[int] = set()

    def fail(self, seq: int, why: str) -> None:
        self.failures.add(f"entry {seq}", why)

    def walk(self, seq: int, entry: dict[str, Any]) -> None:
        self.check_order(seq, entry)
        handler = getattr(self, "on_" + entry["type"].replace(".", "_"), None)
        try:
            if "signatures" in entry["payload"]:
                self.check_document_signatures(seq, entry)
            if handler:
                handler(seq, entry, entry["payload"])
            if self.state.apply(entry) and self.state_pending:
                self.match_pending_state()
        except (KeyError, TypeError, AttributeError, ValueError) as error:
            self.fail(seq, f"{entry['type']} payload is malformed ({type(error).__name__}: {error})")
        self.types_so_far[entry["type"]] += 1

    # § Order

    def check_order(self, seq: int, entry: dict[str, Any]) -> None:
        """seq runs 0, 1, 2, ... with no gap; entry 0 is audit.log_created; time never decreases."""
        if entry["seq"] != seq:
            self.fail(seq, f"line {seq + 1} of log.jsonl has seq {entry['seq']}, expected {seq}")
        if seq == 0 and entry["type"] != "audit.log_created":
            self.fail(seq, f"entry 0 is {entry['type']}, not audit.log_created")
        if self.last_time is not None and entry["time"] < self.last_time:
            self.fail(seq, f"time {entry['time']} is before the previous entry's {self.last_time}")
        self.last_time = entry["time"]

    def on_audit_state_digest(self, seq: int, entry: dict[str, Any], payload: dict[str, Any]) -> None:
        """§ Order: entries_by_type counts exactly the entries with a smaller seq."""
        counted = payload["entries_by_type"]
        if counted != dict(self.types_so_far):
            differences = sorted(
                f"{kind} {counted.get(kind, 0)} ≠ {self.types_so_far[kind]}"
                for kind in set(counted) | set(self.types_so_far)
                if counted.get(kind, 0) != self.types_so_far[kind]
            )
            self.fail(seq, "state digest miscounts the entries before it: " + ", ".join(differences))
        if "state" in payload:
            self.last_state = payload["state"]
            self.compare_state(seq, payload["state"])

    # § State replay

    def compare_state(self, seq: int, claimed: dict[str, str]) -> None:
        """Each piece the digest names, against the replay of the entries before it; one that
        differs may still match before the next state digest."""
        self.fail_pending_state()
        self.state_digests += 1
        for name in STATE_PIECES:
            if name in claimed and self.state.digest(name) != claimed[name]:
                self.state_pending.append((seq, name, claimed[name]))

    def match_pending_state(self) -> None:
        self.state_pending = [
            (seq, name, claimed)
            for seq, name, claimed in self.state_pending
            if self.state.digest(name) != claimed
        ]

    def fail_pending_state(self) -> None:
        """Pieces that no replay from their digest to the next (or the end of the log) gave."""
        for seq, name, _claimed in self.state_pending:
            self.fail(seq, f"state.{name} is not the state the entries before it replay to")
            self.digests_unmatched.add(seq)
        self.state_pending = []

    # § Entry: the trust root and the key registry

    def on_audit_log_created(self, seq: int, entry: dict[str, Any], payload: dict[str, Any]) -> None:
        if seq != 0:
            self.fail(seq, "audit.log_created after entry 0: the trust root is entry 0")
            return
        key = parse_vkey(payload["vkey"])
        if self.expected_log_key and key.text != self.expected_log_key.text:
            self.fail(seq, f"the log key {key.text} is not the one given, {self.expected_log_key.text}")
        if key.name != payload["origin"]:
            self.fail(seq, f"the log key is named {key.name!r}, not the origin {payload['origin']!r}")
        self.log_key, self.origin = key, payload["origin"]

    def on_audit_key_registered(self, seq: int, entry: dict[str, Any], payload: dict[str, Any]) -> None:
        name = payload["name"]
        if name in self.keys:
            self.fail(
                seq, f"key name {name!r} is registered again: key names are unique for the life of the log"
            )
            return
        vkey = parse_vkey(payload["vkey"])
        if vkey.name != name:
            self.fail(seq, f"key {name!r} is registered with a verifier key named {vkey.name!r}")
        if not isinstance(payload["role"], str) or not isinstance(payload["owner"], str):
            self.fail(seq, f"key {name!r} is registered without a role and an owner")
        self.keys[name] = RegisteredKey(name, vkey, payload["role"], payload["owner"], seq)

    def on_audit_checkpoint_cosigned(self, seq: int, entry: dict[str, Any], payload: dict[str, Any]) -> None:
        """§ Checkpoint: a cosignature, by a key registered before and not revoked."""
        key = self.keys.get(payload["key"])
        if key is None or key.revoked_seq is not None:
            self.fail(seq, f"checkpoint cosigned with key {payload['key']!r}, not registered or revoked")
        elif not payload["signature"].startswith(f"\u2014 {key.name} "):
            self.fail(seq, f"cosignature line is not by key {key.name!r}")
        self.cosignatures[(payload["size"], payload["signature"])] = seq

    def on_audit_key_revoked(self, seq: int, entry: dict[str, Any], payload: dict[str, Any]) -> None:
        key = self.keys.get(payload["name"])
        if key is None:
            self.fail(seq, f"revokes key {payload['name']!r}, which was never registered")
        elif key.revoked_seq is not None:
            self.fail(seq, f"revokes key {key.name!r} again (revoked at entry {key.revoked_seq})")
        else:
            key.revoked_seq = seq

    def check_document_signatures(self, seq: int, entry: dict[str, Any]) -> None:
        """§ Entry: a payload with `signatures` is a signed document: `payload.document`,
        signed over its JCS bytes by keys registered before this entry and not revoked."""
        payload = entry["payload"]
        signatures = payload.get("signatures")
        if "document" not in payload or not isinstance(signatures, list) or not signatures:
            self.fail(seq, "a signed document needs both payload.document and a non-empty payload.signatures")
            return
        message = jcs(payload["document"])
        for signature in signatures:
            name = signature["key"]
            key = self.keys.get(name)
            if key is None:
                self.fail(
                    seq, f"document signed with key {name!r}, which is not registered before this entry"
                )
            elif key.revoked_seq is not None:
                self.fail(seq, f"document signed with key {name!r}, revoked at entry {key.revoked_seq}")
            elif not ed25519_holds(key.vkey, _b64(signature["sig"]), message):
                self.fail(seq, f"signature by key {name!r} does not verify over JCS(document)")

    # § Polling replay

    def on_auth_user_created(self, seq: int, entry: dict[str, Any], payload: dict[str, Any]) -> None:
        self.roles[payload["username"]] = (payload["role"], payload["station"])

    def on_auth_role_changed(self, seq: int, entry: dict[str, Any], payload: dict[str, Any]) -> None:
        self.roles[payload["username"]] = (payload["to"]["role"], payload["to"]["station"])

    def accounts(self, entry: dict[str, Any]) -> StationAccounts:
        key = (entry["scope"].get("election", ""), entry["payload"]["station"])
        return self.stations.setdefault(key, StationAccounts())

    def on_polling_voter_checked_in(self, seq: int, entry: dict[str, Any], payload: dict[str, Any]) -> None:
        marks = self.marks.setdefault(entry["scope"].get("election", ""), {})
        reg_no, style = payload["reg_no"], payload["ballot_style"]
        if reg_no in marks:
            self.fail(seq, f"voter {reg_no} is already marked in this election, at {marks[reg_no][0]}")
            return
        marks[reg_no] = (payload["station"], style)
        self.accounts(entry).checked_in[style] += 1

    def on_polling_check_in_undone(self, seq: int, entry: dict[str, Any], payload: dict[str, Any]) -> None:
        marks = self.marks.setdefault(entry["scope"].get("election", ""), {})
        mark = marks.get(payload["reg_no"])
        if mark is None or mark[0] != payload["station"]:
            self.fail(seq, f"undoes a check-in of {payload['reg_no']} never made at {payload['station']}")
            return
        del marks[payload["reg_no"]]
        self.accounts(entry).checked_in[mark[1]] -= 1

    def on_polling_station_opened(self, seq: int, entry: dict[str, Any], payload: dict[str, Any]) -> None:
        if payload["day"] == 1:
            self.accounts(entry).received = Counter(payload["ballots"])

    def on_polling_ballots_resupplied(self, seq: int, entry: dict[str, Any], payload: dict[str, Any]) -> None:
        self.accounts(entry).resupplied[payload["ballot_style"]] += payload["count"]

    def on_polling_ballots_transferred(
        self, seq: int, entry: dict[str, Any], payload: dict[str, Any]
    ) -> None:
        self.accounts(entry).transferred[payload["ballot_style"]] += payload["count"]

    def on_polling_tendered_ballot_issued(
        self, seq: int, entry: dict[str, Any], payload: dict[str, Any]
    ) -> None:
        self.accounts(entry).tendered[payload["ballot_style"]] += 1

    def on_polling_ballot_spoiled(self, seq: int, entry: dict[str, Any], payload: dict[str, Any]) -> None:
        self.accounts(entry).spoiled[payload["ballot_style"]] += 1

    def on_polling_station_paused(self, seq: int, entry: dict[str, Any], payload: dict[str, Any]) -> None:
        self.accounts(entry).unused = Counter(payload["unused"])

    on_polling_station_closed = on_polling_station_paused

    def signers_problem(self, payload: dict[str, Any], role: str, owner: str) -> str | None:
        for signature in payload["signatures"]:
            key = self.keys.get(signature["key"])
            if key and (key.role != role or key.owner != owner):
                held = f"{key.role} of {key.owner!r}"
                return f"signed with key {key.name!r} ({held}), not a {role} key of {owner!r}"
        return None

    def on_polling_protocol_signed(self, seq: int, entry: dict[str, Any], payload: dict[str, Any]) -> None:
        """§ Polling replay, "The protocol": who signed it, what it names, its figures."""
        station, document = payload["station"], payload["document"]
        election = entry["scope"].get("election")
        user = (entry["actor"] or {}).get("user")
        if self.roles.get(user) != ("presiding_officer", station):
            self.fail(seq, f"protocol signed by {user!r}, not the presiding officer of {station}")
        problem = self.signers_problem(payload, "presiding_officer", user)
        if problem:
            self.fail(seq, "protocol " + problem)
        named = (document.get("election"), document.get("station"))
        if named != (election, station):
            self.fail(
                seq, f"protocol document names {named[0]}/{named[1]}, not the entry's {election}/{station}"
            )
        if payload["sha256"] != sha256_hex(document):
            self.fail(seq, "protocol sha256 is not the SHA-256 of JCS(document)")
        self.check_protocol_figures(seq, document, self.accounts(entry))
        self.signed_protocols[(election or "", station)] = payload["sha256"]
        self.protocols += 1

    def check_protocol_figures(self, seq: int, document: dict[str, Any], accounts: StationAccounts) -> None:
        """§ Polling replay, "The protocol": the figures equal the replayed accounts, and a
        protocol that does not balance carries an explanation."""
        balanced = True
        for style, figures in document["ballots"].items():
            replayed = accounts.figures(style)
            differs = [
                f"{name} {figures.get(name)} ≠ {n}" for name, n in replayed.items() if figures.get(name) != n
            ]
            if differs:
                self.fail(
                    seq, f"protocol ballot style {style} differs from its entries: " + ", ".join(differs)
                )
            supplied = replayed["received"] + replayed["resupplied"] - replayed["transferred"]
            balanced &= supplied == replayed["issued"] + replayed["spoiled"] + replayed["unused"]
        totals = {
            "checked_in": sum(accounts.checked_in.values()),
            "tendered": sum(accounts.tendered.values()),
        }
        for name, n in totals.items():
            if document["figures"].get(name) != n:
                self.fail(
                    seq,
                    f"protocol figures differ from its entries: {name} {document['figures'].get(name)} ≠ {n}",
                )
        balanced &= document["figures"].get("in_box") == totals["checked_in"]
        explanation = document.get("explanation")
        if not balanced and not (isinstance(explanation, str) and explanation.strip()):
            self.fail(seq, "protocol does not balance and its explanation is empty")

    def on_polling_protocol_countersigned(
        self, seq: int, entry: dict[str, Any], payload: dict[str, Any]
    ) -> None:
        """§ Polling replay, "Countersignatures"."""
        station = payload["station"]
        signed = self.signed_protocols.get((entry["scope"].get("election", ""), station))
        if signed is None or payload["sha256"] != signed or sha256_hex(payload["document"]) != signed:
            self.fail(
                seq, f"countersigned document is not the protocol the presiding officer of {station} signed"
            )
        user = (entry["actor"] or {}).get("user")
        problem = self.signers_problem(payload, "observer", user)
        if problem:
            self.fail(seq, "countersignature " + problem)


# The checks over the whole bundle.


def check_entries(bundle: Bundle, failures: Failures, log_key: VerifierKey | None) -> Replay:
    """§ Entry, § Order, § Polling replay, § State replay: every line, in order."""
    replay = Replay(failures, log_key)
    for seq, line in enumerate(bundle.lines):
        entry, problems = parse_entry(line)
        for problem in problems:
            failures.add(f"entry {seq}", problem)
        if entry is not None:
            replay.walk(seq, entry)
    replay.fail_pending_state()  # § State replay: the end of the log, and none matched
    if not bundle.lines:
        failures.add("log.jsonl", "holds no entry: entry 0 must be audit.log_created")
    return replay


def check_checkpoints(
    bundle: Bundle, leaves: list[bytes], replay: Replay, failures: Failures
) -> list[Checkpoint]:
    """§ Checkpoint and § Bundle: signed by the log key, each root the Merkle root of a prefix
    of the one log (so any two checkpoints are consistent: the smaller tree is a prefix of the
    larger, RFC 9162 section 2.1.4), the last covering every entry."""
    verified = []
    for name, raw in bundle.checkpoints.items():
        where = f"checkpoint {name}"
        try:
            checkpoint = parse_checkpoint(raw)
        except Malformed as error:
            failures.add(where, str(error))
            continue
        if name != f"{checkpoint.size}.txt":
            failures.add(where, f"holds tree size {checkpoint.size}, not the size its file name gives")
        if checkpoint.origin != replay.origin:
            failures.add(where, f"origin {checkpoint.origin!r} is not the log's {replay.origin!r}")
        if replay.log_key is None or not signed_by(checkpoint, replay.log_key):
            failures.add(where, "has no valid signature by the log key")
            continue
        verified.append(checkpoint)
        check_cosignatures(checkpoint, replay, failures)
        if checkpoint.size > len(leaves):
            failures.add(where, f"covers {checkpoint.size} entries but log.jsonl holds {len(leaves)}")
        elif merkle_root(leaves[: checkpoint.size]) != checkpoint.root:
            failures.add(where, f"root hash is not the Merkle root of entries 0 to {checkpoint.size - 1}")
    if not bundle.checkpoints:
        failures.add("checkpoints", "the bundle holds no checkpoint")
    elif verified and max(c.size for c in verified) != len(leaves):
        failures.add(
            "checkpoints",
            f"the last checkpoint covers {max(c.size for c in verified)} entries, "
            f"log.jsonl holds {len(leaves)}",
        )
    return verified


def check_cosignatures(checkpoint: Checkpoint, replay: Replay, failures: Failures) -> None:
    """§ Checkpoint: every other signature line is a cosignature by a key of the log's
    registry, over the same note body, recorded by an audit.checkpoint_cosigned entry."""
    where = f"checkpoint {checkpoint.size}.txt"
    for signature in checkpoint.signatures:
        if replay.log_key and signature.name == replay.log_key.name:
            continue
        key = replay.keys.get(signature.name)
        if key is None:
            failures.add(where, f"cosignature by {signature.name!r}, a key the log never registered")
        elif not signature_holds(checkpoint, signature, key.vkey):
            failures.add(where, f"cosignature by {signature.name!r} does not verify")
        elif (checkpoint.size, signature.line) not in replay.cosignatures:
            failures.add(
                where, f"cosignature by {signature.name!r} is recorded by no audit.checkpoint_cosigned entry"
            )


def check_stored_leaf_hashes(
    bundle: Bundle, leaves: list[bytes], verified: list[Checkpoint], failures: Failures
) -> None:
    """§ Bundle, leaf-hashes.bin: trusted up to the largest checkpoint whose root it
    reproduces (not used if none); then each entry whose bytes do not hash to its stored
    leaf, or that log.jsonl lacks, is named."""
    if bundle.leaf_hashes is None:
        return
    raw = bundle.leaf_hashes
    if len(raw) % 32:
        failures.add("leaf-hashes.bin", f"is {len(raw)} bytes, not a multiple of 32")
        return
    stored = [raw[i : i + 32] for i in range(0, len(raw), 32)]
    reproduced = [
        c.size for c in verified if c.size <= len(stored) and merkle_root(stored[: c.size]) == c.root
    ]
    if not reproduced:
        return  # unsigned, and matching nothing signed: not used
    for seq in range(max(reproduced)):
        if seq >= len(leaves):
            failures.add(
                f"entry {seq}", "is missing from log.jsonl (the stored leaf hashes and a checkpoint hold it)"
            )
        elif leaves[seq] != stored[seq]:
            failures.add(
                f"entry {seq}", "its bytes do not hash to the leaf hash the log stored when it was appended"
            )


def check_keys_json(bundle: Bundle, replay: Replay, failures: Failures) -> None:
    """§ Bundle, keys.json: a convenience copy, checked against the log."""
    if bundle.keys_json is None:
        failures.add("keys.json", "missing")
        return
    try:
        copy = parse_json(bundle.keys_json)
        listed = {key["name"]: key for key in copy["keys"]}
    except (Malformed, KeyError, TypeError) as error:
        failures.add("keys.json", f"is not {{log, keys: [...]}} ({error})")
        return
    if replay.log_key is None or copy.get("log") != replay.log_key.text:
        failures.add("keys.json", "its log key is not the one entry 0 names")
    logged = {
        key.name: {
            "name": key.name,
            "vkey": key.vkey.text,
            "role": key.role,
            "registered_seq": key.registered_seq,
            "revoked_seq": key.revoked_seq,
        }
        for key in replay.keys.values()
    }
    for name in sorted(set(listed) | set(logged)):
        if name not in logged:
            failures.add("keys.json", f"key {name!r} is listed but never registered in the log")
        elif name not in listed:
            failures.add(
                "keys.json", f"key {name!r}, registered at entry {logged[name]['registered_seq']}, is missing"
            )
        else:
            for member, value in logged[name].items():
                if listed[name].get(member) != value:
                    failures.add(
                        "keys.json",
                        f"key {name!r} has {member} {listed[name].get(member)!r}, the log says {value!r}",
                    )


def check_state(bundle: Bundle, replay: Replay, failures: Failures) -> None:
    """§ Bundle, state/: each file is the state the last state digest commits to,
    `state.<name>` = hex SHA-256 of JCS(state/<name>.json)."""
    if replay.last_state is None:
        return  # no digest in this log commits to a state: nothing to compare state/ with
    if not bundle.state:
        return  # no state/ (the bundle the API serves): the server claims no state
    for name in sorted(set(bundle.state) | set(replay.last_state)):
        if name not in bundle.state:
            failures.add(f"state/{name}.json", "missing, though the last state digest commits to it")
            continue
        try:
            digest = sha256_hex(parse_json(bundle.state[name]))
        except Malformed as error:
            failures.add(f"state/{name}.json", str(error))
            continue
        if replay.last_state.get(name) != digest:
            failures.add(f"state/{name}.json", "differs from the state the last state digest commits to")


def verify(path: Path, log_key: str | None = None) -> tuple[list[str], str]:
    """All the checks: the failures, one line each, and a one-line summary."""
    failures = Failures()
    expected = None
    if log_key is not None:
        try:
            expected = parse_vkey(log_key)
        except Malformed as error:
            return [f"--log-key: {error}"], ""
    with tempfile.TemporaryDirectory() as scratch:
        root = unpack(path, Path(scratch)) if path.is_file() else path
        bundle = read_bundle(root, failures)
        leaves = [leaf_hash(line) for line in bundle.lines]
        replay = check_entries(bundle, failures, expected)
        verified = check_checkpoints(bundle, leaves, replay, failures)
        check_stored_leaf_hashes(bundle, leaves, verified, failures)
        check_keys_json(bundle, replay, failures)
        check_state(bundle, replay, failures)
    summary = (
        f"{len(bundle.lines)} entries, {len(verified)} checkpoints, {len(replay.keys)} keys, "
        f"{len(replay.cosignatures)} cosignatures, "
        f"{sum(len(m) for m in replay.marks.values())} voters marked, {replay.protocols} protocols, "
        f"{replay.state_digests - len(replay.digests_unmatched)} state digests replayed"
    )
    return failures.lines, summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Verify an OCV audit bundle (docs/specs/audit-log-format.md)."
    )
    parser.add_argument("bundle", type=Path, help="the bundle's directory or .tar.gz")
    parser.add_argument("--log-key", help="the log's verifier key, had out of band")
    args = parser.parse_args(argv)
    failures, summary = verify(args.bundle, args.log_key)
    for line in failures:
        print(line)
    if failures:
        return 1
    print(f"OK: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
