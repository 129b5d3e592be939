"""How fast ocv-verify checks a bundle, against a plain hashlib loop over the same log.

    python bench/bench_verify.py [--entries 1000000] [--repeat 3] [--bundle DIR]

Generates a bundle of entries shaped as the system writes them (mostly voter
enrolments with their document hashes, check-ins, corrections with reasons in
several scripts, key registrations, signed documents, a state digest, a checkpoint
every 10,000 entries signed with a fresh key), then times, in the same run:

- baseline: read log.jsonl, SHA-256(0x00 || line) per line, RFC 9162 root with a stack;
- the verifier in one process, and with every core.

Prints medians and the ratio of each verifier's throughput to the baseline's.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import random
import statistics
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from audit import jcs, note, verify  # noqa: E402  (after the path fix, to run from a checkout)

ORIGIN = "bench.ocv.example/audit"
# Correction reasons, as officers type them in their own language.
REASONS = [
    unicodedata.normalize("NFC", reason)
    for reason in (
        "Schreibfehler im Familiennamen",
        "Nom de famille mal orthographié",
        "Błąd w nazwisku",
        "Ошибка в дате рождения",
        "خطأ في كتابة اسم العائلة",
        "Sai chính tả họ tên",
        "Typo in the given name",
    )
]
STATIONS = [
    f"{c}-{city}-{n:02d}"
    for c, city in [("DE", "BER"), ("FR", "PAR"), ("GB", "LON"), ("US", "NYC"), ("AU", "SYD")]
    for n in range(1, 9)
]


def _public(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def _time(micros: int) -> str:
    seconds, fraction = divmod(micros, 1_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{fraction:06d}Z"


class Writer:
    """Appends entries and signs checkpoints the way the server does."""

    def __init__(self, directory: Path, log_key: Ed25519PrivateKey) -> None:
        self.directory, self.log_key = directory, log_key
        self.vkey = note.format_vkey(ORIGIN, _public(log_key))
        self.lines: list[bytes] = []
        self.stack: list[tuple[int, bytes]] = []  # (size, hash) of complete subtrees
        self.counts: dict[str, int] = {}
        self.clock = 1_795_000_000_000_000
        self.keys: list[dict[str, Any]] = []
        (directory / "checkpoints").mkdir(parents=True)

    def append(
        self,
        kind: str,
        payload: dict[str, Any],
        actor: dict[str, str] | None,
        scope: dict[str, str],
        rng: random.Random,
    ) -> int:
        self.clock += rng.randint(0, 40_000)
        seq = len(self.lines)
        entry = {
            "v": 1,
            "seq": seq,
            "time": _time(self.clock),
            "type": kind,
            "actor": actor,
            "scope": scope,
            "payload": payload,
        }
        # orjson's sorted output is JCS for this data (no floats; no keys above U+FFFF).
        line = orjson.dumps(entry, option=orjson.OPT_SORT_KEYS)
        if seq % 5000 == 0:
            assert line == jcs.canonical_bytes(entry)
        self.lines.append(line)
        self.counts[kind] = self.counts.get(kind, 0) + 1
        h = hashlib.sha256(b"\x00" + line).digest()
        size = 1
        while self.stack and self.stack[-1][0] == size:
            h = hashlib.sha256(b"\x01" + self.stack.pop()[1] + h).digest()
            size *= 2
        self.stack.append((size, h))
        return seq

    def root(self) -> bytes:
        hashes = [h for _, h in self.stack]
        h = hashes.pop()
        while hashes:
            h = hashlib.sha256(b"\x01" + hashes.pop() + h).digest()
        return h

    def checkpoint(self) -> None:
        body = note.Checkpoint(ORIGIN, len(self.lines), self.root()).format()
        text = body + "\n" + note.sign_note(body, ORIGIN, self.log_key)
        (self.directory / "checkpoints" / f"{len(self.lines)}.txt").write_text(text)

    def finish(self, state: dict[str, Any]) -> None:
        with (self.directory / "log.jsonl").open("wb") as out:
            out.write(b"\n".join(self.lines) + b"\n")
        keys = {"log": self.vkey, "keys": self.keys}
        (self.directory / "keys.json").write_text(json.dumps(keys, indent=1) + "\n")
        (self.directory / "state").mkdir()
        for name, value in state.items():
            (self.directory / "state" / f"{name}.json").write_text(json.dumps(value, indent=1))


def generate(directory: Path, entries: int, every: int = 10_000, seed: int = 7) -> str:
    """Write a bundle of `entries` entries into `directory`; return the log's vkey."""
    rng = random.Random(seed)
    writer = Writer(directory, Ed25519PrivateKey.generate())
    admin = {"user": "admin", "role": "admin"}
    writer.append("audit.log_created", {"origin": ORIGIN, "vkey": writer.vkey}, None, {}, rng)
    officers: dict[str, Ed25519PrivateKey] = {}
    for station in STATIONS[:8]:
        name = f"po-{station.lower()}"
        officers[name] = Ed25519PrivateKey.generate()
        vkey = note.format_vkey(name, _public(officers[name]))
        seq = writer.append(
            "audit.key_registered",
            {"name": name, "vkey": vkey, "role": "presiding_officer", "owner": name},
            admin,
            {},
            rng,
        )
        writer.keys.append(
            {
                "name": name,
                "vkey": vkey,
                "role": "presiding_officer",
                "registered_seq": seq,
                "revoked_seq": None,
            }
        )
    enrolled = 0
    while len(writer.lines) < entries - 1:
        station = rng.choice(STATIONS)
        clerk = {"user": f"clerk{rng.randint(1, 300)}", "role": "clerk"}
        if len(writer.lines) % 25_000 == 0:
            name = rng.choice(sorted(officers))
            station = name[3:].upper()
        scope = {"election": "GE2026", "station": station, "country": station[:2]}
        if len(writer.lines) % 25_000 == 0:
            document = {
                "station": station,
                "ballots_issued": rng.randint(100, 900),
                "ballots_counted": rng.randint(100, 900),
                "election": "GE2026",
            }
            sig = officers[name].sign(jcs.canonical_bytes(document))
            writer.append(
                "polling.results_recorded",
                {"document": document, "signatures": [{"key": name, "sig": base64.b64encode(sig).decode()}]},
                {"user": name, "role": "presiding_officer"},
                scope,
                rng,
            )
        elif (draw := rng.random()) < 0.85:
            enrolled += 1
            # As the registry writes it: the documents as keyed hashes, no personal data.
            documents = sorted(rng.randbytes(32).hex() for _ in range(rng.choice((1, 1, 2))))
            writer.append(
                "registration.voter_enrolled",
                {
                    "reg_no": _reg_no(rng),
                    "station": station,
                    "constituency": f"ABROAD-{rng.randint(1, 12)}",
                    "country": station[:2],
                    "documents": documents,
                },
                clerk,
                scope,
                rng,
            )
        elif draw < 0.95:
            writer.append(
                "polling.voter_checked_in",
                {"reg_no": _reg_no(rng), "station": station, "ballot_serial": rng.randint(1, 10**9)},
                clerk,
                scope,
                rng,
            )
        else:
            writer.append(
                "registration.voter_corrected",
                {"reg_no": _reg_no(rng), "fields": ["family_name"], "reason": rng.choice(REASONS)},
                clerk,
                scope,
                rng,
            )
        if len(writer.lines) % every == 0:
            writer.checkpoint()
    state = {"registry_totals": {"enrolled": enrolled}}
    digest = hashlib.sha256(jcs.canonical_bytes(state["registry_totals"])).hexdigest()
    writer.append(
        "audit.state_digest",
        {"entries_by_type": dict(sorted(writer.counts.items())), "state": {"registry_totals": digest}},
        None,
        {},
        rng,
    )
    writer.checkpoint()
    writer.finish(state)
    return writer.vkey


