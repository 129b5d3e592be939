"""Bulk import of voters: the service, the CLI and the upload page (SQLite and PostgreSQL)."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import random
import re
import time
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import rfc8785
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from audit import merkle, sequencer
from audit.models import Entry
from ocv.acting import Actor
from ocv.app import create_app
from ocv.auth import service as accounts
from ocv.db import database
from ocv.errors import PermissionDenied, ValidationError
from ocv.settings import Settings
from registration import matching, regno, service
from registration.errors import StationFull, WrongPhase
from registration.imports import jobs as import_jobs
from registration.imports import service as imports
from registration.imports.rows import COLUMNS
from registration.models import DuplicateReview, Election, Station, Voter, VoterDocument, VoterHistory
from registration.privacy import DocumentKeys
from tests.conftest import PASSWORD, csrf_token, login
from tests.factories import OPERATOR
from tests.integration.test_cli import run
from tests.integration.test_registration import demo_definition, voter

GIVEN = [
    "Amira",
    "Jonas",
    "Leila",
    "Tomas",
    "Sara",
    "Omar",
    "Claire",
    "Yusuf",
    "Nadia",
    "Karim",
    "Ines",
    "Farid",
]
FAMILY = [
    "Haddad",
    "Berg",
    "Nasser",
    "Ruiz",
    "Lind",
    "Farouk",
    "Dubois",
    "Demir",
    "Rahimi",
    "Khoury",
    "Sato",
    "Novak",
]


def person(i: int, **changes: str) -> dict[str, str]:
    """A distinct, valid voter (no two alike, so no likely duplicates unless a test wants one)."""
    row = {
        "given_name": GIVEN[i % len(GIVEN)],
        "family_name": FAMILY[(i * 5) % len(FAMILY)],
        # The first 90 by a pattern tests rely on; then a day each, so large files hold no
        # two voters of the same birth date and name (each would be a likely duplicate).
        "date_of_birth": f"19{60 + i % 30}-0{1 + i % 9}-{10 + i % 18}"
        if i < 90
        else (dt.date(1940, 1, 1) + dt.timedelta(days=i)).isoformat(),
        "constituency": "OV-EU",
        "host_country": "DE",
        "city": "Berlin",
        "doc1_type": "passport",
        "doc1_number": f"P{100000 + i}",
    }
    row.update(changes)
    return row


def csv_file(
    rows: list[dict[str, str]], header: tuple[str, ...] = COLUMNS, bom: bool = False, delimiter: str = ","
) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=header, delimiter=delimiter, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return (b"\xef\xbb\xbf" if bom else b"") + out.getvalue().encode("utf-8")


def xlsx_file(rows: list[list[Any]]) -> bytes:
    """A workbook whose first sheet holds `rows` as typed: dates and numbers as cells of their kind."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    workbook.create_sheet("Notes").append(["not read: only the first sheet is"])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def do_import(
    db_session: Session,
    settings: Settings,
    officer: Actor,
    election: Election,
    data: bytes,
    **options: Any,
) -> imports.ImportReport:
    return imports.import_voters(
        db_session, settings, officer, election, io.BytesIO(data), filename="voters.csv", **options
    )


def _entries(session: Session, type_: str) -> list[dict[str, Any]]:
    sequencer.integrate(session)
    return [
        json.loads(leaf)
        for leaf in session.scalars(select(Entry.leaf).where(Entry.type == type_).order_by(Entry.seq))
    ]


def _counts(session: Session) -> tuple[int, int, int, int, int]:
    return tuple(
        session.scalar(select(func.count()).select_from(model)) or 0  # type: ignore[return-value]
        for model in (Voter, VoterDocument, VoterHistory, DuplicateReview, Entry)
    )


def _assigned(session: Session, election: Election) -> dict[str, int]:
    session.expire_all()
    stations = session.scalars(select(Station).where(Station.election_id == election.id))
    return {s.code: s.assigned for s in stations}


def recomputed_root(session: Session, reason: str) -> str:
    """The records root from the registry: commitments in file order, by an independent JCS."""
    leaves = []
    history = session.scalars(
        select(VoterHistory).where(VoterHistory.reason == reason).order_by(VoterHistory.id)
    )
    for h in history:
        v = h.voter
        record = {
            "reg_no": v.reg_no,
            "station": v.station.code,
            "constituency": v.constituency.code,
            "country": v.country.code,
            "documents": sorted(d.number_hash for d in v.documents),
        }
        leaves.append(merkle.leaf_hash(hashlib.sha256(rfc8785.dumps(record)).digest()))
    return merkle.root(leaves).hex()


# --- the service -----------------------------------------------------------------------------


