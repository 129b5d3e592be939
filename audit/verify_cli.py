"""ocv-verify: check an audit bundle offline and say, in words or JSON, whether it holds.

    ocv-verify BUNDLE --log-key VKEY [--json] [--jobs N]

Exit 0 only if everything holds, 1 if something does not (the first failure is
named), 2 for a usage error (no bundle there, a malformed verifier key).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

from audit import note
from audit.verify import BundleNotFound, Report, verify_bundle

PROGRESS_ABOVE = 100_000  # entries; smaller logs verify before a bar is worth drawing
KEYS_LISTED = 20


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="ocv-verify", description="Verify an OCV audit bundle (a directory or .tar.gz)."
    )
    parser.add_argument("bundle", type=Path, help="the bundle: a directory or a .tar.gz of one")
    parser.add_argument(
        "--log-key",
        required=True,
        metavar="VKEY",
        help="the log's verifier key, obtained independently of the bundle",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON report")
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        metavar="N",
        help="worker processes for large logs (default: every core)",
    )
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # argparse exits 2 on usage errors, 0 for --help
        return stop.code if isinstance(stop.code, int) else 2
    try:
        note.parse_vkey(args.log_key)
    except note.NoteError as error:
        print(f"ocv-verify: --log-key: {error}", file=sys.stderr)
        return 2
    if args.jobs < 1:
        print("ocv-verify: --jobs must be at least 1", file=sys.stderr)
        return 2
    started = time.monotonic()
    bar = _Bar() if sys.stderr.isatty() else None
    try:
        report = verify_bundle(args.bundle, args.log_key, jobs=args.jobs, progress=bar)
    except BundleNotFound as error:
        print(f"ocv-verify: {error}", file=sys.stderr)
        return 2
    finally:
        if bar is not None:
            bar.close()
    seconds = time.monotonic() - started
    print(json.dumps(as_json(report, seconds), indent=1) if args.json else as_text(report, seconds))
    return 0 if report.ok else 1


class _Bar:
    """A tqdm bar on stderr, drawn only once the log turns out to be large."""

    def __init__(self) -> None:
        self.bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            if total <= PROGRESS_ABOVE:
                return
            from tqdm import tqdm  # only here: the bar is a comfort, not a need

            self.bar = tqdm(total=total, unit=" entries", unit_scale=True, file=sys.stderr, leave=False)
        self.bar.update(done)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def as_json(report: Report, seconds: float) -> dict[str, Any]:
    failure = report.failure
    out = asdict(replace(report, failure=None))  # the exception is not a dataclass
    out["failure"] = (
        None
        if failure is None
        else {
            "where": failure.where,
            "seq": failure.at if failure.where == "entry" else None,
            "size": failure.at if failure.where == "checkpoint" else None,
            "file": failure.at if isinstance(failure.at, str) else None,
            "reason": failure.reason,
        }
    )
    out["seconds"] = round(seconds, 3)
    return out


def _period(first: str | None, last: str | None) -> str:
    """The log's time span, as far as it was read (a failure may stop before its end)."""
    if first and last:
        return f", {first} to {last}"
    return f", from {first}" if first else ""


def as_text(report: Report, seconds: float) -> str:
    lines = [
        f"log {report.origin or '(unknown origin)'}: {report.entries:,} entries"
        + _period(report.first_time, report.last_time)
    ]
    for kind, count in sorted(report.types.items(), key=lambda item: (-item[1], item[0])):
        lines.append(f"  {count:>12,}  {kind}")
    if report.checkpoints:
        sizes = [c.size for c in report.checkpoints]
        cosigned = sum(1 for c in report.checkpoints if c.cosigners)
        lines.append(
            f"checkpoints: {len(sizes)} verified, sizes {sizes[0]:,} to {sizes[-1]:,}; "
            f"{cosigned} cosigned by observers"
        )
        unknown = sorted({name for c in report.checkpoints for name in c.unverified})
        if unknown:
            lines.append(f"  cosignatures by unregistered keys, not verified: {', '.join(unknown)}")
    if report.keys:
        revoked = sum(1 for k in report.keys if k.revoked_seq is not None)
        lines.append(f"keys: {len(report.keys)} registered, {revoked} revoked")
        for key in report.keys[:KEYS_LISTED]:
            state = "" if key.revoked_seq is None else f", revoked at {key.revoked_seq}"
            lines.append(f"  {key.name} ({key.role}, {key.owner}), registered at {key.registered_seq}{state}")
        if len(report.keys) > KEYS_LISTED:
            lines.append(f"  ... and {len(report.keys) - KEYS_LISTED} more (--json lists all)")
    lines.append(f"signed documents: {report.documents:,} ({report.signatures:,} signatures)")
    lines.append(f"state digests whose entry counts match the replay: {report.digests}")
    lines.append(
        f"polling: {report.voters_marked:,} voters marked once each; "
        f"{report.protocols} station protocols matching their entries"
    )
    lines.append(f"certified results recomputed from the log: {report.certifications}")
    if report.state_checked or report.state_unchecked:
        lines.append(
            f"state files matching the last digest: {', '.join(report.state_checked)}"
            + (
                f"; not named by any digest: {', '.join(report.state_unchecked)}"
                if report.state_unchecked
                else ""
            )
        )
    if report.failure is None:
        lines.append(f"OK: everything holds ({seconds:.1f} s)")
    else:
        lines.append(f"FAIL: {report.failure}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
