"""Bulk import of voters from a CSV or XLSX file (docs/voter-import.md).

One call, `import_voters`, streams the file: rows are checked in chunks (in worker
processes for large files) by the enrolment rules, then each chunk is settled in order
against the registry and the chunks before it — documents already registered, the
same document twice in the file, station capacity, unique registration numbers — and
written in bulk. Memory stays flat: a chunk at a time, plus per-station counters.

All of it runs inside a savepoint. A dry run, or a file with rejected rows (unless
`skip_invalid`), rolls the savepoint back: nothing changes and nothing is recorded.
Otherwise the seats placed (`registration.seats.Placement`: enrolment's rule, row by row in
file order) are taken with one conditional UPDATE per station, likely
duplicates are queued for review, and exactly one audit event records the import:
file digest, counts per station and constituency, and the Merkle root of the imported
records' commitments.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
import tempfile
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import PurePath
from typing import Any, BinaryIO

import rfc8785
from sqlalchemy.orm import Session

from audit import service as audit_service
from ocv.acting import Actor, authorize, record
from ocv.auth.permissions import Permission
from ocv.db import utcnow
from ocv.errors import ValidationError
from ocv.settings import Settings
from ocv.text import TextError, clean
from registration import events as E
from registration import matching, names, regno
from registration.enrolment import ElectionIndex
from registration.errors import StationFull
from registration.imports import rows as import_rows
from registration.imports import xlsx as import_xlsx
from registration.imports.rows import Problem, Row, Rules
from registration.imports.store import Candidate, Holder, Store, Taken, history_changes
from registration.models import Election, ElectionStatus, ReviewStatus, Station
from registration.seats import Placement, take_seat
from registration.setup import require_status

CHUNK_ROWS = 4000
# Below this many rows, starting worker processes costs more than it saves.
POOL_MIN_ROWS = 20_000
MAX_WORKERS = 8

Progress = Callable[[int, int], None]  # (rows done, rows expected)


@dataclass
class ImportReport:
    filename: str
    file_sha256: str
    dry_run: bool = False
    rows: int = 0
    imported: int = 0  # rows accepted; written only if `committed`
    rejected: list[Problem] = field(default_factory=list)  # (line, field, message), by line
    by_station: Counter[str] = field(default_factory=Counter)
    by_constituency: Counter[str] = field(default_factory=Counter)
    records_root: str | None = None  # hex; None for a dry run (numbers are drawn anew each time)
    flagged: int = 0  # likely duplicates queued for review
    committed: bool = False

    @property
    def rejected_rows(self) -> int:
        return len({line for line, _, _ in self.rejected})

    def rejected_csv(self) -> str:
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(("line", "field", "message"))
        writer.writerows(self.rejected)
        return out.getvalue()


class ImportRejected(ValidationError):
    """The file has rejected rows and nothing was imported; `report` names every one."""

    def __init__(self, report: ImportReport) -> None:
        first = report.rejected[:10]
        super().__init__(
            f"{report.rejected_rows} of {report.rows} {'row was' if report.rows == 1 else 'rows were'}"
            " rejected; nothing was imported.",
            {f"line {line}": [f"{name}: {message}"] for line, name, message in first},
        )
        self.report = report


def import_voters(
    session: Session,
    settings: Settings,
    officer: Actor,
    election: Election,
    stream: BinaryIO,
    *,
    filename: str,
    dry_run: bool = False,
    skip_invalid: bool = False,
    progress: Progress | None = None,
    workers: int | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> ImportReport:
    """Import the voters of a CSV or XLSX file into `election` (see the module's docstring).

    Raises ImportRejected if rows were rejected and `skip_invalid` is not set, ValidationError
    for a file that cannot be read as the format, WrongPhase, StationFull (a concurrent
    enrolment took the last seats), PermissionDenied.
    """
    authorize(officer, Permission.REGISTER_VOTERS)
    require_status(election, ElectionStatus.REGISTRATION_OPEN)
    source, digest, expected, spreadsheet = _spool(stream)
    name = _file_name(filename)
    report = ImportReport(filename=name, file_sha256=digest, dry_run=dry_run)
    index = ElectionIndex.load(session, election)
    text = None if spreadsheet else io.TextIOWrapper(source, encoding="utf-8-sig", newline="")
    savepoint = session.begin_nested()
    try:
        if text is None:
            columns, records, expected = import_xlsx.read_rows(source)
        else:
            columns, records = import_rows.read_rows(text)
        settle = _Settler(
            session,
            election,
            index,
            report,
            officer.name,
            f"import {name} {digest[:12]}",
        )
        rules = Rules.of(index, settings.key_secret, settle.now)
        if workers is None:
            workers = min(os.cpu_count() or 1, MAX_WORKERS) if expected >= POOL_MIN_ROWS else 1
        with settle.store, settle.placement:
            for chunk in _checked(records, rules, columns, workers, chunk_rows):
                settle.chunk(chunk)
                if progress is not None:
                    progress(report.rows, max(expected, report.rows))
            refuse = bool(report.rejected) and not skip_invalid
            if dry_run or refuse:
                savepoint.rollback()
                if refuse:
                    raise ImportRejected(report)
                return report
            settle.take_seats()
            savepoint.commit()
    except UnicodeDecodeError as error:
        raise ValidationError(f"The file is not UTF-8 text ({error.reason}): save it as CSV UTF-8.") from None
    finally:
        if savepoint.is_active:
            savepoint.rollback()
        if text is not None:
            text.detach()
        if source is not stream:
            source.close()
    report.records_root = settle.root.root().hex()
    report.committed = True
    record(
        session,
        E.IMPORT_COMPLETED,
        officer,
        {"election": election.code},
        {
            "file_sha256": report.file_sha256,
            "rows": report.rows,
            "imported": report.imported,
            "rejected": report.rejected_rows,
            "by_station": dict(sorted(report.by_station.items())),
            "by_constituency": dict(sorted(report.by_constituency.items())),
            "records_root": report.records_root,
            "flagged": report.flagged,
        },
    )
    settle.announce(officer)
    return report


# --- reading and checking ----------------------------------------------------------------


def _file_name(filename: str) -> str:
    """The file's own name, as the report and the voters' history name it."""
    try:
        return clean(PurePath(filename).name, 200) or "upload"
    except TextError as error:
        raise ValidationError(f"The file name is refused: {error}", {"file": [str(error)]}) from None


def _spool(stream: BinaryIO) -> tuple[BinaryIO, str, int, bool]:
    """A seekable copy of the stream (the stream itself when it can seek), its SHA-256, the
    number of lines (for a CSV file's progress bar), and whether it is a spreadsheet (XLSX),
    in one read."""
    sha256, lines = hashlib.sha256(), 0
    seekable = stream.seekable()
    copy: BinaryIO = stream if seekable else tempfile.TemporaryFile()  # noqa: SIM115 (returned)
    start = stream.tell() if seekable else 0
    first = b""
    while block := stream.read(1 << 20):
        if not first:
            first = block[:4]
        sha256.update(block)
        lines += block.count(b"\n")
        if not seekable:
            copy.write(block)
    copy.seek(start)
    return copy, sha256.hexdigest(), max(lines - 1, 0), first.startswith(import_xlsx.MAGIC)


def _checked(
    records: Iterator[tuple[int, list[str]]],
    rules: Rules,
    columns: dict[str, int],
    workers: int,
    chunk_rows: int,
) -> Iterator[list[Row | list[Problem]]]:
    """Checked chunks, in file order; with workers, a bounded number in flight (flat memory)."""
    chunks = _chunks(records, chunk_rows)
    if workers <= 1:
        checker = import_rows.Checker(rules, columns)
        for chunk in chunks:
            yield checker.check_all(chunk)
        return
    context = get_context("forkserver")  # no fork of a process holding database connections
    context.set_forkserver_preload(["registration.imports.rows"])
    with ProcessPoolExecutor(
        workers,
        mp_context=context,
        initializer=import_rows.start_worker,
        initargs=(rules, columns, os.getpid()),
    ) as pool:
        pending: deque[Future[list[Row | list[Problem]]]] = deque()
        for chunk in chunks:
            pending.append(pool.submit(import_rows.check_in_worker, chunk))
            if len(pending) > 2 * workers:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _chunks(records: Iterator[tuple[int, list[str]]], size: int) -> Iterator[list[tuple[int, list[str]]]]:
    chunk: list[tuple[int, list[str]]] = []
    for line in records:
        chunk.append(line)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# --- settling chunks against the registry ------------------------------------------------


@dataclass(frozen=True)
class _Seat:
    """A station as the rows placed there are written."""

    station: Station
    code: str
    station_id: int
    jcs: bytes  # the code as JCS, for the records' commitments
    changes: Callable[[int], str]  # the history row's `changes`, by line

    @classmethod
    def of(cls, station: Station) -> _Seat:
        code = station.code
        return cls(station, code, station.id, rfc8785.dumps(code), history_changes(code))


def _name_fields(parts: names.NameParts) -> tuple[str, str, str | None, str | None, str | None]:
    return parts.given, parts.family, parts.father, parts.grandfather, parts.original_script


class _Settler:
    """Settles checked chunks in file order and writes the accepted rows."""

    def __init__(
        self,
        session: Session,
        election: Election,
        index: ElectionIndex,
        report: ImportReport,
        officer: str,
        reason: str,
    ) -> None:
        self.session, self.election, self.report = session, election, report
        self.officer, self.reason = officer, reason
        self.store = Store(session, election.id)
        self.seats = {s.id: _Seat.of(s) for s in index.stations.values()}
        self.station_ids = {code: s.id for code, s in index.stations.items()}
        self.country_ids = {code: c.id for code, c in index.countries.items()}
        self.city_station_ids: dict[tuple[str, str], tuple[int, ...]] = {}
        for s in sorted(index.stations.values(), key=lambda s: s.id):
            key = (s.country.code, s.city.casefold())
            self.city_station_ids[key] = (*self.city_station_ids.get(key, ()), s.id)
        self.placement = Placement(index.stations.values())
        self.now = self.store.timestamp(utcnow())
        self.flagged: list[tuple[str, str, str, int]] = []  # voter id, reg no, candidate's, score
        self.root = audit_service.MerkleRootBuilder()

    def chunk(self, results: list[Row | list[Problem]]) -> None:
        rows: list[Row] = []
        rejected: list[Problem] = []
        for result in results:
            self.report.rows += 1
            if isinstance(result, Row):
                rows.append(result)
            else:
                rejected.extend(result)
        placed = self.placement.saved()
        try:
            # Most chunks meet no document registered before and no number taken: then the
            # unique constraints do the look-ups' work, as in enrolment, and a savepoint undoes
            # a chunk that meets one; it is settled again, with look-ups that name the holder.
            with self.store.connection.begin_nested():
                accepted, refused, registered = self._settle(rows, look_up=False)
        except Taken:
            self.placement.restore(placed)
            accepted, refused, registered = self._settle(rows, look_up=True)
        rejected.extend(refused)
        rejected.sort(key=lambda p: p[0])  # stable: a row's problems stay in their order
        self.report.rejected.extend(rejected)  # chunks come in file order: the report stays sorted
        self._account(accepted)
        self._flag_likely_duplicates([row for row, _ in accepted], registered)

    def _settle(
        self, rows: list[Row], look_up: bool
    ) -> tuple[list[tuple[Row, _Seat]], list[Problem], dict[str, list[Candidate]]]:
        """Decide each row (refused, or accepted at a station), and write the accepted ones.
        Without `look_up`, documents and numbers are checked within the chunk only, and the
        registry's unique constraints raise Taken for the rest."""
        known: dict[tuple[str, str], Holder] = {}
        lines: dict[str, int] = {}
        if look_up:
            known = self.store.known_documents([(d[2], d[3]) for row in rows for d in row.documents])
            lines = self.store.import_lines({voter_id for voter_id, _ in known.values()}, self.reason)
        accepted: list[tuple[Row, _Seat]] = []
        refused: list[Problem] = []
        seen: dict[tuple[str, str], int] = {}
        for row in rows:
            problem = self._document_problem(row, known, lines, seen) or self._seat(row)
            if isinstance(problem, _Seat):
                accepted.append((row, problem))
                seen.update(((d[2], d[3]), row.line) for d in row.documents)
            else:
                refused.append(problem)
        accepted = self._unique_numbers(accepted, look_up)
        registered = self._registered_candidates([row for row, _ in accepted])  # before the chunk joins them
        self._write(accepted)
        return accepted, refused, registered

    def _document_problem(
        self,
        row: Row,
        known: dict[tuple[str, str], Holder],
        lines: dict[str, int],
        seen: dict[tuple[str, str], int],
    ) -> Problem | None:
        for slot, (_, _, doc_type, number_hash, _) in enumerate(row.documents, 1):
            holder = known.get((doc_type, number_hash))
            if holder is not None:
                voter_id, reg_no = holder
                if voter_id in lines:
                    return (row.line, f"doc{slot}_number", f"same document as line {lines[voter_id]}")
                return (
                    row.line,
                    f"doc{slot}_number",
                    f"document already registered to {regno.format(reg_no)}",
                )
            if (doc_type, number_hash) in seen:
                return (row.line, f"doc{slot}_number", f"same document as line {seen[doc_type, number_hash]}")
        return None

    def _seat(self, row: Row) -> _Seat | Problem:
        """The row's place, as enrolling it would give (`registration.seats`); the seats are taken
        on the registry at the end, in one go."""
        placed = self.placement.place(
            self.station_ids[row.station] if row.station else None,
            self.country_ids[row.host_country],
            self.city_station_ids.get((row.host_country, row.city), ()),
        )
        if placed is not None:
            return self.seats[placed]
        if row.station:
            return (row.line, "station", f"No place left at {row.station}: the station is at capacity.")
        return (row.line, "station", f"No place left in {row.host_country}: every station is at capacity.")

    def _unique_numbers(self, accepted: list[tuple[Row, _Seat]], look_up: bool) -> list[tuple[Row, _Seat]]:
        """Registration numbers are drawn at random: draw again the rare one taken twice in the
        chunk, or (with `look_up`) taken in the registry."""
        while True:
            numbers = [row.reg_no for row, _ in accepted]
            clash = {n for n, c in Counter(numbers).items() if c > 1}
            if look_up:
                clash |= self.store.taken_reg_nos(numbers)
            if not clash:
                return accepted
            fixed: list[tuple[Row, _Seat]] = []
            for row, seat in accepted:
                if row.reg_no in clash:
                    clash.discard(row.reg_no)  # the first keeps its number, unless the registry has it
                    row = row.renumbered(regno.generate())
                fixed.append((row, seat))
            accepted = fixed

    def _write(self, accepted: list[tuple[Row, _Seat]]) -> None:
        officer, reason, now = self.officer, self.reason, self.now
        voters: list[tuple[Any, ...]] = []
        documents: list[tuple[Any, ...]] = []
        history: list[tuple[Any, ...]] = []
        for row, seat in accepted:
            voters.append((*row.voter, seat.station_id))
            documents.extend(row.documents)
            history.append((row.voter_id, "imported", officer, reason, seat.changes(row.line), now))
        self.store.write(voters, documents, history)

    def _account(self, accepted: list[tuple[Row, _Seat]]) -> None:
        """Count the written rows into the report and their commitments into the root."""
        report = self.report
        for row, seat in accepted:
            self.root.add(import_rows.commitment(row.commitment_head, seat.jcs))
            report.by_station[seat.code] += 1
            report.by_constituency[row.constituency] += 1
        report.imported += len(accepted)

    def _registered_candidates(self, rows: list[Row]) -> dict[str, list[Candidate]]:
        """Registered voters (earlier chunks included) of each row's date of birth: those the
        matcher compares, as for an enrolment (registration.matching), by date of birth."""
        found: dict[str, list[Candidate]] = {}
        for candidate in self.store.candidates(sorted({row.date_of_birth for row in rows})):
            found.setdefault(candidate.date_of_birth, []).append(candidate)
        return found

    def _flag_likely_duplicates(self, rows: list[Row], found: dict[str, list[Candidate]]) -> None:
        """Queue each row's likely duplicates among the `found` candidates and the earlier rows
        of its chunk; their log entries are written once the import commits (`announce`)."""
        reviews = []
        for row in rows:
            others = found.setdefault(row.date_of_birth, [])
            for (other_id, candidate), score in matching.similar(
                row.names, (((c.voter_id, c.reg_no), names.NameParts(*c.names)) for c in others)
            ):
                reviews.append(
                    (self.election.id, row.voter_id, other_id, score, ReviewStatus.OPEN.value, self.now)
                )
                self.flagged.append((row.voter_id, row.reg_no, candidate, score))
            # Later rows of the file are compared with this one, as enrolled before them.
            others.append(Candidate(row.voter_id, row.date_of_birth, row.reg_no, _name_fields(row.names)))
        self.store.add_reviews(reviews)
        self.report.flagged += len(reviews)

    def announce(self, officer: Actor) -> None:
        """One `duplicate_flagged` entry per review the import queued, as enrolment writes."""
        ids = self.store.review_ids([voter_id for voter_id, _, _, _ in self.flagged])
        code = self.election.code
        for voter_id, reg_no, candidate, score in self.flagged:
            matching.announce(self.session, officer, code, ids[voter_id, candidate], reg_no, candidate, score)

    def take_seats(self) -> None:
        """One conditional UPDATE per station: the CHECK on `assigned` settles any race."""
        taken = self.placement.taken()
        for seat in sorted((self.seats[id_] for id_ in taken), key=lambda seat: seat.code):
            if not take_seat(self.session, seat.station, taken[seat.station_id]):
                raise StationFull(f"Station {seat.code} filled up during the import: import the file again.")