def test_good_file_is_imported_and_audited_once(
    db_session: Session, settings: Settings, election: Election, officer: Actor
) -> None:
    rows = [person(i) for i in range(7)] + [
        person(
            7,
            station="FR-PAR-01",
            host_country="FR",
            city="Paris",
            constituency="OV-EU",
            doc2_type="national_id",
            doc2_number="ID-7777-77",
        ),
        person(
            8,
            host_country="AE",
            city="Dubai",
            constituency="OV-ME",
            sex="f",
            phone="+971 50 123 4567",
            email="x@example.org",
            father_name="Ali",
            names_original_script="ليلى رحيمي",
        ),
    ]
    data = csv_file(rows)
    before = len(_entries(db_session, "registration.import_completed"))
    report = do_import(db_session, settings, officer, election, data)

    assert (report.rows, report.imported, report.rejected, report.committed) == (9, 9, [], True)
    assert report.file_sha256 == hashlib.sha256(data).hexdigest()
    assert report.by_station == {"DE-BER-01": 7, "FR-PAR-01": 1, "AE-DXB-01": 1}
    assert report.by_constituency == {"OV-EU": 8, "OV-ME": 1}
    voters = db_session.scalars(select(Voter).where(Voter.election_id == election.id)).all()
    assert len(voters) == 9
    paris = next(v for v in voters if v.station.code == "FR-PAR-01")
    assert sorted(d.doc_type for d in paris.documents) == ["national_id", "passport"]
    dubai = next(v for v in voters if v.station.code == "AE-DXB-01")
    assert (dubai.sex, dubai.father_name, dubai.names_original_script) == ("F", "Ali", "ليلى رحيمي")
    assert all("P10000" not in d.number_sealed for v in voters for d in v.documents)
    reason = f"import voters.csv {report.file_sha256[:12]}"
    kinds = {(h.kind, h.officer, h.reason) for v in voters for h in v.history}
    assert kinds == {("imported", "reggie", reason)}
    assert _assigned(db_session, election)["DE-BER-01"] == 7

    logged = _entries(db_session, "registration.import_completed")
    assert len(logged) == before + 1
    entry = logged[-1]
    assert entry["actor"] == {"user": "reggie", "role": "registration_officer"}
    assert entry["scope"] == {"election": "GE2027"}
    assert entry["payload"] == {
        "file_sha256": report.file_sha256,
        "rows": 9,
        "imported": 9,
        "rejected": 0,
        "by_station": {"AE-DXB-01": 1, "DE-BER-01": 7, "FR-PAR-01": 1},
        "by_constituency": {"OV-EU": 8, "OV-ME": 1},
        "records_root": report.records_root,
        "flagged": 0,
    }
    assert recomputed_root(db_session, reason) == report.records_root
    # One event for the whole import: no per-voter entries.
    assert _entries(db_session, "registration.voter_enrolled") == []


def bad_file(
    db_session: Session, settings: Settings, election: Election, officer: Actor
) -> tuple[bytes, str]:
    """A file with one row of each kind of problem, lines 3 to 8; the registry holds P999999."""
    known = service.enrol(
        db_session,
        settings,
        officer,
        election,
        voter(
            given_name="Known", family_name="Person", documents=[{"type": "passport", "number": "P999999"}]
        ),
    )
    db_session.commit()
    rows = [
        person(0),  # line 2: good
        person(1, date_of_birth="17/05/1990"),  # 3: wrong date
        person(2, constituency="NOWHERE"),  # 4: unknown constituency
        person(3, doc1_number="p-100000"),  # 5: same document as line 2
        person(4, doc1_number="P 999 999"),  # 6: registered already
        person(5, station="ZZ-NOPE-01"),  # 7: unknown station
        person(6, date_of_birth="2015-01-01"),  # 8: too young
        person(7),  # 9: good
    ]
    return csv_file(rows), known.reg_no