def _reg_no(rng: random.Random) -> str:
    letters = "ABCDEFGHJKMNPQRSTVWXYZ23456789"
    return "-".join("".join(rng.choice(letters) for _ in range(3)) for _ in range(3))


def baseline(directory: Path) -> bytes:
    """The floor: hash every line and fold the RFC 9162 root, nothing checked."""
    lines = (directory / "log.jsonl").read_bytes().split(b"\n")
    lines.pop()
    sha256 = hashlib.sha256
    stack: list[bytes] = []
    for count, line in enumerate(lines, 1):
        h = sha256(b"\x00" + line).digest()
        while count & 1 == 0:
            h = sha256(b"\x01" + stack.pop() + h).digest()
            count >>= 1
        stack.append(h)
    h = stack.pop()
    while stack:
        h = sha256(b"\x01" + stack.pop() + h).digest()
    return h


def _medians(runs: dict[str, Callable[[], object]], repeat: int) -> dict[str, float]:
    """Median seconds of each run; rounds interleave them, so a busy spell on the machine
    slows every contender rather than one."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, run in runs.items():
            start = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(seconds) for name, seconds in times.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--bundle", type=Path, help="keep the generated bundle here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        directory = args.bundle or Path(tmp) / "bundle"
        start = time.perf_counter()
        vkey = generate(directory, args.entries)
        size = (directory / "log.jsonl").stat().st_size
        print(
            f"bundle: {args.entries:,} entries, {size / 1e6:.0f} MB, "
            f"{size / args.entries:.0f} bytes per entry, generated in "
            f"{time.perf_counter() - start:.0f} s"
        )
        cores = os.cpu_count() or 1
        runs: dict[str, Callable[[], object]] = {
            "baseline (hashlib loop)": lambda: baseline(directory),
            "verifier, 1 process": lambda: _checked(directory, vkey, 1),
            f"verifier, {cores} processes": lambda: _checked(directory, vkey, cores),
        }
        medians = _medians(runs, args.repeat)
    floor = medians["baseline (hashlib loop)"]
    for name, seconds in medians.items():
        print(
            f"{name:28s} {seconds:7.2f} s  {args.entries / seconds / 1e3:8.0f} k entries/s"
            f"  ratio {floor / seconds:.2f}"
        )
    return 0


def _checked(directory: Path, vkey: str, jobs: int) -> None:
    report = verify.verify_bundle(directory, vkey, jobs=jobs)
    if not report.ok:
        raise SystemExit(f"the generated bundle does not verify: {report.failure}")


if __name__ == "__main__":
    sys.exit(main())
