"""Bulk import, the database side: batched look-ups and bulk writes of checked rows.

Writes bypass the ORM: PostgreSQL gets `COPY ... FROM STDIN` on the session's own
connection (psycopg's `cursor.copy()`), SQLite one `executemany` per table with values
converted by the columns' own SQLAlchemy types. Either way they run in the session's
transaction, so the caller's rollback undoes them.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

import psycopg
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from ocv.errors import Conflict
from registration.models import PERSONAL_FIELDS, DuplicateReview, Voter, VoterHistory, VoterStatus

VOTER_COLUMNS = (
    "id",
    "election_id",
    "reg_no",
    *PERSONAL_FIELDS,
    "constituency_id",
    "country_id",
    "status",
    "name_key",
    "created_at",
    "updated_at",
    "station_id",  # last: the import settles it after the rest of the row is built
)
DOCUMENT_COLUMNS = ("election_id", "voter_id", "doc_type", "number_hash", "number_sealed")
HISTORY_COLUMNS = ("voter_id", "kind", "officer", "reason", "changes", "at")
REVIEW_COLUMNS = ("election_id", "voter_id", "candidate_id", "score", "status", "created_at")
# Look-ups go in slices, under every backend's limit on bound parameters (SQLite: 32766).
LOOKUP_SLICE = 5000
CACHE_KIB = 64 * 1024
_SQLITE_UNIQUE = ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY")

Holder = tuple[str, str]  # voter id (hex), reg_no


# id (hex), date of birth (ISO), blocking key, given, family, father, grandfather, original script
class Candidate(NamedTuple):
    """A registered voter the matcher compares an imported row with."""

    voter_id: str  # 32 hex digits
    date_of_birth: str  # ISO
    reg_no: str
    names: tuple[str, str, str | None, str | None, str | None]  # in NameParts order


class Taken(Conflict):
    """A write met a unique constraint: a document or a registration number was taken, by an
    enrolment that committed during the import."""

    def __init__(self) -> None:
        super().__init__(
            "A document or number of this file was registered while it was imported: import it again."
        )


class Store:
    """The import's reads and writes, all in the session's current transaction."""

    def __init__(self, session: Session, election_id: int) -> None:
        self.session = session
        self.election_id = election_id
        self.connection = session.connection()
        self.postgresql = self.connection.dialect.name == "postgresql"
        self.written = self.analyzed = 0
        self.cache_size: int | None = None

    def __enter__(self) -> Store:
        if not self.postgresql:
            # Ids, hashes and numbers are random keys: their index pages are touched all over,
            # so SQLite's default 2 MB page cache thrashes. A bounded 64 MB one, for the import.
            self.cache_size = self.connection.exec_driver_sql("PRAGMA cache_size").scalar()
            self.connection.exec_driver_sql(f"PRAGMA cache_size = {-CACHE_KIB}")
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.cache_size is not None:
            self.connection.exec_driver_sql(f"PRAGMA cache_size = {int(self.cache_size)}")

    # --- look-ups: one statement per slice, one indexed probe per key ---------------------------
    # The keys travel as one JSON parameter: compiling thousands of bound parameters, or
    # dumping them as arrays, would cost more than the probes.

    def known_documents(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Holder]:
        """(type, hash) → (voter id, reg_no) for the documents registered already."""
        sql = (
            f"SELECT d.doc_type, d.number_hash, {self._id('d.voter_id')}, v.reg_no"  # noqa: S608 (no data)
            f" FROM {self._keys('text', 'text')} CROSS JOIN voter_documents d"
            " JOIN voters v ON v.id = d.voter_id"
            f" WHERE d.election_id = {self.mark} AND d.doc_type = k.a AND d.number_hash = k.b"
        )
        return {(t, h): (voter_id, reg_no) for t, h, voter_id, reg_no in self._query(sql, keys)}

    def import_lines(self, voter_ids: Iterable[str], reason: str) -> dict[str, int]:
        """Voter id → line of the file, for the voters this import (`reason`) wrote."""
        lines: dict[str, int] = {}
        for part in _slices(list(voter_ids)):
            query = select(VoterHistory.voter_id, VoterHistory.changes).where(
                VoterHistory.voter_id.in_([uuid.UUID(hex=v) for v in part]),
                VoterHistory.kind == "imported",
                VoterHistory.reason == reason,
            )
            for voter_id, changes in self.session.execute(query):
                line = changes.get("line")
                lines[voter_id.hex] = line if isinstance(line, int) else 0
        return lines

    def taken_reg_nos(self, reg_nos: Sequence[str]) -> set[str]:
        sql = (
            f"SELECT v.reg_no FROM {self._keys('text')} CROSS JOIN voters v"  # noqa: S608 (no data)
            f" WHERE v.election_id = {self.mark} AND v.reg_no = k.a"
        )
        return {reg_no for (reg_no,) in self._query(sql, [(n,) for n in reg_nos])}

    def candidates(self, born: Sequence[str]) -> list[Candidate]:
        """Registered voters born on one of these dates (ISO)."""
        dob = "v.date_of_birth::text" if self.postgresql else "v.date_of_birth"
        sql = (
            f"SELECT {self._id('v.id')}, {dob}, v.reg_no, v.given_name, v.family_name,"  # noqa: S608
            " v.father_name, v.grandfather_name, v.names_original_script"
            f" FROM {self._keys('date')} CROSS JOIN voters v"
            f" WHERE v.election_id = {self.mark} AND v.date_of_birth = k.a"
            f" AND v.status = '{VoterStatus.REGISTERED}'"
        )
        return [
            Candidate(row[0], row[1], row[2], tuple(row[3:]))
            for row in self._query(sql, [(d,) for d in born])
        ]

    def review_ids(self, voter_ids: Sequence[str]) -> dict[tuple[str, str], int]:
        """(voter id, candidate's registration number) → id, of the reviews of these voters."""
        candidate = aliased(Voter)
        found: dict[tuple[str, str], int] = {}
        for part in _slices(list(dict.fromkeys(voter_ids))):
            query = (
                select(DuplicateReview.id, DuplicateReview.voter_id, candidate.reg_no)
                .join(candidate, candidate.id == DuplicateReview.candidate_id)
                .where(DuplicateReview.voter_id.in_([uuid.UUID(hex=v) for v in part]))
            )
            for review, voter_id, reg_no in self.session.execute(query):
                found[voter_id.hex, reg_no] = review
        return found

    @property
    def mark(self) -> str:
        return "%s" if self.postgresql else "?"

    def _id(self, column: str) -> str:
        """A voter id as 32 hex digits, as SQLite stores it."""
        return f"replace({column}::text, '-', '')" if self.postgresql else column

    def _keys(self, *types: str) -> str:
        """The keys as a table k(a[, b]), from one JSON array of arrays (one parameter)."""
        if self.postgresql:
            columns = ", ".join(f"(value ->> {i})::{t} AS {'ab'[i]}" for i, t in enumerate(types))
            return f"(SELECT {columns} FROM json_array_elements(%s::json)) AS k"  # noqa: S608 (no data)
        columns = ", ".join(f"value ->> {i} AS {'ab'[i]}" for i in range(len(types)))
        return f"(SELECT {columns} FROM json_each(?)) AS k"  # noqa: S608 (no data)

    def _query(self, sql: str, keys: Sequence[tuple[str, ...]]) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = []
        for part in _slices(keys):
            rows.extend(self.connection.exec_driver_sql(sql, (json.dumps(part), self.election_id)).all())
        return rows

    # --- writes ----------------------------------------------------------------------------------
    # Rows arrive ready for the database: ids as 32 hex digits, dates as ISO text, JSON
    # serialized, and times from `timestamp`, so no value is converted row by row.

    def timestamp(self, moment: dt.datetime) -> Any:
        """`moment` as the driver takes it for a UTCDateTime column."""
        if self.postgresql:
            return moment
        column_type = VoterHistory.__table__.c.at.type
        convert = column_type.dialect_impl(self.connection.dialect).bind_processor(self.connection.dialect)
        return convert(moment) if convert else moment

    def write(
        self, voters: list[tuple[Any, ...]], documents: list[tuple[Any, ...]], history: list[tuple[Any, ...]]
    ) -> None:
        """Rows in the order of VOTER_COLUMNS, DOCUMENT_COLUMNS and HISTORY_COLUMNS."""
        self._write("voters", VOTER_COLUMNS, voters)
        self._write("voter_documents", DOCUMENT_COLUMNS, documents)
        self._write("voter_history", HISTORY_COLUMNS, history)
        self.written += len(voters)
        if self.postgresql and self.written >= 2 * self.analyzed + 1000:
            # PostgreSQL plans the look-ups from statistics that know nothing of the rows this
            # transaction wrote: with none, a join of thousands of keys scans the table per key.
            # ANALYZE in the transaction counts them; refreshed as the import doubles in size.
            self.connection.exec_driver_sql("ANALYZE voters, voter_documents")
            self.analyzed = self.written

    def add_reviews(self, reviews: list[tuple[Any, ...]]) -> None:
        self._write("duplicate_reviews", REVIEW_COLUMNS, reviews)

    def _write(self, table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        if self.postgresql:
            driver = self.connection.connection.driver_connection
            assert driver is not None
            statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
            try:
                with driver.cursor() as cursor, cursor.copy(statement) as copy:
                    for row in rows:
                        copy.write_row(row)
            except psycopg.errors.UniqueViolation as error:
                raise Taken from error
            return
        statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"  # noqa: S608
        try:
            self.connection.exec_driver_sql(statement, rows)
        except IntegrityError as error:
            if getattr(error.orig, "sqlite_errorname", "") in _SQLITE_UNIQUE:
                raise Taken from error
            raise


def history_changes(station: str) -> Callable[[int], str]:
    """The `changes` of a history row of a voter imported to `station`, as JSON text, by line."""
    tail = f',"station":{json.dumps(station)}}}'
    return lambda line: f'{{"line":{line:d}{tail}'


def _slices(keys: Sequence[Any]) -> Iterable[Sequence[Any]]:
    for start in range(0, len(keys), LOOKUP_SLICE):
        yield keys[start : start + LOOKUP_SLICE]