def test_bad_rows_are_reported_by_line_and_nothing_is_committed(
    db_session: Session, settings: Settings, election: Election, officer: Actor
) -> None:
    data, known = bad_file(db_session, settings, election, officer)
    before, seats = _counts(db_session), _assigned(db_session, election)
    with pytest.raises(imports.ImportRejected) as caught:
        do_import(db_session, settings, officer, election, data)
    report = caught.value.report
    assert caught.value.exit_code == 65
    assert (report.rows, report.rejected_rows, report.committed) == (8, 6, False)
    problems = {line: (name, message) for line, name, message in report.rejected}
    assert sorted(problems) == [3, 4, 5, 6, 7, 8]
    assert problems[3] == ("date_of_birth", "Use the form YYYY-MM-DD.")
    assert problems[4][0] == "constituency"
    assert "NOWHERE" in problems[4][1]
    assert problems[5] == ("doc1_number", "same document as line 2")
    assert problems[6][0] == "doc1_number"
    assert problems[6][1].startswith("document already registered to ")
    assert problems[6][1].replace("-", "").endswith(known)
    assert problems[7][0] == "station"
    assert "ZZ-NOPE-01" in problems[7][1]
    assert problems[8][0] == "date_of_birth"
    assert "at least 18" in problems[8][1]
    assert _counts(db_session) == before
    assert _assigned(db_session, election) == seats
    downloaded = list(csv.reader(io.StringIO(report.rejected_csv())))
    assert downloaded[0] == ["line", "field", "message"]
    assert [int(r[0]) for r in downloaded[1:]] == [3, 4, 5, 6, 7, 8]


def test_skip_invalid_imports_the_good_rows(
    db_session: Session, settings: Settings, election: Election, officer: Actor
) -> None:
    data, _ = bad_file(db_session, settings, election, officer)
    report = do_import(db_session, settings, officer, election, data, skip_invalid=True)
    assert (report.rows, report.imported, report.rejected_rows, report.committed) == (8, 2, 6, True)
    payload = _entries(db_session, "registration.import_completed")[-1]["payload"]
    assert (payload["rows"], payload["imported"], payload["rejected"]) == (8, 2, 6)
    assert recomputed_root(db_session, f"import voters.csv {report.file_sha256[:12]}") == report.records_root
    lines = sorted(
        int(str(h.changes["line"]))
        for h in db_session.scalars(select(VoterHistory).where(VoterHistory.kind == "imported"))
    )
    assert lines == [2, 9]


def test_dry_run_changes_and_records_nothing(
    db_session: Session, settings: Settings, election: Election, officer: Actor
) -> None:
    before, seats = _counts(db_session), _assigned(db_session, election)
    report = do_import(
        db_session, settings, officer, election, csv_file([person(i) for i in range(5)]), dry_run=True
    )
    assert (report.rows, report.imported, report.committed, report.records_root) == (5, 5, False, None)
    assert report.by_station == {"DE-BER-01": 5}
    assert _counts(db_session) == before
    assert _assigned(db_session, election) == seats
    data, _ = bad_file(db_session, settings, election, officer)
    before = _counts(db_session)
    with pytest.raises(imports.ImportRejected):
        do_import(db_session, settings, officer, election, data, dry_run=True)
    assert _counts(db_session) == before


SEAT_STATIONS = (  # code, city, capacity: a city of two stations, small ones that fill up
    ("DE-BER-01", "Berlin", 3),
    ("DE-BER-02", "Berlin", 5),
    ("DE-MUC-01", "Munich", 2),
    ("DE-HAM-01", "Hamburg", 4),
    ("AE-DXB-01", "Dubai", 2),
    ("AE-AUH-01", "Abu Dhabi", 1),
)


def _seat_election(session: Session, code: str) -> Election:
    zones = {"DE": "Europe/Berlin", "AE": "Asia/Dubai"}
    stations = [
        {
            "code": station,
            "name": f"{city} {station[-2:]}",
            "country": station[:2],
            "city": city,
            "address": f"1 Main Street, {city}",
            "time_zone": zones[station[:2]],
            "capacity": capacity,
        }
        for station, city, capacity in SEAT_STATIONS
    ]
    e = service.load_election(session, OPERATOR, demo_definition(code=code, stations=stations))
    service.advance(session, OPERATOR, e, "registration_open")
    session.commit()
    return e


