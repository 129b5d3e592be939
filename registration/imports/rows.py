"""Bulk import, row by row: the CSV format, and checking rows by the enrolment rules.

Everything here is a pure function of plain data (`Rules`), so chunks of rows can be
checked in worker processes. A row is checked by `voter_data.validate`, the one function
behind enrolment in the UI and the API, with the election's codes read by
`ElectionIndex.load`; an accepted row leaves as a compact `Row` with its documents
already keyed-hashed and sealed. The format is described in docs/voter-import.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple, TextIO

import orjson
import rfc8785

from ocv import ids
from ocv.errors import ValidationError
from ocv.processes import die_with
from registration import names, regno
from registration.enrolment import ElectionIndex
from registration.matching import name_parts
from registration.models import Election, VoterStatus
from registration.privacy import DocumentKeys
from registration.voter_data import validate

DOCUMENT_SLOTS = 2
TEXT_COLUMNS = (
    "given_name",
    "family_name",
    "date_of_birth",
    "constituency",
    "host_country",
    "city",
    "station",
    "father_name",
    "grandfather_name",
    "names_original_script",
    "sex",
    "phone",
    "email",
)
DOCUMENT_COLUMNS = tuple(
    f"doc{i}_{part}" for i in range(1, DOCUMENT_SLOTS + 1) for part in ("type", "number")
)
COLUMNS = TEXT_COLUMNS + DOCUMENT_COLUMNS
REQUIRED_COLUMNS = (
    "given_name",
    "family_name",
    "date_of_birth",
    "constituency",
    "host_country",
    "doc1_type",
    "doc1_number",
)

Problem = tuple[int, str, str]  # line, field, message
REGISTERED = VoterStatus.REGISTERED.value  # rows are written raw (store.py), so the stored string


class Row(NamedTuple):
    """An accepted row, validated, with a fresh id and registration number, and its database
    rows built already: settling a chunk only adds the station. Plain data only: rows cross
    process boundaries, and pickling is cheap for them."""

    line: int
    voter_id: str  # a new UUIDv7, as 32 hex digits
    reg_no: str
    date_of_birth: str  # ISO
    constituency: str
    host_country: str
    station: str | None  # as asked for
    city: str  # case-folded, "" when not given
    name_key: str  # the blocking key (family name)
    given_key: str  # the same key of the given name, to catch a given/family swap
    names: names.NameParts
    voter: tuple[Any, ...]  # the `voters` row in store.VOTER_COLUMNS order, less station_id
    documents: tuple[tuple[Any, ...], ...]  # `voter_documents` rows: (election, voter, type, hash, sealed)
    commitment_head: bytes  # the record's JCS up to the station's value (see `commitment`)

    def renumbered(self, reg_no: str) -> Row:
        """The same row under another registration number (the one drawn was taken)."""
        voter = (*self.voter[:2], reg_no, *self.voter[3:])
        head = commitment_head(reg_no, self.constituency, self.host_country, (d[3] for d in self.documents))
        return self._replace(reg_no=reg_no, voter=voter, commitment_head=head)


@dataclass(frozen=True)
class Rules:
    """What checking a row and building its database rows need of an election, as plain
    (picklable) data."""

    code: str
    polling_day: dt.date
    minimum_age: int
    accepted_documents: tuple[str, ...]
    documents_required: int
    constituencies: dict[str, int]  # code → row id
    countries: dict[str, int]  # code → row id
    stations: tuple[tuple[str, str], ...]  # (station code, country code)
    cities: tuple[tuple[str, str, str], ...]  # (country code, case-folded city, city)
    key_secret: str
    election_id: int = 0
    now: Any = None  # the rows' timestamp, as the driver takes it

    @classmethod
    def of(cls, index: ElectionIndex, key_secret: str, now: Any = None) -> Rules:
        e = index.election
        return cls(
            code=e.code,
            polling_day=e.polling_day,
            minimum_age=e.minimum_age,
            accepted_documents=tuple(e.accepted_documents),
            documents_required=e.documents_required,
            constituencies={code: c.id for code, c in index.constituencies.items()},
            countries={code: c.id for code, c in index.countries.items()},
            stations=tuple(sorted((code, s.country.code) for code, s in index.stations.items())),
            cities=tuple(
                sorted({(s.country.code, s.city.casefold(), s.city) for s in index.stations.values()})
            ),
            key_secret=key_secret,
            election_id=e.id,
            now=now,
        )


# --- reading -------------------------------------------------------------------------------


def read_header(row: list[str]) -> dict[str, int]:
    """Column name → position. Names are matched without case and surrounding spaces."""
    header = [name.strip().lower() for name in row]
    problems: dict[str, list[str]] = {}
    unknown = [name for name in header if name not in COLUMNS]
    if unknown:
        problems["header"] = [
            f"Unknown column(s) {', '.join(map(repr, unknown))}; the columns are {', '.join(COLUMNS)}."
        ]
    twice = sorted({name for name in header if header.count(name) > 1})
    if twice:
        problems.setdefault("header", []).append(f"Column(s) named twice: {', '.join(twice)}.")
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        problems.setdefault("header", []).append(f"Missing column(s): {', '.join(missing)}.")
    if problems:
        raise ValidationError("The first line of the file must name the columns.", problems)
    return {name: i for i, name in enumerate(header)}


def read_rows(text: TextIO) -> tuple[dict[str, int], Iterator[tuple[int, list[str]]]]:
    """The header, and each non-blank record with the line it starts on (the header is line 1)."""
    first = text.readline()
    delimiter = ";" if first.count(";") > first.count(",") else ","  # spreadsheets in many locales
    header = next(csv.reader([first], delimiter=delimiter), [])
    if not any(cell.strip() for cell in header):
        raise ValidationError("The file is empty.", {"header": ["The first line must name the columns."]})
    columns = read_header(header)
    reader = csv.reader(text, delimiter=delimiter, strict=True)

    def records() -> Iterator[tuple[int, list[str]]]:
        line = 2
        try:
            for record in reader:
                if any(cell.strip() for cell in record):
                    yield line, record
                line = reader.line_num + 2
        except csv.Error as error:
            raise ValidationError(f"Line {reader.line_num + 1} is not valid CSV: {error}.") from None

    return columns, records()


# --- checking ------------------------------------------------------------------------------


class Checker:
    """Checks rows of one election; built once per worker process."""

    def __init__(self, rules: Rules, columns: dict[str, int]) -> None:
        # A transient Election carries the rules into `validate` exactly as a loaded one would.
        self.election = Election(
            code=rules.code,
            polling_day=rules.polling_day,
            minimum_age=rules.minimum_age,
            accepted_documents=list(rules.accepted_documents),
            documents_required=rules.documents_required,
        )
        self.rules = rules
        self.stations = dict(rules.stations)
        self.cities = {(country, folded): city for country, folded, city in rules.cities}
        self.constituencies, self.countries = set(rules.constituencies), set(rules.countries)
        self.keys = DocumentKeys(rules.key_secret)
        self.text_columns = [(name, columns[name]) for name in TEXT_COLUMNS if name in columns]
        self.documents = [
            (columns[f"doc{i}_type"], columns[f"doc{i}_number"])
            for i in range(1, DOCUMENT_SLOTS + 1)
            if f"doc{i}_type" in columns and f"doc{i}_number" in columns
        ]
        self.width = len(columns)

    def raw(self, values: list[str]) -> dict[str, object]:
        """The row in the API's shape (see `registration.forms.EnrolForm.voter_data`)."""
        if len(values) < self.width:
            values = values + [""] * (self.width - len(values))
        raw: dict[str, object] = {name: values[i] for name, i in self.text_columns}
        raw["documents"] = [
            {"type": values[t], "number": values[n]}
            for t, n in self.documents
            if values[t].strip() or values[n].strip()
        ]
        return raw

    def check(self, line: int, values: list[str]) -> Row | list[Problem]:
        if len(values) > self.width:
            return [(line, "row", f"{len(values)} fields, but the header names {self.width} columns.")]
        try:
            data = validate(
                self.election,
                self.raw(values),
                self.constituencies,
                self.countries,
                self.stations,
                self.cities,
            )
        except ValidationError as error:
            return [(line, name, message) for name, messages in error.fields.items() for message in messages]
        parts = name_parts(data)
        rules, voter_id, reg_no = self.rules, ids.uuid7_hex(), regno.generate()
        documents = tuple(
            (
                rules.election_id,
                voter_id,
                d.type,
                self.keys.number_hash(rules.code, d.type, d.number),
                self.keys.seal(d.number),
            )
            for d in data.documents
        )
        name_key = names.blocking_key(parts)
        born = data.date_of_birth.isoformat()
        voter = (
            voter_id,
            rules.election_id,
            reg_no,
            data.given_name,
            data.family_name,
            data.father_name,
            data.grandfather_name,
            data.names_original_script,
            born,
            data.sex,
            data.phone,
            data.email,
            rules.constituencies[data.constituency],
            rules.countries[data.host_country],
            REGISTERED,
            name_key,
            rules.now,
            rules.now,
        )
        return Row(
            line,
            voter_id,
            reg_no,
            born,
            data.constituency,
            data.host_country,
            data.station,
            (data.city or "").casefold(),
            name_key,
            names.latin_key(parts.given)[:3],
            parts,
            voter,
            documents,
            commitment_head(reg_no, data.constituency, data.host_country, (d[3] for d in documents)),
        )

    def check_all(self, chunk: Iterable[tuple[int, list[str]]]) -> list[Row | list[Problem]]:
        return [self.check(line, values) for line, values in chunk]


