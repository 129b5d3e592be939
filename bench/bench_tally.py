"""The tally's aggregation of every CVR of an election, against a raw SQL GROUP BY over
the same CVR rows, measured in the same run, on PostgreSQL and on SQLite.

    python -m bench.bench_tally [--cvrs 5000000] [--stations 2000] [--repeat 3]
                                [--pg postgresql+psycopg://postgres@127.0.0.1:5432/postgres]
                                [--only pg|sqlite]

An election of `--stations` stations in 100 host countries (three ballot styles, four
contests, one of them with two votes allowed) is loaded with `ocv election load`; the CVRs
are written straight into the table (COPY on PostgreSQL), as counting would leave them.

- tally: `tally.aggregate.recount_from_cvrs` — polling's one-statement count (choices,
  ballots with votes, invalid, ballots, per station × ballot style), then the sums per
  contest in Python: every figure the tally needs.
- raw: the plain GROUP BY of votes per (station, style, contest, choice) over the same
  rows, through the driver's cursor, nothing else.
Prints medians of `--repeat` runs and tally ÷ raw (target ≤ 1.5).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import median_seconds, report  # noqa: E402
from ocv.db import make_engine  # noqa: E402
from tests.scratch import drop_database, fresh_database  # noqa: E402

BIN = Path(sys.executable).parent
CODE = "BENCH27"
CONTESTS = [
    {"code": "PRES", "name": "President", "votes_allowed": 1, "choices": ["A", "B", "C", "D", "E"]},
    {"code": "REF", "name": "Referendum", "votes_allowed": 1, "choices": ["Yes", "No"]},
    {"code": "PARL-N", "name": "Parliament north", "votes_allowed": 2, "choices": ["P", "Q", "R", "S"]},
    {"code": "PARL-S", "name": "Parliament south", "votes_allowed": 1, "choices": ["X", "Y", "Z"]},
]
STYLES = {"BS-N": ["PRES", "REF", "PARL-N"], "BS-S": ["PRES", "REF", "PARL-S"], "BS-H": ["PRES", "REF"]}

RAW = {
    "postgresql": """
SELECT c.polling_station_id, c.ballot_style, s.key, v.value, count(*)
  FROM cvrs c, json_each(c.selections) s, json_array_elements_text(s.value) v
 GROUP BY 1, 2, 3, 4""",
    "sqlite": """