def test_import_places_each_row_where_enrolling_it_would(
    db_session: Session, settings: Settings, officer: Actor
) -> None:
    """One rule for both doors: a file imported is placed as its rows enrolled one by one in
    file order, voters of no city, named stations and full ones mixed."""
    rng = random.Random(12)
    places = [
        {"city": "Berlin"},
        {"city": "Munich"},
        {"city": "Hamburg"},
        {"city": ""},  # no city: the emptiest of the country
        {"city": "berlin"},  # cities are compared case-folded
        {"city": "Munich", "station": "DE-BER-02"},
        {"city": "Hamburg", "station": "DE-MUC-01"},
        {"city": "Dubai", "host_country": "AE", "constituency": "OV-ME"},
        {"city": "", "host_country": "AE", "constituency": "OV-ME"},
    ]
    rows = [person(i, **rng.choice(places)) for i in range(24)]
    enrolled_in = _seat_election(db_session, "SEATS-E")
    enrolled = []
    for row in rows:
        raw: dict[str, object] = {k: v for k, v in row.items() if not k.startswith("doc")}
        raw["documents"] = [{"type": row["doc1_type"], "number": row["doc1_number"]}]
        try:
            enrolled.append(service.enrol(db_session, settings, officer, enrolled_in, raw).station.code)
        except StationFull:
            enrolled.append(None)
    imported_in = _seat_election(db_session, "SEATS-I")
    report = do_import(db_session, settings, officer, imported_in, csv_file(rows), skip_invalid=True)
    history = db_session.scalars(
        select(VoterHistory.changes)
        .join(Voter, Voter.id == VoterHistory.voter_id)
        .where(Voter.election_id == imported_in.id, VoterHistory.kind == "imported")
    )
    imported: list[str | None] = [None] * len(rows)
    for changes in history:
        imported[changes["line"] - 2] = changes["station"]
    assert {line for line, name, _ in report.rejected if name == "station"} == {
        i + 2 for i, code in enumerate(enrolled) if code is None
    }
    assert imported == enrolled
    assert None in enrolled  # stations filled up on the way
    assert set(enrolled) - {None} == {code for code, _, _ in SEAT_STATIONS}
    assert _assigned(db_session, imported_in) == _assigned(db_session, enrolled_in)


def test_station_capacity_is_respected(
    db_session: Session, settings: Settings, election: Election, officer: Actor
) -> None:
    for station in db_session.scalars(select(Station).where(Station.election_id == election.id)):
        if station.country.code == "AE":
            station.capacity = 1
    db_session.commit()
    gulf = {"host_country": "AE", "city": "Dubai", "constituency": "OV-ME"}
    rows = [person(i, **gulf) for i in range(3)] + [person(3, station="AE-DXB-01", **gulf)]
    report = do_import(db_session, settings, officer, election, csv_file(rows), skip_invalid=True)
    assert report.by_station == {"AE-DXB-01": 1, "AE-AUH-01": 1}
    assert [(line, name) for line, name, _ in report.rejected] == [(4, "station"), (5, "station")]
    assert "every station is at capacity" in report.rejected[0][2]
    assert _assigned(db_session, election)["AE-DXB-01"] == 1
    assert _assigned(db_session, election)["AE-AUH-01"] == 1


def test_likely_duplicates_go_to_review(
    db_session: Session, settings: Settings, election: Election, officer: Actor
) -> None:
    registered = service.enrol(
        db_session,
        settings,
        officer,
        election,
        voter(
            given_name="Mohammed",
            family_name="Al-Hassan",
            date_of_birth="1980-02-02",
            documents=[{"type": "passport", "number": "MH000001"}],
        ),
    )
    db_session.commit()
    rows = [
        person(
            0,
            given_name="Muhammad",
            family_name="Alhasan",
            date_of_birth="1980-02-02",
            host_country="FR",
            city="Paris",
        ),  # line 2: vs registered
        person(1, given_name="Leila", family_name="Nasser", date_of_birth="1975-03-03"),  # 3
        person(2, given_name="Layla", family_name="Nasser", date_of_birth="1975-03-03"),  # 4: vs line 3
        person(3, given_name="Nasser", family_name="Leila", date_of_birth="1975-03-03"),  # 5: swapped, vs 3
        person(4, given_name="Jonas", family_name="Berg", date_of_birth="1975-03-03"),  # 6: no match
    ]
    report = do_import(db_session, settings, officer, election, csv_file(rows))
    by_line: dict[Any, int] = {
        h.voter_id: int(str(h.changes["line"]))
        for h in db_session.scalars(select(VoterHistory).where(VoterHistory.kind == "imported"))
    }
    by_line[registered.id] = 0
    pairs = sorted(
        (by_line[r.voter_id], by_line[r.candidate_id])
        for r in db_session.scalars(select(DuplicateReview).where(DuplicateReview.election_id == election.id))
    )
    assert (2, 0) in pairs
    assert (4, 3) in pairs
    assert (5, 3) in pairs
    assert all(a > b for a, b in pairs)  # the newer entry is the one under review
    assert not any(6 in pair for pair in pairs)
    assert report.flagged == len(pairs)
    # Every review the import opened is announced, as enrolment's are, and counted in its entry.
    flagged = _entries(db_session, "registration.duplicate_flagged")
    reviews = db_session.scalars(select(DuplicateReview).where(DuplicateReview.election_id == election.id))
    assert sorted(e["payload"]["review"] for e in flagged) == sorted(r.id for r in reviews)
    assert _entries(db_session, "registration.import_completed")[-1]["payload"]["flagged"] == len(pairs)
    first = next(e["payload"] for e in flagged if e["payload"]["candidate"] == registered.reg_no)
    assert first["score"] >= 88