_worker: Checker | None = None


def start_worker(rules: Rules, columns: dict[str, int], parent_pid: int) -> None:
    """Process-pool initializer: one Checker per worker process, which ends with its parent."""
    global _worker
    die_with(parent_pid)
    _worker = Checker(rules, columns)


def check_in_worker(chunk: list[tuple[int, list[str]]]) -> list[Row | list[Problem]]:
    assert _worker is not None, "start_worker was not run"
    return _worker.check_all(chunk)


# --- commitments ---------------------------------------------------------------------------

# JCS (RFC 8785) writes such strings as they are, exactly as orjson does: the fast path is exact.
_PLAIN = re.compile(r"[ !#-\[\]-~]*\Z")


def commitment_head(reg_no: str, constituency: str, country: str, hashes: Iterable[str]) -> bytes:
    """The JCS (RFC 8785) of an imported record as the audit log would show it (no personal
    data), up to the value of its last key, "station": the station is settled later."""
    documents = sorted(hashes)
    record = {
        "constituency": constituency,
        "country": country,
        "documents": documents,
        "reg_no": reg_no,
        "station": "",
    }
    if _PLAIN.match("".join((reg_no, constituency, country, *documents))):
        canonical = orjson.dumps(record, option=orjson.OPT_SORT_KEYS)
    else:
        canonical = rfc8785.dumps(record)
    return canonical[: -len(b'""}')]


def commitment(head: bytes, station_jcs: bytes) -> bytes:
    """SHA-256 of the record's JCS: `head`, then the station code as JCS, then the closing brace."""
    return hashlib.sha256(head + station_jcs + b"}").digest()
