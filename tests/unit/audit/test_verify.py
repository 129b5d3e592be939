"""The offline verifier against bundles built here (canonical entries made with audit.jcs,
checkpoints signed with fresh keys), good and tampered; and the canonical-form checks
it relies on (audit.jcs), including the orjson fast path's corner cases."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import itertools
import json
import random
import re
import subprocess
import sys
import tarfile
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import msgspec
import orjson
import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from audit import entry_scan, jcs, merkle, note, verify, verify_cli

ORIGIN = "test.ocv.example/audit"
START = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)


def _public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


class Log:
    """Builds a log the way the server does, then writes it as a bundle."""

    def __init__(self) -> None:
        self.log_key = Ed25519PrivateKey.generate()
        self.vkey = note.format_vkey(ORIGIN, _public(self.log_key))
        self.entries: list[dict[str, Any]] = []
        self.keys: dict[str, Ed25519PrivateKey] = {}
        self.registry: dict[str, dict[str, Any]] = {}
        self.sizes: list[int] = []
        self.cosigners: dict[str, Ed25519PrivateKey] = {}
        self.state: dict[str, Any] = {}
        self.append("audit.log_created", {"origin": ORIGIN, "vkey": self.vkey})

    def append(
        self,
        kind: str,
        payload: dict[str, Any],
        actor: dict[str, str] | None = None,
        scope: dict[str, str] | None = None,
    ) -> int:
        seq = len(self.entries)
        moment = START + dt.timedelta(seconds=seq, microseconds=seq * 7)
        self.entries.append(
            {
                "v": 1,
                "seq": seq,
                "time": moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                "type": kind,
                "actor": actor,
                "scope": scope or {},
                "payload": payload,
            }
        )
        return seq

    def enrol(self, count: int, name: str = "Müller") -> None:
        for i in range(count):
            self.append(
                "registration.voter_enrolled",
                {"reg_no": f"R{i:06d}", "surname": name, "station": "DE-BER-01"},
                {"user": "clerk1", "role": "clerk"},
                {"election": "GE2026", "station": "DE-BER-01", "country": "DE"},
            )

    def register(self, name: str, role: str = "presiding_officer") -> Ed25519PrivateKey:
        key = Ed25519PrivateKey.generate()
        vkey = note.format_vkey(name, _public(key))
        seq = self.append(
            "audit.key_registered",
            {"name": name, "vkey": vkey, "role": role, "owner": name.split("-")[0]},
            {"user": "admin", "role": "admin"},
        )
        self.keys[name] = key
        self.registry[name] = {
            "name": name,
            "vkey": vkey,
            "role": role,
            "registered_seq": seq,
            "revoked_seq": None,
        }
        return key

    def revoke(self, name: str) -> None:
        seq = self.append(
            "audit.key_revoked", {"name": name, "reason": "lost"}, {"user": "admin", "role": "admin"}
        )
        self.registry[name]["revoked_seq"] = seq

    def document(self, signers: list[str], keys: dict[str, Ed25519PrivateKey] | None = None) -> int:
        document = {"station": "DE-BER-01", "ballots": 412, "note": "Protokoll über die Zählung"}
        signed = jcs.canonical_bytes(document)
        keys = keys or self.keys
        signatures = [
            {"key": name, "sig": base64.b64encode(keys[name].sign(signed)).decode()} for name in signers
        ]
        return self.append(
            "polling.results_recorded",
            {"document": document, "signatures": signatures},
            {"user": signers[0], "role": "presiding_officer"},
            {"station": "DE-BER-01"},
        )

    def digest(self, state: dict[str, Any]) -> int:
        counts: dict[str, int] = {}
        for entry in self.entries:
            counts[entry["type"]] = counts.get(entry["type"], 0) + 1
        self.state = state
        return self.append(
            "audit.state_digest",
            {
                "entries_by_type": dict(sorted(counts.items())),
                "state": {
                    name: hashlib.sha256(jcs.canonical_bytes(value)).hexdigest()
                    for name, value in state.items()
                },
            },
        )

    def checkpoint(self) -> int:
        self.sizes.append(len(self.entries))
        return len(self.entries)

    def lines(self) -> list[bytes]:
        return [jcs.canonical_bytes(jcs.normalize(entry)) for entry in self.entries]

    def signed_checkpoint(self, size: int, leaves: list[bytes], root: bytes | None = None) -> str:
        hashes = [merkle.leaf_hash(leaf) for leaf in leaves[:size]]
        body = note.Checkpoint(ORIGIN, size, root or merkle.root(hashes)).format()
        text = body + "\n" + note.sign_note(body, ORIGIN, self.log_key)
        for name, key in self.cosigners.items():
            text += note.sign_note(body, name, key)
        return text

    def write(self, directory: Path, lines: list[bytes] | None = None) -> Path:
        """The bundle of the entries as built (or of `lines`, for tampering)."""
        directory.mkdir(parents=True, exist_ok=True)
        signed = self.lines()
        (directory / "log.jsonl").write_bytes(b"".join(line + b"\n" for line in lines or signed))
        (directory / "checkpoints").mkdir(exist_ok=True)
        for size in self.sizes:
            (directory / "checkpoints" / f"{size}.txt").write_text(
                self.signed_checkpoint(size, signed), encoding="utf-8"
            )
        keys = {"log": self.vkey, "keys": list(self.registry.values())}
        (directory / "keys.json").write_text(json.dumps(keys, indent=1, ensure_ascii=False))
        (directory / "state").mkdir(exist_ok=True)
        for name, value in self.state.items():
            (directory / "state" / f"{name}.json").write_text(
                json.dumps(value, indent=1, ensure_ascii=False), encoding="utf-8"
            )
        return directory


def _typical() -> Log:
    log = Log()
    log.register("anna-po")
    log.enrol(5)
    log.checkpoint()
    log.document(["anna-po"])
    log.enrol(6, "Nguyễn")
    log.checkpoint()
    log.enrol(4)
    log.digest({"registry": {"enrolled": 15, "stations": ["DE-BER-01"]}})
    log.checkpoint()
    return log


def _run(
    bundle: Path,
    vkey: str,
    capsys: pytest.CaptureFixture[str],
    *extra: str,
) -> tuple[int, dict[str, Any]]:
    code = verify_cli.main([str(bundle), "--log-key", vkey, "--json", *extra])
    out = capsys.readouterr().out
    return code, json.loads(out) if out.strip() else {}


def _failure(
    bundle: Path, log: Log, capsys: pytest.CaptureFixture[str], *extra: str, vkey: str | None = None
) -> dict[str, Any]:
    code, report = _run(bundle, vkey or log.vkey, capsys, *extra)
    assert code == 1, report
    assert report["ok"] is False
    return report["failure"]


# --- good bundles -------------------------------------------------------------------------


def test_a_good_bundle_verifies(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = _typical()
    code, report = _run(log.write(tmp_path / "bundle"), log.vkey, capsys)
    assert code == 0, report["failure"]
    assert report["ok"] is True
    assert report["failure"] is None
    assert report["entries"] == len(log.entries)
    assert report["types"]["registration.voter_enrolled"] == 15
    assert [c["size"] for c in report["checkpoints"]] == log.sizes
    assert report["documents"] == 1
    assert report["signatures"] == 1
    assert report["digests"] == 1
    assert report["state_checked"] == ["registry.json"]
    assert [k["name"] for k in report["keys"]] == [ORIGIN, "anna-po"]


def test_a_good_tar_gz_verifies(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = _typical()
    directory = log.write(tmp_path / "bundle")
    archive = tmp_path / "bundle.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(directory, arcname="bundle")
    assert _run(archive, log.vkey, capsys)[0] == 0


def test_the_text_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = _typical()
    bundle = log.write(tmp_path / "bundle")
    assert verify_cli.main([str(bundle), "--log-key", log.vkey]) == 0
    out = capsys.readouterr().out
    assert "OK: everything holds" in out
    assert "15  registration.voter_enrolled" in out
    (bundle / "log.jsonl").write_bytes((bundle / "log.jsonl").read_bytes()[:-1])
    assert verify_cli.main([str(bundle), "--log-key", log.vkey]) == 1
    assert f"FAIL: entry {len(log.entries) - 1}: " in capsys.readouterr().out


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = _typical()
    assert verify_cli.main([str(tmp_path / "missing"), "--log-key", log.vkey]) == 2
    assert verify_cli.main([str(log.write(tmp_path / "b")), "--log-key", "not+a+key"]) == 2
    assert verify_cli.main([str(tmp_path / "b")]) == 2  # no --log-key
    capsys.readouterr()


def test_cosignatures(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = Log()
    olivia = log.register("olivia-witness", role="observer")
    log.enrol(3)
    log.checkpoint()
    log.cosigners = {"olivia-witness": olivia, "stranger": Ed25519PrivateKey.generate()}
    code, report = _run(log.write(tmp_path / "good"), log.vkey, capsys)
    assert code == 0
    assert report["checkpoints"][0]["cosigners"] == ["olivia-witness"]
    assert report["checkpoints"][0]["unverified"] == ["stranger"]

    # A registered observer's name and key id on a signature that does not verify fails.
    body = note.Checkpoint(ORIGIN, 5, merkle.root([merkle.leaf_hash(x) for x in log.lines()])).format()
    forged = note.key_id("olivia-witness", _public(olivia)) + Ed25519PrivateKey.generate().sign(body.encode())
    bundle = log.write(tmp_path / "forged")
    (bundle / "checkpoints" / "5.txt").write_text(
        body
        + "\n"
        + note.sign_note(body, ORIGIN, log.log_key)
        + f"\u2014 olivia-witness {base64.b64encode(forged).decode()}\n"
    )
    failure = _failure(bundle, log, capsys)
    assert failure["size"] == 5
    assert "olivia-witness does not verify" in failure["reason"]


def test_the_parallel_path_agrees(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = _typical()
    log.enrol(40)
    log.checkpoint()
    bundle = log.write(tmp_path / "bundle")
    single = verify.verify_bundle(bundle, log.vkey, jobs=1)
    parallel = verify.verify_bundle(bundle, log.vkey, jobs=2, parallel_threshold=0)
    assert single.ok
    assert parallel.ok
    assert single.types == parallel.types
    assert single.entries == parallel.entries
    assert [c.size for c in single.checkpoints] == [c.size for c in parallel.checkpoints]
    # And the same first failure, wherever the chunks split.
    lines = log.lines()
    lines[30] = lines[30].replace(b'"v":1', b'"v":2')
    bundle = log.write(tmp_path / "tampered", lines)
    for jobs in (1, 2):
        report = verify.verify_bundle(bundle, log.vkey, jobs=jobs, parallel_threshold=0)
        assert report.failure is not None
        assert (report.failure.where, report.failure.at) == ("entry", 30)
        assert "v is 2" in report.failure.reason


def _edit(line: bytes, **members: Any) -> bytes:
    entry = orjson.loads(line)
    entry.update(members)
    return orjson.dumps({k: v for k, v in entry.items() if v is not _DROP}, option=orjson.OPT_SORT_KEYS)


_DROP = object()
_BATCH_TAMPERINGS: dict[str, Callable[[bytes], bytes]] = {
    "seq": lambda line: _edit(line, seq=99),
    "float seq": lambda line: _edit(line, seq=17.0),
    "v 2": lambda line: _edit(line, v=2),
    "v true": lambda line: _edit(line, v=True),
    "time form": lambda line: _edit(line, time="2026-11-28T09:00:17Z"),
    "time seconds": lambda line: _edit(line, time="2026-11-28T09:00:60.000000Z"),
    "time day": lambda line: _edit(line, time="2026-11-31T09:00:17.000000Z"),
    "time order": lambda line: _edit(line, time="2026-11-28T08:00:00.000000Z"),
    "time type": lambda line: _edit(line, time=17),
    "type type": lambda line: _edit(line, type=["a.b"]),
    "actor empty": lambda line: _edit(line, actor={}),
    "actor half": lambda line: _edit(line, actor={"user": "u"}),
    "actor extra": lambda line: _edit(line, actor={"user": "u", "role": "r", "x": "y"}),
    "actor value": lambda line: _edit(line, actor={"user": "u", "role": 1}),
    "actor string": lambda line: _edit(line, actor="u"),
    "scope member": lambda line: _edit(line, scope={"planet": "mars"}),
    "scope value": lambda line: _edit(line, scope={"station": 7}),
    "scope list": lambda line: _edit(line, scope=["DE"]),
    "payload list": lambda line: _edit(line, payload=["x"]),
    "payload float": lambda line: _edit(line, payload={"weight": 1.5}),
    "nested float": lambda line: _edit(line, payload={"a": [1, {"b": [2.5]}]}),
    "nested in an object": lambda line: _edit(line, payload={"a": {"b": 0.5}}),
    "big integer": lambda line: _edit(line, payload={"n": 2**53}),
    "nested big integer": lambda line: _edit(line, payload={"n": [-(2**60)]}),
    "huge integer": lambda line: line.replace(b'"payload":{', b'"payload":{"n":' + b"9" * 30 + b","),
    "float in a list": lambda line: _edit(line, payload={"n": [1, 2.0]}),
    "scope duplicate": lambda line: line.replace(b'"scope":{', b'"scope":{"station":"x",'),
    "top duplicate": lambda line: line.replace(b'"actor":', b'"actor":null,"actor":'),
    "escape": lambda line: line.replace(b'"reg_no"', b'"reg\\u005fno"'),
    "lone surrogate": lambda line: line.replace(b'"reg_no"', b'"\\ud800"'),
    "not UTF-8": lambda line: line.replace(b"M\xc3\xbcller", b"M\xfcller"),
    "member added": lambda line: _edit(line, extra=1),
    "member dropped": lambda line: _edit(line, scope=_DROP),
    "not an object": lambda line: b"[1]",
    "not NFC": lambda line: line.replace(b"M\xc3\xbcller", b"Mu\xcc\x88ller"),
    "duplicate": lambda line: line.replace(b'"reg_no"', b'"reg_no":"x","reg_no"'),
    "whitespace": lambda line: line.replace(b'"payload":', b'"payload": '),
}


@pytest.mark.parametrize("tamper", _BATCH_TAMPERINGS.values(), ids=_BATCH_TAMPERINGS.keys())
def test_the_batch_checks_pass_nothing_the_line_checks_refuse(tamper: Callable[[bytes], bytes]) -> None:
    log = Log()
    log.register("anna-po")
    log.enrol(20)
    log.document(["anna-po"])
    log.enrol(20, "Nguyễn")
    lines = log.lines()
    fast: tuple[list[str], list[Any]] = ([], [])
    slow: tuple[list[str], list[Any]] = ([], [])
    # A good batch passes whole, with the same kinds and notable entries as line by line.
    last = log.entries[-1]["time"]
    assert entry_scan._check_batch(lines, 0, ("", ""), *fast) == (last, last[:16] + ":59.999999Z")
    assert entry_scan._check_lines(lines, 0, ("", ""), *slow) == ((last, last[:16] + ":59.999999Z"), None)
    assert fast == slow
    assert len(fast[1]) == 3  # log created, key registered, signed document
    tampered = tamper(lines[17])
    assert tampered != lines[17]
    lines[17] = tampered
    assert entry_scan._check_batch(lines, 0, ("", ""), [], []) is None
    error = entry_scan._check_lines(lines, 0, ("", ""), [], [])[1]
    assert error is not None
    assert error[0] == 17


def test_payloads_nested_deeper_than_the_batch_decoder_types_take_the_line_checks() -> None:
    log = Log()
    log.enrol(5)
    lines = log.lines()
    lines[3] = _edit(lines[3], payload={"deep": [[{"x": [1]}]]})
    assert entry_scan._check_batch(lines, 0, ("", ""), [], []) is None
    assert entry_scan._check_lines(lines, 0, ("", ""), [], [])[1] is None
    lines[3] = _edit(lines[3], payload={"deep": [[{"x": 1}]]})
    assert entry_scan._check_batch(lines, 0, ("", ""), [], []) is not None


def test_the_verifier_imports_nothing_of_the_server() -> None:
    # An observer runs it without the app: no web framework, no database layer.
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, audit.verify_cli; print(' '.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    server = {"flask", "sqlalchemy", "psycopg", "werkzeug", "ocv", "registration", "polling", "tally"}
    assert not [name for name in loaded if name.split(".")[0] in server]
    assert "audit.verify" in loaded


def test_chunks_split_on_line_boundaries() -> None:
    data = b"".join(b"x" * (i % 7) + b"\n" for i in range(100))
    chunks = verify._chunks(data, 9)
    assert chunks[0][0] == 0
    assert chunks[-1][1] == len(data)
    for (_, end), (next_start, _) in zip(chunks, chunks[1:], strict=False):
        assert end == next_start
        assert data[end - 1 : end] == b"\n"


def test_leaf_hashes_in_one_call() -> None:
    leaves = [b"", b"x", bytes(range(256)) * 3]
    assert merkle.leaf_hashes(leaves) == b"".join(map(merkle.leaf_hash, leaves))
    assert merkle.leaf_hashes([]) == b""


def test_merkle_levels_match_the_plain_root() -> None:
    leaves = [merkle.leaf_hash(bytes([i])) for i in range(100)]
    levels = merkle.subtree_levels(b"".join(leaves))
    read = merkle.level_reader(levels)
    for size in range(101):
        assert merkle.prefix_root(levels, size) == merkle.root(leaves[:size])
        if size:
            assert merkle.tree_hash(size, read) == merkle.root(leaves[:size])


@pytest.mark.parametrize("cuts", [[], [1], [3, 4, 5], [7, 8, 9, 40, 64, 65, 99], list(range(1, 100, 3))])
def test_merkle_levels_joined_from_runs(cuts: list[int]) -> None:
    leaves = b"".join(merkle.leaf_hash(bytes([i])) for i in range(100))
    for size in (1, 2, 64, 65, 99, 100):
        bounds = [0, *[c for c in cuts if c < size], size]
        parts = [merkle.inner_levels(leaves[32 * a : 32 * b], a) for a, b in itertools.pairwise(bounds)]
        assert merkle.join_levels(leaves[: 32 * size], parts) == merkle.subtree_levels(leaves[: 32 * size])


# --- tampering ----------------------------------------------------------------------------


def test_a_changed_byte_in_a_value(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = _typical()
    lines = log.lines()
    lines[3] = lines[3].replace(b"R000001", b"R000002")  # still a valid entry
    failure = _failure(log.write(tmp_path / "b", lines), log, capsys)
    assert failure["where"] == "checkpoint"
    assert failure["size"] == log.sizes[0]
    assert "from seq 0 to 6 was changed" in failure["reason"]


def test_a_changed_byte_in_the_structure(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = _typical()
    lines = log.lines()
    lines[9] = lines[9].replace(b'"payload":', b'"payload";')
    failure = _failure(log.write(tmp_path / "b", lines), log, capsys)
    assert (failure["where"], failure["seq"]) == ("entry", 9)
    assert "not JSON" in failure["reason"]


def test_a_dropped_entry(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = _typical()
    lines = log.lines()
    del lines[4]
    failure = _failure(log.write(tmp_path / "b", lines), log, capsys)
    assert failure["seq"] == 4
    assert "seq is 5, expected 4" in failure["reason"]


def test_two_swapped_entries(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = _typical()
    lines = log.lines()
    lines[6], lines[7] = lines[7], lines[6]
    failure = _failure(log.write(tmp_path / "b", lines), log, capsys)
    assert failure["seq"] == 6
    assert "seq is 7, expected 6" in failure["reason"]


def test_a_truncated_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = _typical()
    n = len(log.entries)
    failure = _failure(log.write(tmp_path / "lines", log.lines()[:-3]), log, capsys)
    assert failure["where"] == "checkpoint"
    assert failure["size"] == n
    assert f"the log has only {n - 3}" in failure["reason"]
    bundle = log.write(tmp_path / "bytes")
    (bundle / "log.jsonl").write_bytes((bundle / "log.jsonl").read_bytes()[:-20])
    failure = _failure(bundle, log, capsys)
    assert failure["seq"] == n - 1
    assert "no newline" in failure["reason"]


def test_a_forged_entry_appended(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = _typical()
    signed = log.lines()
    log.enrol(1)  # a valid entry, but after the last checkpoint
    failure = _failure(log.write(tmp_path / "b", [*signed, log.lines()[-1]]), log, capsys)
    assert (failure["where"], failure["seq"]) == ("entry", len(signed))
    assert "no checkpoint signs" in failure["reason"]


def test_a_changed_checkpoint_root(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = _typical()
    bundle = log.write(tmp_path / "b")
    size = log.sizes[1]
    path = bundle / "checkpoints" / f"{size}.txt"
    lines = path.read_text().split("\n")
    lines[2] = base64.b64encode(bytes(32)).decode()  # edited, so the signature breaks
    path.write_text("\n".join(lines))
    failure = _failure(bundle, log, capsys)
    assert failure["size"] == size
    assert "does not verify" in failure["reason"]
    # Re-signed by the log key itself: the root still has to match the entries.
    path.write_text(log.signed_checkpoint(size, log.lines(), root=bytes(32)))
    failure = _failure(bundle, log, capsys)
    assert failure["size"] == size
    assert "root differs" in failure["reason"]


def test_a_changed_checkpoint_signature(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = _typical()
    bundle = log.write(tmp_path / "b")
    path = bundle / "checkpoints" / f"{log.sizes[0]}.txt"
    body, signature = path.read_text().split("\n\n")
    prefix, encoded = signature.strip().rsplit(" ", 1)
    raw = bytearray(base64.b64decode(encoded))
    raw[-1] ^= 0x40
    path.write_text(f"{body}\n\n{prefix} {base64.b64encode(raw).decode()}\n")
    failure = _failure(bundle, log, capsys)
    assert failure["size"] == log.sizes[0]
    assert "does not verify" in failure["reason"]


def test_a_document_signed_by_a_revoked_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = Log()
    log.register("anna-po")
    log.enrol(2)
    log.revoke("anna-po")
    seq = log.document(["anna-po"])
    log.checkpoint()
    failure = _failure(log.write(tmp_path / "b"), log, capsys)
    assert failure["seq"] == seq
    assert "revoked at entry 4" in failure["reason"]


def test_a_document_signed_by_an_unregistered_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = Log()
    log.enrol(2)
    seq = log.document(["mallory"], {"mallory": Ed25519PrivateKey.generate()})
    log.checkpoint()
    failure = _failure(log.write(tmp_path / "b"), log, capsys)
    assert failure["seq"] == seq
    assert "'mallory', which is not a registered key" in failure["reason"]


def test_a_document_with_a_bad_signature(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = Log()
    log.register("anna-po")
    seq = log.document(["anna-po"], {"anna-po": Ed25519PrivateKey.generate()})
    log.checkpoint()
    failure = _failure(log.write(tmp_path / "b"), log, capsys)
    assert failure["seq"] == seq
    assert "does not verify" in failure["reason"]


def test_key_names_are_never_reused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = Log()
    log.register("anna-po")
    log.revoke("anna-po")
    seq = log.append(
        "audit.key_registered",
        {
            "name": "anna-po",
            "vkey": note.format_vkey("anna-po", bytes(32)),
            "role": "presiding_officer",
            "owner": "anna",
        },
    )
    log.checkpoint()
    failure = _failure(log.write(tmp_path / "b"), log, capsys)
    assert failure["seq"] == seq
    assert "never reused" in failure["reason"]


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda line: line.replace(b'"payload":', b'"payload": '), "canonical form"),
        (lambda line: b'{"v":1,' + line[1:].replace(b',"v":1}', b"}"), "canonical form"),
        (lambda line: line + b" ", "canonical form"),
        (lambda line: line + b"\r", "canonical form"),
        (lambda line: line.replace(b'"reg_no"', b'"reg_no":"x","reg_no"'), "duplicate member"),
        (lambda line: line.replace(b"M\xc3\xbcller", b"Mu\xcc\x88ller"), "NFC"),
        (lambda line: line.replace(b"M\xc3\xbcller", b"M\\u00fcller"), "canonical form"),
    ],
)
def test_non_canonical_entries(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], change: Callable[[bytes], bytes], reason: str
) -> None:
    log = Log()
    log.enrol(3)
    log.checkpoint()
    lines = log.lines()
    changed = change(lines[2])
    assert changed != lines[2]
    lines[2] = changed
    failure = _failure(log.write(tmp_path / "b", lines), log, capsys)
    assert failure["seq"] == 2
    assert reason in failure["reason"]


def test_unsorted_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = Log()
    log.enrol(2)
    log.checkpoint()
    lines = log.lines()
    entry = json.loads(lines[1])
    lines[1] = json.dumps(
        dict(reversed(list(entry.items()))), separators=(",", ":"), ensure_ascii=False
    ).encode()
    failure = _failure(log.write(tmp_path / "b", lines), log, capsys)
    assert failure["seq"] == 1
    assert "not in JCS canonical form" in failure["reason"]


@pytest.mark.parametrize(
    ("member", "value", "reason"),
    [
        ("payload", {"reg_no": "R1", "weight": 1.5}, "payload.weight: floating-point number"),
        ("payload", {"reg_no": "R1", "nested": {"list": [1, 2.0]}}, "floating-point number"),
        ("payload", {"big": 2**60}, "2**53"),
        ("seq", 1.0, "seq is 1.0"),
        ("v", True, "v is True"),
        ("actor", {"user": "u", "role": 1.0}, "actor is null or"),
        ("scope", {"station": 7}, "scope is an object"),
        ("scope", {"planet": "mars"}, "scope is an object"),
        ("time", "2026-11-28T09:00:01Z", "RFC 3339"),
        ("time", "2026-02-30T09:00:01.000000Z", "RFC 3339"),
        ("time", "2026-11-28T09:00:60.000000Z", "RFC 3339"),
        ("time", "2026-11-28T08:59:59.000000Z", "before the previous entry"),
        ("type", "Registration.Enrolled", "<module>.<event>"),
        ("type", "registration", "<module>.<event>"),
        ("payload", ["not", "an", "object"], "payload is an object"),
    ],
)
def test_bad_members(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], member: str, value: Any, reason: str
) -> None:
    log = Log()
    log.enrol(3)
    log.checkpoint()
    lines = log.lines()
    entry = orjson.loads(lines[2])
    entry[member] = value
    # orjson writes floats as they are: the line is canonical but for the float.
    lines[2] = orjson.dumps(entry, option=orjson.OPT_SORT_KEYS)
    failure = _failure(log.write(tmp_path / "b", lines), log, capsys)
    assert failure["seq"] == 2
    assert reason in failure["reason"]


def test_wrong_log_key_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = _typical()
    other = note.format_vkey(ORIGIN, _public(Ed25519PrivateKey.generate()))
    failure = _failure(log.write(tmp_path / "b"), log, capsys, vkey=other)
    assert failure["seq"] == 0
    assert "not the --log-key given" in failure["reason"]


def test_entry_0_must_create_the_log(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = _typical()
    failure = _failure(log.write(tmp_path / "b", log.lines()[1:]), log, capsys)
    assert failure["seq"] == 0


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda keys: keys["keys"][0].update(revoked_seq=3), "revoked_seq 3 (the log says None)"),
        (lambda keys: keys["keys"].append(dict(keys["keys"][0], name="zed")), "never registered"),
        (lambda keys: keys["keys"].clear(), "leaves out"),
        (lambda keys: keys.update(log="x+00000000+AA=="), "another log key"),
    ],
)
def test_keys_json_disagreeing(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    change: Callable[[dict[str, Any]], object],
    reason: str,
) -> None:
    log = _typical()
    bundle = log.write(tmp_path / "b")
    keys = json.loads((bundle / "keys.json").read_text())
    change(keys)
    (bundle / "keys.json").write_text(json.dumps(keys))
    failure = _failure(bundle, log, capsys)
    assert failure["where"] == "keys.json"
    assert reason in failure["reason"]


def test_a_state_digest_that_disagrees_with_the_replay(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = _typical()
    seq = log.digest({})
    log.entries[seq]["payload"]["entries_by_type"]["registration.voter_enrolled"] = 14
    log.checkpoint()
    failure = _failure(log.write(tmp_path / "b"), log, capsys)
    assert failure["seq"] == seq
    assert "registration.voter_enrolled 14 claimed, 15 replayed" in failure["reason"]


def test_a_state_file_that_disagrees_with_the_digest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = _typical()
    bundle = log.write(tmp_path / "b")
    (bundle / "state" / "registry.json").write_text('{"enrolled": 16, "stations": ["DE-BER-01"]}')
    failure = _failure(bundle, log, capsys)
    assert failure["where"] == "state"
    assert failure["file"] == "registry.json"
    (bundle / "state" / "registry.json").write_text('{"stations":["DE-BER-01"],"enrolled":15}')
    assert _run(bundle, log.vkey, capsys)[0] == 0  # any JSON form of the same state
    (bundle / "state" / "other.json").write_text("{}")
    code, report = _run(bundle, log.vkey, capsys)
    assert code == 0
    assert report["state_unchecked"] == ["other.json"]


# --- canonical form (audit.jcs) -----------------------------------------------------------


def test_orjson_and_msgspec_escape_every_code_point_as_jcs_does() -> None:
    # The fast paths' premise: same bytes for every character (keys aside, see below).
    everything = "".join(chr(c) for c in range(0x110000) if not 0xD800 <= c < 0xE000)
    assert orjson.dumps(everything) == rfc8785.dumps(everything)
    assert msgspec.json.encode(everything) == rfc8785.dumps(everything)


def test_msgspec_sorts_keys_as_jcs_does_below_u10000() -> None:
    keys = [chr(c) for c in range(0x10000) if not 0xD800 <= c < 0xE000]
    random.Random(3).shuffle(keys)
    obj = dict.fromkeys(keys, 0)
    assert msgspec.json.Encoder(order="sorted").encode(obj) == rfc8785.dumps(obj)


def test_key_order_above_the_bmp() -> None:
    # JCS sorts by UTF-16 unit: U+1F600 (D83D DE00) before U+FF01; orjson by code point.
    obj = {"\uff01": 1, "\U0001f600": 2}
    canonical = rfc8785.dumps(obj)
    assert jcs.is_canonical(canonical) == obj
    code_point_order = orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
    assert code_point_order != canonical
    with pytest.raises(jcs.CanonicalError):
        jcs.is_canonical(code_point_order)


@pytest.mark.parametrize(
    "obj",
    [
        {"a": "line\u2028separator / slash \u007f del \x1f unit", "b": [None, True, False, -0, 7]},
        {"nested": {"list": [{"x": "é"}, "\U0001f600", 2**53 - 1, -(2**53 - 1)]}},
        {"": "", "é": 1, "z": "\U0001f600 in a value"},
        [],
        {},
        "just a string",
        12,
    ],
)
def test_canonical_lines_are_accepted(obj: Any) -> None:
    line = jcs.canonical_bytes(obj)
    assert line == rfc8785.dumps(obj)
    assert jcs.is_canonical(line) == obj


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b'{"a":1.0}', "floating-point"),
        (b'{"a":1e20}', "floating-point"),
        (b'{"a":[{"b":-0.5}]}', "floating-point"),
        (b"1.5", "floating-point"),
        (b'{"a":9007199254740992}', "2**53"),
        (b'{"a":1,"a":1}', "duplicate member"),
        (b'{"a":2,"a":1}', "duplicate member"),
        (b'{"b":1,"a":2}', "canonical form"),
        (b'{"a": 1}', "canonical form"),
        (b'{"a":"\\u0041"}', "canonical form"),
        (b'{"a":"\\/"}', "canonical form"),
        (b'{"a":"\\u001F"}', "canonical form"),
        (b'{"a":"\\ud800"}', "UTF-8"),
        (b'{"\\ud800":1}', "lone surrogate"),
        (b'{"a":NaN}', "floating-point"),
        (b"\xef\xbb\xbf{}", "not JSON"),
        (b'{"a":"\xff"}', "not JSON"),
        ('{"a":"e\u0301"}'.encode(), "NFC"),
        ('{"e\u0301":1}'.encode(), "NFC"),
        (b"", "not JSON"),
    ],
)
def test_non_canonical_lines_are_refused(line: bytes, reason: str) -> None:
    with pytest.raises(jcs.CanonicalError, match=re.escape(reason)):
        jcs.is_canonical(line)


def test_floats_are_only_skipped_on_request() -> None:
    assert jcs.is_canonical(b'{"a":1.5}', floats=False) == {"a": 1.5}
    assert jcs.has_float({"a": [1, {"b": 2.5}]})
    assert not jcs.has_float({"a": [1, "2.5"]})


def test_normalize_and_canonical_bytes() -> None:
    decomposed = {"name": "Mu\u0308ller", "list": ("e\u0301",)}
    with pytest.raises(jcs.CanonicalError, match="NFC"):
        jcs.canonical_bytes(decomposed)
    assert jcs.canonical_bytes(jcs.normalize(decomposed)) == ('{"list":["é"],"name":"Müller"}'.encode())
    assert unicodedata.is_normalized("NFC", jcs.canonical_bytes(jcs.normalize(decomposed)).decode())
    with pytest.raises(jcs.CanonicalError, match="collide"):
        jcs.normalize({"e\u0301": 1, "é": 2})
    with pytest.raises(jcs.CanonicalError, match="not a string"):
        jcs.canonical_bytes({1: "a"})
    with pytest.raises(jcs.CanonicalError, match="not a JSON type"):
        jcs.canonical_bytes({"a": b"bytes"})
    with pytest.raises(jcs.CanonicalError, match="payload.amount: floating-point"):
        jcs.canonical_bytes({"payload": {"amount": 2.5}})


def test_loads_strict() -> None:
    assert jcs.loads_strict(b'{"a": [1, "x"]}') == {"a": [1, "x"]}
    for text in (b'{"a":1,"a":2}', b"[1.0]", b"[Infinity]", b"{", b"\xff"):
        with pytest.raises(jcs.CanonicalError):
            jcs.loads_strict(text)