def test_an_import_finds_the_duplicates_enrolment_finds(
    db_session: Session, settings: Settings, election: Election, officer: Actor
) -> None:
    """Amira Haddad enrolled, then Amira Xaddad (same date of birth, same Arabic spelling):
    enrolment opens a review; an import of the second opens the same, by the one matcher."""
    arabic = "أميرة حداد"
    registered = service.enrol(
        db_session,
        settings,
        officer,
        election,
        voter(
            given_name="Amira",
            family_name="Haddad",
            names_original_script=arabic,
            date_of_birth="1990-05-17",
            documents=[{"type": "passport", "number": "AH000001"}],
        ),
    )
    db_session.commit()
    twin = person(
        0, given_name="Amira", family_name="Xaddad", names_original_script=arabic, date_of_birth="1990-05-17"
    )
    report = do_import(db_session, settings, officer, election, csv_file([twin]))
    assert report.flagged == 1
    review = db_session.scalars(
        select(DuplicateReview).where(DuplicateReview.candidate_id == registered.id)
    ).one()
    imported = db_session.get(Voter, review.voter_id)
    assert imported is not None
    assert imported.family_name == "Xaddad"
    assert matching.likely_duplicates(db_session, imported) == [
        (registered, review.score)
    ]  # enrolment's view
    announced = _entries(db_session, "registration.duplicate_flagged")[-1]["payload"]
    assert announced == {
        "review": review.id,
        "reg_no": imported.reg_no,
        "candidate": registered.reg_no,
        "score": review.score,
    }


def test_worker_processes_and_chunks_give_the_same_result(
    db_session: Session, settings: Settings, election: Election, officer: Actor
) -> None:
    rows = [person(i) for i in range(10)] + [person(10, doc1_number="P100001"), person(11, sex="Q")]
    progress: list[tuple[int, int]] = []
    with pytest.raises(imports.ImportRejected) as caught:
        do_import(
            db_session,
            settings,
            officer,
            election,
            csv_file(rows),
            workers=2,
            chunk_rows=3,
            progress=lambda done, total: progress.append((done, total)),
        )
    assert caught.value.report.rejected == [
        (12, "doc1_number", "same document as line 3"),
        (13, "sex", "Use F, M or X."),
    ]
    assert progress[-1] == (12, 12)
    report = do_import(
        db_session, settings, officer, election, csv_file(rows), workers=2, chunk_rows=3, skip_invalid=True
    )
    assert report.imported == 10
    assert recomputed_root(db_session, f"import voters.csv {report.file_sha256[:12]}") == report.records_root