SELECT c.polling_station_id, c.ballot_style, s.key, v.value, count(*)
  FROM cvrs c, json_each(c.selections) s, json_each(s.value) v
 GROUP BY 1, 2, 3, 4""",
}


def definition(stations: int) -> dict[str, Any]:
    countries = [f"{chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(100)]
    return {
        "code": CODE,
        "name": "Benchmark election",
        "home_country": "XD",
        "polling_day": "2027-04-18",
        "counting": "cvr",
        "eligibility": {"minimum_age": 18, "documents": {"accepted": ["passport"], "required": 1}},
        "constituencies": [
            {"code": "N", "name": "North", "kind": "overseas"},
            {"code": "S", "name": "South", "kind": "overseas"},
            {"code": "H", "name": "Home", "kind": "home"},
        ],
        "contests": CONTESTS,
        "ballot_styles": [
            {"code": style, "constituencies": [style[-1]], "contests": contests}
            for style, contests in STYLES.items()
        ],
        "host_countries": [
            {
                "code": c,
                "name": f"Country {c}",
                "polling_days": [{"date": "2027-04-18", "opens": "08:00", "closes": "18:00"}],
            }
            for c in countries
        ],
        "stations": [
            {
                "code": f"ST-{i:04d}",
                "name": f"Station {i}",
                "country": countries[i % 100],
                "city": "City",
                "address": "Street 1",
                "time_zone": "UTC",
                "capacity": 10000,
            }
            for i in range(stations)
        ],
    }


def ballots(seed: int = 2027) -> dict[str, list[tuple[str, str]]]:
    """Per style, a pool of (selections, invalid) JSON texts as counting stores them."""
    rng = random.Random(seed)  # noqa: S311 (sample data)
    by_code = {c["code"]: c for c in CONTESTS}
    pools: dict[str, list[tuple[str, str]]] = {}
    for style, contests in STYLES.items():
        pool = []
        for _ in range(500):
            votes, invalid = {}, []
            for code in contests:
                roll = rng.random()
                if roll < 0.02:
                    invalid.append(code)
                elif roll > 0.04:
                    c = by_code[code]
                    votes[code] = sorted(rng.sample(c["choices"], rng.randint(1, c["votes_allowed"])))
            pool.append((json.dumps(votes, separators=(",", ":")), json.dumps(invalid)))
        pools[style] = pool
    return pools


def fill(url: str, stations: int, cvrs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "OCV_ENV": "development", "OCV_DATABASE_URL": url, "OCV_INSTANCE_PATH": tmp}
        file = Path(tmp) / "election.json"
        file.write_text(json.dumps(definition(stations)), encoding="utf-8")
        for command in (["db", "upgrade"], ["election", "load", str(file)]):
            done = subprocess.run(
                [str(BIN / "ocv"), *command], env=env, capture_output=True, text=True, check=False
            )  # noqa: S603
            if done.returncode:
                raise SystemExit(done.stdout + done.stderr)
    engine = make_engine(url)
    rng = random.Random(5)  # noqa: S311
    pools = ballots()
    styles = list(STYLES)
    per_station = cvrs // stations
    start = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO polling_stations (election_code, station_code, state, day, seals, officials) "
                "VALUES (:e, :s, 'submitted', 1, '[]', '[]')"
            ),
            [{"e": CODE, "s": f"ST-{i:04d}"} for i in range(stations)],
        )
        ids = [
            row[0]
            for row in connection.execute(text("SELECT id FROM polling_stations ORDER BY station_code"))
        ]
        raw = connection.connection.dbapi_connection
        assert raw is not None
        cursor = raw.cursor()
        for n, station_id in enumerate(ids):
            rows = []
            for k in range(per_station + (1 if n < cvrs % stations else 0)):
                style = styles[k % 3]
                selections, invalid = pools[style][rng.randrange(500)]
                rows.append((f"{station_id:08x}{k:024x}", station_id, style, selections, invalid))
            if engine.dialect.name == "postgresql":
                buffer = io.StringIO("".join("\t".join(map(str, r)) + "\n" for r in rows))
                with cursor.copy(
                    "COPY cvrs (id, polling_station_id, ballot_style, selections, invalid) FROM STDIN"
                ) as copy:
                    copy.write(buffer.getvalue())
            else:
                cursor.executemany("INSERT INTO cvrs VALUES (?, ?, ?, ?, ?)", rows)
        cursor.close()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM ANALYZE cvrs" if engine.dialect.name == "postgresql" else "ANALYZE"))
    print(
        f"  loaded {cvrs:,} CVRs at {stations:,} stations in {time.perf_counter() - start:,.0f} s", flush=True
    )
    engine.dispose()


def measure(url: str, label: str, repeat: int) -> None:
    import ocv.app  # noqa: F401  (every table on the metadata)
    from tally import aggregate

    engine = make_engine(url)
    dialect = engine.dialect.name
    totals: dict[str, Any] = {}

    def ours() -> None:
        with Session(engine) as session:
            totals.update(aggregate.recount_from_cvrs(session, CODE))

    def raw() -> None:
        with engine.connect() as connection:
            cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            cursor.execute(RAW[dialect])
            rows = cursor.fetchall()
            cursor.close()
            assert rows

    raw()  # warm the cache for both
    timings = {"raw": [], "tally": []}
    for _ in range(repeat):  # alternated, so both see the same cache and load
        timings["raw"].append(median_seconds(raw, 1))
        timings["tally"].append(median_seconds(ours, 1))
    r, t = sorted(timings["raw"])[repeat // 2], sorted(timings["tally"])[repeat // 2]
    ballots_counted = totals["PRES"]["ballots"]
    report(f"tally aggregation, {label}", t, "s", r, t / r, "≤ 1.5")
    print(
        f"  {ballots_counted:,} ballots counted; runs raw {timings['raw']}, tally {timings['tally']}",
        flush=True,
    )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--cvrs", type=int, default=5_000_000)
    parser.add_argument("--stations", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--pg",
        default=os.environ.get(
            "OCV_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
        ),
    )
    parser.add_argument("--only", choices=("pg", "sqlite"))
    args = parser.parse_args()
    if args.only != "sqlite":
        url = fresh_database(args.pg, f"ocv_bench_tally_{os.getpid()}")
        try:
            fill(url, args.stations, args.cvrs)
            measure(url, f"PostgreSQL, {args.cvrs:,} CVRs", args.repeat)
        finally:
            drop_database(url)
    if args.only != "pg":
        with tempfile.TemporaryDirectory() as tmp:
            url = f"sqlite:///{tmp}/bench.sqlite"
            fill(url, args.stations, args.cvrs)
            measure(url, f"SQLite, {args.cvrs:,} CVRs", args.repeat)


if __name__ == "__main__":
    main()
