"""Bulk voter import: 1,000,000 generated voters on SQLite and PostgreSQL, beside the baseline.

The baseline, measured in the same run on the same rows: reading the CSV and a plain
`sqlite3` `executemany` into a table shaped like `voters` (same columns, same indexes), and
PostgreSQL `COPY` of them into such a table. Ours is `registration.imports.service.import_voters`:
every row validated by the enrolment rules, documents keyed-hashed and sealed, stations
assigned, duplicates checked, three tables written, one audit event, committed.

Each measurement runs in a fresh process, so its peak RSS (ru_maxrss of the importing
process) is its own: flat memory means the peak does not grow with the rows.

    python -m bench.bench_import [--rows 1000000] [--small 100000] [--repeat 1] [--pg URL]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import itertools
import json
import os
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy.engine import make_url

from audit import keys
from bench.common import report
from ocv import migrate
from ocv.acting import Actor
from ocv.app import create_app
from ocv.db import database, make_engine, utcnow
from ocv.settings import Settings
from registration import service
from registration.enrolment import ElectionIndex
from registration.imports import rows as import_rows
from registration.imports import service as imports
from registration.imports.rows import COLUMNS, Rules
from tests.integration.test_registration import demo_definition
from tests.scratch import ensure_database

BENCH = Actor.operator("bench")  # the console, as the benchmark acts

CITIES = {
    "DE": ["Berlin", "Munich", "Hamburg", "Cologne", "Frankfurt"],
    "FR": ["Paris", "Lyon", "Marseille"],
    "AE": ["Dubai", "Abu Dhabi", "Sharjah"],
    "US": ["New York", "Chicago", "Houston", "Seattle"],
}
CONSTITUENCIES = {"DE": "OV-EU", "FR": "OV-EU", "AE": "OV-ME", "US": "OV-ME"}
SYLLABLES = [
    "ba",
    "da",
    "fa",
    "ha",
    "ja",
    "ka",
    "la",
    "ma",
    "na",
    "ra",
    "sa",
    "ta",
    "wa",
    "za",
    "bi",
    "di",
    "fi",
    "hi",
    "ki",
    "li",
    "mi",
    "ni",
    "ri",
    "si",
    "ti",
    "bo",
    "do",
    "ko",
    "lo",
    "mo",
    "no",
    "ro",
    "so",
    "to",
    "bu",
    "du",
    "ku",
    "lu",
    "mu",
    "nu",
    "ru",
    "su",
    "tu",
    "el",
    "an",
    "or",
    "im",
    "us",
]
CHECK_SAMPLE = 20_000
BASELINE_TABLE = """CREATE TABLE baseline_voters (
    id CHAR(32) NOT NULL PRIMARY KEY, election_id INTEGER NOT NULL, reg_no VARCHAR(16) NOT NULL,
    given_name VARCHAR(100) NOT NULL, family_name VARCHAR(100) NOT NULL, father_name VARCHAR(100),
    grandfather_name VARCHAR(100), names_original_script VARCHAR(300), date_of_birth DATE NOT NULL,
    sex VARCHAR(1), phone VARCHAR(32), email VARCHAR(200), constituency_id INTEGER NOT NULL,
    country_id INTEGER NOT NULL, station_id INTEGER NOT NULL, status VARCHAR(12) NOT NULL,
    name_key VARCHAR(16) NOT NULL, created_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL,
    CONSTRAINT uq_baseline_reg_no UNIQUE (election_id, reg_no))"""
BASELINE_INDEXES = (
    "CREATE INDEX ix_baseline_match ON baseline_voters (election_id, date_of_birth, name_key)",
    "CREATE INDEX ix_baseline_station_names ON baseline_voters (station_id, family_name, given_name)",
)


def _settings(url: str, instance: Path) -> Settings:
    return Settings(
        env="development", secret_key="b" * 40, key_secret="k" * 40, database_url=url, instance_path=instance
    ).validate()


def election_definition(rows: int) -> dict[str, Any]:
    data = demo_definition(code="BENCH")
    stations = []
    for country, cities in CITIES.items():
        zone = {"DE": "Europe/Berlin", "FR": "Europe/Paris", "AE": "Asia/Dubai", "US": "America/New_York"}
        for city in cities:
            for n in (1, 2):
                stations.append(
                    {
                        "code": f"{country}-{city[:3].upper()}-{n:02d}",
                        "name": f"{city} {n}",
                        "country": country,
                        "city": city,
                        "address": f"{n} Main Street, {city}",
                        "time_zone": zone[country],
                        "capacity": rows,
                    }
                )
    data["stations"] = stations
    return data


def generate(path: Path, rows: int, seed: int = 7) -> None:
    """Streams `rows` distinct valid voters to a CSV file."""
    rng = random.Random(seed)

    def name() -> str:
        return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()

    given = [name() for _ in range(400)]
    family = [name() for _ in range(3000)]
    first_day, days = dt.date(1940, 1, 1).toordinal(), (dt.date(2005, 12, 31) - dt.date(1940, 1, 1)).days
    countries = list(CITIES)
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(COLUMNS)
        for i in range(rows):
            country = rng.choice(countries)
            second = rng.random() < 0.3
            writer.writerow(
                (
                    rng.choice(given),
                    rng.choice(family),
                    dt.date.fromordinal(first_day + rng.randrange(days)),
                    CONSTITUENCIES[country],
                    country,
                    rng.choice(CITIES[country]),
                    "",
                    rng.choice(given),
                    "",
                    "",
                    rng.choice("FM"),
                    f"+49 30 {i:08d}" if i % 4 == 0 else "",
                    f"voter{i}@example.org" if i % 5 == 0 else "",
                    "passport",
                    f"P{i:09d}",
                    "national_id" if second else "",
                    f"N{i:09d}" if second else "",
                )
            )


# --- one measurement, in its own process ------------------------------------------------------


def _baseline_rows(csv_path: Path, now: str) -> Any:
    ids = {"OV-EU": 1, "OV-ME": 2, "DE": 1, "FR": 2, "AE": 3, "US": 4}
    with csv_path.open(encoding="utf-8", newline="") as source:
        reader = csv.reader(source)
        next(reader)
        for i, r in enumerate(reader):
            yield (
                uuid.uuid4().hex,
                1,
                f"{i:09d}",
                r[0],
                r[1],
                r[7] or None,
                r[8] or None,
                r[9] or None,
                r[2],
                r[10] or None,
                r[11] or None,
                r[12] or None,
                ids[r[3]],
                ids[r[4]],
                1,
                "registered",
                r[1][:3].lower(),
                now,
                now,
            )


def run_baseline_sqlite(csv_path: Path, db_path: Path) -> None:
    connection = sqlite3.connect(db_path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.execute(BASELINE_TABLE)
    for statement in BASELINE_INDEXES:
        connection.execute(statement)
    marks = ", ".join("?" * 19)
    connection.execute("BEGIN IMMEDIATE")
    connection.executemany(
        f"INSERT INTO baseline_voters VALUES ({marks})",  # noqa: S608
        _baseline_rows(csv_path, dt.datetime.now(dt.UTC).isoformat()),
    )
    connection.execute("COMMIT")
    connection.close()


def run_baseline_postgresql(csv_path: Path, url: str) -> None:
    with psycopg.connect(_libpq(url)) as connection:
        connection.execute("DROP TABLE IF EXISTS baseline_voters")
        table = BASELINE_TABLE.replace("id CHAR(32)", "id UUID").replace("TIMESTAMP", "TIMESTAMPTZ")
        connection.execute(table)
        for statement in BASELINE_INDEXES:
            connection.execute(statement)
        with connection.cursor() as cursor, cursor.copy("COPY baseline_voters FROM STDIN") as copy:
            for row in _baseline_rows(csv_path, dt.datetime.now(dt.UTC).isoformat()):
                copy.write_row(row)
        connection.commit()


def run_ours(csv_path: Path, url: str, instance: Path) -> dict[str, Any]:
    settings = _settings(url, instance)
    app = create_app(settings)
    db = database(app)
    with db.transaction() as session, csv_path.open("rb") as stream:
        election = service.get_election(session, "BENCH")
        result = imports.import_voters(session, settings, BENCH, election, stream, filename=csv_path.name)
    return {"imported": result.imported, "rejected": result.rejected_rows, "flagged": result.flagged}


def run_checking(csv_path: Path, url: str, instance: Path, sample: int = CHECK_SAMPLE) -> dict[str, Any]:
    """CPU time per row of checking alone (`import_rows.Checker`, one process, no database
    write): the part of `ours` that workers share, and so a floor under its time."""
    settings = _settings(url, instance)
    app = create_app(settings)
    with database(app).transaction() as session:
        index = ElectionIndex.load(session, service.get_election(session, "BENCH"))
        rules = Rules.of(index, settings.key_secret, utcnow())
    with csv_path.open(encoding="utf-8", newline="") as text:
        columns, records = import_rows.read_rows(text)
        rows = list(itertools.islice(records, sample))
    checker = import_rows.Checker(rules, columns)
    start = time.process_time()
    checker.check_all(rows)
    return {"cpu_us_per_row": (time.process_time() - start) / len(rows) * 1e6}


def prepare_ours(url: str, instance: Path, rows: int) -> None:
    """A fresh schema with the audit log and the bench election, registration open."""
    settings = _settings(url, instance)
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    migrate.upgrade(engine)
    engine.dispose()
    app = create_app(settings)
    with database(app).transaction() as session:
        keys.create_log(session, settings)
        election = service.load_election(session, BENCH, election_definition(rows))
        service.advance(session, BENCH, election, "registration_open")
    database(app).engine.dispose()


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def child(args: argparse.Namespace) -> None:
    start = time.perf_counter()
    extra: dict[str, Any] = {}
    if args.child == "baseline-sqlite":
        run_baseline_sqlite(Path(args.csv), Path(args.target))
    elif args.child == "baseline-postgresql":
        run_baseline_postgresql(Path(args.csv), args.target)
    elif args.child == "checking":
        extra = run_checking(Path(args.csv), args.target, Path(args.instance))
    else:
        extra = run_ours(Path(args.csv), args.target, Path(args.instance))
    seconds = time.perf_counter() - start
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "rss_mb": rss_mb, **extra}))


def measure(kind: str, csv_path: Path, target: str, instance: Path) -> dict[str, Any]:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.bench_import",
            "--child",
            kind,
            "--csv",
            str(csv_path),
            "--target",
            target,
            "--instance",
            str(instance),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def bench(name: str, url: str | None, rows: int, repeat: int, tmp: Path) -> None:
    csv_path = tmp / f"voters-{rows}.csv"
    if not csv_path.exists():
        generate(csv_path, rows)
    base, ours = [], []
    for i in range(repeat):
        if url is None:
            target = tmp / f"baseline-{rows}-{i}.sqlite"
            base.append(measure("baseline-sqlite", csv_path, str(target), tmp))
            target.unlink()
            db_url = f"sqlite:///{tmp / f'ours-{rows}-{i}.sqlite'}"
        else:
            base.append(measure("baseline-postgresql", csv_path, url, tmp))
            db_url = url
        prepare_ours(db_url, tmp, rows)
        ours.append(measure("ours", csv_path, db_url, tmp))
    checking = measure("checking", csv_path, db_url, tmp)["cpu_us_per_row"]
    base_rate = rows / statistics.median(r["seconds"] for r in base)
    rate = rows / statistics.median(r["seconds"] for r in ours)
    last = ours[-1]
    report(f"import {rows:,} voters, {name}", rate, "rows/s", base_rate, rate / base_rate, "≥ 0.5")
    print(
        f"    ours {statistics.median(r['seconds'] for r in ours):.1f} s, baseline "
        f"{statistics.median(r['seconds'] for r in base):.1f} s; peak RSS ours {last['rss_mb']:.0f} MB "
        f"(main process; workers hold one chunk each), baseline {base[-1]['rss_mb']:.0f} MB; "
        f"imported {last['imported']:,}, likely duplicates queued {last['flagged']:,}",
    )
    cores = os.cpu_count() or 1
    print(
        f"    checking alone costs {checking:.0f} µs of CPU per row: {checking * rows / 1e6:.1f} CPU-s, "
        f"at least {checking * rows / 1e6 / cores:.1f} s on {cores} cores before any write "
        f"(the target allows {2 * statistics.median(r['seconds'] for r in base):.1f} s)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--small", type=int, default=100_000, help="also run at this size (0: skip)")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument(
        "--pg",
        default=os.environ.get("OCV_BENCH_DATABASE_URL"),
        help="a PostgreSQL database to use (its public schema is dropped)",
    )
    parser.add_argument("--child")
    parser.add_argument("--csv")
    parser.add_argument("--target")
    parser.add_argument("--instance")
    args, _ = parser.parse_known_args()  # `python -m bench` passes every benchmark's options
    if args.child:
        child(args)
        return
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        targets: list[tuple[str, str | None]] = [("SQLite", None)]
        if args.pg:
            ensure_database(args.pg)  # a fresh machine has none
            targets.append(("PostgreSQL", args.pg))
        for rows in sorted({args.small, args.rows} - {0}):
            for name, url in targets:
                bench(name, url, rows, args.repeat, tmp)


if __name__ == "__main__":
    main()