def test_a_number_drawn_twice_or_taken_already_is_drawn_again(
    db_session: Session,
    settings: Settings,
    election: Election,
    officer: Actor,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Numbers are random: force the one-in-a-billion draws, a number the registry holds and
    one drawn twice in the file, and see each row registered under a number of its own."""
    held = service.enrol(db_session, settings, officer, election, voter()).reg_no
    twice = regno.generate()
    draws = iter([held, twice, twice])
    real = regno.generate
    monkeypatch.setattr(regno, "generate", lambda: next(draws, None) or real())
    report = do_import(
        db_session, settings, officer, election, csv_file([person(i) for i in range(3)]), workers=1
    )
    assert report.imported == 3
    numbers = [v.reg_no for v in db_session.scalars(select(Voter).where(Voter.election_id == election.id))]
    assert len(numbers) == len(set(numbers)) == 4
    assert numbers.count(held) == numbers.count(twice) == 1
    assert recomputed_root(db_session, f"import voters.csv {report.file_sha256[:12]}") == report.records_root


def test_file_format(db_session: Session, settings: Settings, election: Election, officer: Actor) -> None:
    few = (
        "given_name",
        "family_name",
        "date_of_birth",
        "constituency",
        "host_country",
        "doc1_type",
        "doc1_number",
    )
    rows = [{k: v for k, v in person(i).items() if k in few} for i in range(2)]
    report = do_import(
        db_session, settings, officer, election, csv_file(rows, few, bom=True, delimiter=";"), dry_run=True
    )
    assert (report.rows, report.imported) == (2, 2)
    with pytest.raises(ValidationError) as caught:
        do_import(db_session, settings, officer, election, csv_file(rows, (*few, "nickname")))
    assert "nickname" in caught.value.fields["header"][0]
    with pytest.raises(ValidationError):
        do_import(db_session, settings, officer, election, b"given_name\nAmira\n")
    with pytest.raises(ValidationError, match="UTF-8"):
        do_import(db_session, settings, officer, election, csv_file(rows).replace(b"Amira", b"Am\xefra"))
    with pytest.raises(ValidationError, match="not a readable XLSX workbook"):
        do_import(db_session, settings, officer, election, b"PK\x03\x04" + b"\0" * 100)
    quoted = csv_file(
        [person(0, given_name="Amira\nMaria", grandfather_name="Omar, son of Ali"), person(1, sex="Q")]
    )
    with pytest.raises(imports.ImportRejected) as rejected:
        do_import(db_session, settings, officer, election, quoted)
    assert rejected.value.report.rejected == [(4, "sex", "Use F, M or X.")]  # the first record spans 2 lines


def test_xlsx_sheets_are_read_as_typed(
    db_session: Session, settings: Settings, election: Election, officer: Actor
) -> None:
    header = ["Given_Name", "family_name", "date_of_birth", "constituency", "host_country", "city"]
    header += ["doc1_type", "doc1_number"]
    good = xlsx_file(
        [
            header,
            ["Amira", "Haddad", dt.date(1990, 5, 17), "OV-EU", "DE", "Berlin", "passport", 81234567],
            [],  # a blank row is skipped, but keeps its number
            ["Jonas", "Weber", "1985-02-03", "ov-eu", "de", "Munich", "passport", "P 555-777"],
            ["Lea", "Roth", dt.datetime(1970, 1, 2), "OV-EU", "DE", "", "national_id", "N7777777", None],  # noqa: DTZ001
        ]
    )
    report = do_import(db_session, settings, officer, election, good)
    assert (report.rows, report.imported, report.rejected, report.committed) == (3, 3, [], True)
    assert report.file_sha256 == hashlib.sha256(good).hexdigest()
    db_session.expire_all()
    amira = db_session.scalars(
        select(Voter).where(Voter.election_id == election.id, Voter.family_name == "Haddad")
    ).one()
    assert amira.date_of_birth == dt.date(1990, 5, 17)
    keys = DocumentKeys(settings.key_secret)
    assert [keys.open(d.number_sealed) for d in amira.documents] == ["81234567"]  # not "81234567.0"
    assert report.records_root == recomputed_root(db_session, f"import voters.csv {report.file_sha256[:12]}")

    bad = xlsx_file(
        [
            header,
            ["Omar", "Aziz", dt.date(2020, 1, 1), "OV-EU", "DE", "Berlin", "passport", "P9990001"],
            ["Sara", "Aziz", dt.date(1990, 1, 1), "OV-EU", "DE", "Berlin", "passport", 81234567],
            ["Ines", "Aziz", dt.date(1991, 1, 1), "OV-EU", "DE", "Berlin", "passport", "P9990003", "stray"],
        ]
    )
    with pytest.raises(imports.ImportRejected) as caught:
        do_import(db_session, settings, officer, election, bad)
    assert [(line, name) for line, name, _ in caught.value.report.rejected] == [
        (2, "date_of_birth"),
        (3, "doc1_number"),
        (4, "row"),
    ]
    with pytest.raises(ValidationError) as unknown:
        do_import(db_session, settings, officer, election, xlsx_file([["given", "family"], ["A", "B"]]))
    assert "Unknown column(s) 'given', 'family'" in unknown.value.fields["header"][0]
    with pytest.raises(ValidationError, match="empty"):
        do_import(db_session, settings, officer, election, xlsx_file([]))


def test_only_officers_and_only_while_registration_is_open(
    db_session: Session, settings: Settings, election: Election, make_user
) -> None:
    observer = Actor.of(make_user("olga", "observer"))
    with pytest.raises(PermissionDenied):
        do_import(db_session, settings, observer, election, csv_file([person(0)]))
    service.advance(db_session, OPERATOR, election, "exhibition")
    with pytest.raises(WrongPhase):
        do_import(db_session, settings, OPERATOR, election, csv_file([person(0)]))


# --- the CLI ---------------------------------------------------------------------------------


def test_cli_exit_codes_and_report_file(
    app: Flask, db_session: Session, settings: Settings, election: Election, officer: Actor, tmp_path: Path
) -> None:
    good = tmp_path / "good.csv"
    good.write_bytes(csv_file([person(i) for i in range(20, 23)]))
    checked = run(app, "voters", "import", str(good), "--election", "ge2027", "--dry-run")
    assert checked.exit_code == 0, checked.output
    assert "3 rows; would import 3; rejected 0" in checked.output
    sheet = tmp_path / "good.xlsx"
    sheet.write_bytes(
        xlsx_file([list(COLUMNS), *([person(i).get(c, "") for c in COLUMNS] for i in range(30, 32))])
    )
    checked_sheet = run(app, "voters", "import", str(sheet), "--election", "GE2027", "--dry-run")
    assert "2 rows; would import 2; rejected 0" in checked_sheet.output, checked_sheet.output
    assert db_session.scalar(select(func.count()).select_from(Voter)) == 1 - 1

    data, _ = bad_file(db_session, settings, election, officer)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(data)
    refused = run(app, "voters", "import", str(bad), "--election", "GE2027")
    assert refused.exit_code == 65, refused.output
    assert "6 of 8 rows were rejected; nothing was imported" in refused.output
    report = list(csv.reader((tmp_path / "bad.csv.rejected.csv").read_text(encoding="utf-8").splitlines()))
    assert [r[0] for r in report[1:]] == ["3", "4", "5", "6", "7", "8"]
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(Voter)) == 1

    elsewhere = tmp_path / "problems.csv"
    skipped = run(
        app,
        "voters",
        "import",
        str(bad),
        "--election",
        "GE2027",
        "--skip-invalid",
        "--report",
        str(elsewhere),
    )
    assert skipped.exit_code == 0, skipped.output
    assert "imported 2; rejected 6" in skipped.output
    assert "warning: 6 rejected rows were skipped" in skipped.output
    assert elsewhere.read_text(encoding="utf-8").count("\n") == 7

    imported = run(app, "voters", "import", str(good), "--election", "GE2027")
    assert imported.exit_code == 0, imported.output
    assert "DE-BER-01" in imported.output
    assert "records root" in imported.output
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(Voter)) == 1 + 2 + 3
    assert len(_entries(db_session, "registration.import_completed")) == 2

    assert run(app, "voters", "import", str(good), "--election", "NOPE").exit_code == 66


# --- the upload page -------------------------------------------------------------------------


@pytest.fixture
def import_client(client: FlaskClient) -> FlaskClient:
    return client


def _upload(client: FlaskClient, data: bytes, mode: str, name: str = "voters.csv") -> TestResponse:
    token = csrf_token(client, "/elections/GE2027/import")
    posted = client.post(
        "/elections/GE2027/import",
        content_type="multipart/form-data",
        data={"csrf_token": token, "mode": mode, "file": (io.BytesIO(data), name)},
    )
    assert posted.status_code == 303, posted.status_code
    assert "/elections/GE2027/import/" in posted.location
    return client.get(posted.location)  # the job's page: here the job has run within the request


def test_upload_page(
    import_client: FlaskClient,
    db_session: Session,
    settings: Settings,
    election: Election,
    officer: Actor,
    make_user,
) -> None:
    client = import_client
    assert login(client, "reggie").status_code == 302
    checked = _upload(client, csv_file([person(i) for i in range(3)]), "check")
    assert checked.status_code == 200
    assert "3 of 3 rows can be imported" in checked.get_data(as_text=True)
    sheet = xlsx_file([list(COLUMNS), *([person(i).get(c, "") for c in COLUMNS] for i in range(3, 5))])
    checked_sheet = _upload(client, sheet, "check", name="voters.xlsx")
    assert "2 of 2 rows can be imported" in checked_sheet.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(Voter)) == 0

    data, _ = bad_file(db_session, settings, election, officer)
    refused = _upload(client, data, "import")
    page = refused.get_data(as_text=True)
    assert refused.status_code == 200
    assert "6 of 8 rows were rejected" in page
    assert "same document as line 2" in page
    link = re.search(r'href="/elections/GE2027/import/([^"]+/rejected\.csv)"', page).group(1)
    download = client.get(f"/elections/GE2027/import/{link}")
    assert download.status_code == 200
    assert download.mimetype == "text/csv"
    assert download.get_data(as_text=True).startswith("line,field,message\n3,date_of_birth,")
    download.close()
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(Voter)) == 1

    imported = _upload(client, data, "import_valid")
    assert imported.status_code == 200
    assert "Imported 2 voters." in imported.get_data(as_text=True)
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(Voter)) == 3
    assert len(_entries(db_session, "registration.import_completed")) == 1

    no_csrf = client.post(
        "/elections/GE2027/import",
        content_type="multipart/form-data",
        data={"mode": "import", "file": (io.BytesIO(data), "x.csv")},
    )
    assert no_csrf.status_code == 400

    make_user("admin2", "admin")
    other = import_client.application.test_client()
    assert login(other, "admin2").status_code == 302
    assert other.get(f"/elections/GE2027/import/{link}").status_code == 404  # not their report
    assert other.get("/elections/GE2027/import/..%2F..%2Fsecret/rejected.csv").status_code == 404
    make_user("olga", "observer")
    observer = import_client.application.test_client()
    assert login(observer, "olga").status_code == 302
    assert observer.get("/elections/GE2027/import").status_code == 403
    assert observer.get(f"/elections/GE2027/import/{link}").status_code == 403


def test_an_upload_runs_in_the_background_and_its_page_follows_it(
    own_database: Engine, base_settings: Settings, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """The real thing: the job runs in a thread with its own transaction while the page polls."""
    settings = base_settings.with_overrides(
        database_url=own_database.url.render_as_string(hide_password=False),
        instance_path=tmp_path,
        background_imports=True,
    )
    app = create_app(settings)
    request.addfinalizer(database(app).engine.dispose)  # before the database is dropped
    with database(app).transaction() as session:
        election = service.load_election(session, OPERATOR, demo_definition())
        service.advance(session, OPERATOR, election, "registration_open")
        for name in ("reggie", "rita"):
            user = accounts.create_user(
                session, settings, OPERATOR, username=name, role="registration_officer", password=PASSWORD
            )
            user.must_change_password = False
    client = app.test_client()
    assert login(client, "reggie").status_code == 302
    token = csrf_token(client, "/elections/GE2027/import")
    rows = [person(i) for i in range(3000)]
    posted = client.post(
        "/elections/GE2027/import",
        content_type="multipart/form-data",
        data={"csrf_token": token, "mode": "import", "file": (io.BytesIO(csv_file(rows)), "many.csv")},
    )
    assert posted.status_code == 303
    pages = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        page = client.get(posted.location).get_data(as_text=True)
        pages.append(page)
        if 'http-equiv="refresh"' not in page:
            break
        assert "<progress" in page
        time.sleep(0.05)
    assert "Imported 3000 voters." in pages[-1]
    with database(app).transaction() as session:
        assert session.scalar(select(func.count()).select_from(Voter)) == 3000
        assert len(_entries(session, "registration.import_completed")) == 1
    assert list((tmp_path / "import-reports").glob("*/*.upload")) == []  # the upload is gone

    other = app.test_client()
    assert login(other, "rita").status_code == 302
    assert other.get(posted.location).status_code == 404  # someone else's job


def test_a_running_job_shows_its_progress_and_refreshes(
    import_client: FlaskClient, officer: Actor, election: Election, settings: Settings
) -> None:
    folder = import_jobs.folder(settings.instance_path, officer.user.id)
    folder.path.mkdir(parents=True, exist_ok=True)
    job = import_jobs.Job(
        id="B" * 22, election="GE2027", filename="voters.csv", mode="import", done=2500, expected=10_000
    )
    job.heartbeat = time.time()
    folder.save(job)
    assert login(import_client, "reggie").status_code == 302
    page = import_client.get(f"/elections/GE2027/import/{job.id}").get_data(as_text=True)
    assert '<meta http-equiv="refresh" content="2">' in page
    assert '<progress max="100" value="25">' in page
    assert "Working: 2500 of about 10000 rows." in page


def test_a_job_whose_process_died_is_reported_as_interrupted(
    import_client: FlaskClient, officer: Actor, election: Election, settings: Settings
) -> None:
    folder = import_jobs.folder(settings.instance_path, officer.user.id)
    folder.path.mkdir(parents=True, exist_ok=True)
    job = import_jobs.Job(
        id="A" * 22, election="GE2027", filename="voters.csv", mode="import", heartbeat=time.time() - 3600
    )
    folder.save(job)
    assert login(import_client, "reggie").status_code == 302
    page = import_client.get(f"/elections/GE2027/import/{job.id}").get_data(as_text=True)
    assert "The import stopped before it ended: nothing was imported." in page
    assert 'http-equiv="refresh"' not in page
    assert import_client.get("/elections/GE2027/import/not-a-job").status_code == 404
    assert import_client.get(f"/elections/FR2027/import/{job.id}").status_code == 404


def test_an_upload_out_of_phase_is_refused_at_once(
    import_client: FlaskClient, db_session: Session, officer: Actor, election: Election, settings: Settings
) -> None:
    assert login(import_client, "reggie").status_code == 302
    token = csrf_token(import_client, "/elections/GE2027/import")
    folder = import_jobs.folder(settings.instance_path, officer.user.id).path
    before = set(folder.glob("*"))
    service.advance(db_session, OPERATOR, election, "exhibition")
    db_session.commit()
    refused = import_client.post(
        "/elections/GE2027/import",
        content_type="multipart/form-data",
        data={"csrf_token": token, "mode": "import", "file": (io.BytesIO(csv_file([person(0)])), "v.csv")},
    )
    assert refused.status_code == 409
    assert set(folder.glob("*")) == before  # no job, and no upload kept
