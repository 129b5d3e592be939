"""Check-ins through the JSON API on PostgreSQL with gunicorn, beside a minimal Flask +
SQLAlchemy endpoint doing the same conditional UPDATE (bench/checkin_baseline.py) under the
same gunicorn settings, measured in the same run (issue 13, "Benchmark").

The load is the design load: wrk (Debian's package; `make bench-tools`) with 16 connections,
each request a check-in of a different voter, by the clerk of the voter's station, at 26
stations. Rounds alternate baseline and OCV, so drift in the shared machine's load falls on
both; figures are the medians of the rounds. Targets: ≥ 0.6× the baseline's throughput and
p99 ≤ 50 ms.

    python -m bench.bench_checkin --pg postgresql+psycopg://postgres@127.0.0.1:5432/ocv_checkin_bench
                                  [--rounds 5] [--seconds 10] [--warmup 5] [--connections 16]
                                  [--workers 4] [--voters 30000]

The `--pg` database is emptied (its public schema dropped). Besides throughput and
latency, each round prints the CPU time the server's processes spent per request and how
many PostgreSQL backends waited, on average, on a lock or on the WAL (commits): where a
side's time goes. OCV runs as deployed with several workers: `OCV_AUDIT_SEQUENCER=process`
and one `ocv audit sequencer` beside gunicorn, its CPU time counted as the server's.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import select
from sqlalchemy.engine import make_url

from audit import keys
from bench.bench_import import election_definition, generate
from bench.checkin_baseline import SCHEMA, TABLE
from ocv import migrate
from ocv.acting import Actor
from ocv.app import create_app
from ocv.auth import service as accounts
from ocv.db import database, make_engine
from ocv.settings import Settings
from polling import service as polling
from registration import service as registry
from registration.imports import service as imports
from registration.models import DuplicateReview, Station, Voter
from tests.scratch import ensure_database

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
LUA = Path(__file__).with_name("checkin.lua")
ELECTION = "BENCH"
OPERATOR = Actor.operator("bench")
PASSWORD = "check-in speed trial 123"  # noqa: S105 (throwaway clerks in a scratch database)
TARGET_RATIO, TARGET_P99_MS = 0.6, 50.0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _libpq(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


# --- the polling day ---------------------------------------------------------------------


def prepare(url: str, instance: Path, voters: int, baseline_voters: int) -> tuple[list[str], list[str]]:
    """A frozen list of `voters` at 26 stations, each open with a clerk and their token;
    the baseline's table of `baseline_voters`. Returns both sides' request lines."""
    settings = Settings(
        env="development", secret_key="b" * 40, key_secret="k" * 40, database_url=url, instance_path=instance
    ).validate()
    engine = make_engine(url)
    with engine.begin() as connection:
        connection.exec_driver_sql("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    migrate.upgrade(engine)
    engine.dispose()
    app = create_app(settings)
    db = database(app)
    csv_path = instance / "voters.csv"
    generate(csv_path, voters, seed=13)
    with db.transaction() as session:
        keys.create_log(session, settings)
        election = registry.load_election(session, OPERATOR, election_definition(voters))
        registry.advance(session, OPERATOR, election, "registration_open")
    with db.transaction() as session, csv_path.open("rb") as stream:
        election = registry.get_election(session, ELECTION)
        imports.import_voters(session, settings, OPERATOR, election, stream, filename=csv_path.name)
    with db.transaction() as session:
        election = registry.get_election(session, ELECTION)
        for review in session.scalars(select(DuplicateReview).where(DuplicateReview.status == "open")):
            registry.resolve_review(session, OPERATOR, review.id, "different", "generated voters")
        registry.advance(session, OPERATOR, election, "exhibition")
        registry.advance(session, OPERATOR, election, "frozen")
        styles = [s.code for s in election.ballot_styles]
        tokens = {}
        for station in election.stations:
            name = f"clerk.{station.code.lower()}"
            user = accounts.create_user(
                session, settings, OPERATOR, username=name, role="clerk", password=PASSWORD,
                station_code=station.code,
            )  # fmt: skip
            session.flush()
            tokens[station.code] = accounts.issue_token(session, OPERATOR, user, "bench desk")
            opening = {"ballots": dict.fromkeys(styles, voters), "seals": ["S-1"], "officials": ["Bench"]}
            polling.open_station(session, OPERATOR, ELECTION, station.code, opening)
        listed = session.execute(
            select(Voter.reg_no, Station.code)
            .join(Station, Station.id == Voter.station_id)
            .where(Voter.election_id == election.id)
        ).all()
    db.engine.dispose()
    ours = [f"{station} {tokens[station]} {reg_no}" for reg_no, station in listed]
    codes = sorted(tokens)
    rows = [(f"B{n:08d}", codes[n % len(codes)], styles[n % len(styles)]) for n in range(baseline_voters)]
    with psycopg.connect(_libpq(url)) as connection:
        connection.execute(SCHEMA)
        with (
            connection.cursor() as cursor,
            cursor.copy(
                f"COPY {TABLE} (reg_no, station_code, ballot_style) FROM STDIN"  # noqa: S608
            ) as copy,
        ):
            for row in rows:
                copy.write_row(row)
        connection.execute(f"ANALYZE {TABLE}")  # noqa: S608
        connection.execute("ANALYZE")
    base = [f"{station} {tokens[station]} {reg_no}" for reg_no, station, _ in rows]
    rng = random.Random(13)
    rng.shuffle(ours)
    rng.shuffle(base)
    return ours, base


# --- the servers -------------------------------------------------------------------------


class Server:
    """gunicorn with the production settings file (config/gunicorn.conf.py) serving `app`,
    and the processes that run beside it in production (`beside`: OCV's audit sequencer),
    whose CPU time counts as the server's."""

    def __init__(
        self, app: str, env: dict[str, str], workers: int, beside: tuple[list[str], ...] = ()
    ) -> None:
        self.port = _free_port()
        env = {**env, "OCV_BIND": f"127.0.0.1:{self.port}", "OCV_WORKERS": str(workers)}
        command = [str(BIN / "gunicorn"), "-c", str(ROOT / "config/gunicorn.conf.py")]
        quiet = {"cwd": ROOT, "env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
        self.process = subprocess.Popen(  # noqa: S603
            [*command, "--access-logfile", "/dev/null", "--error-logfile", "-", app], **quiet
        )
        self.beside = [subprocess.Popen(line, **quiet) for line in beside]  # noqa: S603
        for _ in range(200):
            try:
                urllib.request.urlopen(f"{self.url}/healthz", timeout=2).close()  # noqa: S310
                return
            except OSError as error:
                if getattr(error, "code", None) == 404:  # the baseline has no /healthz: it is up
                    return
                time.sleep(0.1)
        raise RuntimeError(f"{app} did not start")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        """CPU time of the master and its workers (Linux /proc), including recycled workers
        only while they lived: read it before and after a round."""
        total = 0.0
        tick = os.sysconf("SC_CLK_TCK")
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            pid, ppid = int(stat.parent.name), int(fields[1])
            if self.process.pid in (pid, ppid) or pid in self.pids:
                total += (int(fields[11]) + int(fields[12])) / tick
        return total

    @property
    def pids(self) -> set[int]:
        return {process.pid for process in self.beside}

    def stop(self) -> None:
        for process in [self.process, *self.beside]:
            process.terminate()
            process.wait(timeout=30)


class Waits(threading.Thread):
    """Samples pg_stat_activity every 20 ms while a round runs: how many of the database's
    client backends wait on a lock (a row lock: the audit log's head) or on the WAL (a
    commit's flush), on average. Which one a side queues on is why it is slow."""

    SAMPLE = (
        "SELECT count(*) FILTER (WHERE wait_event_type = 'Lock'), "
        "count(*) FILTER (WHERE wait_event_type = 'IO' AND wait_event LIKE 'WAL%%'), "
        "count(*) FILTER (WHERE state = 'active') "
        "FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
    )

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url, self.stop, self.samples = url, threading.Event(), [(0, 0, 0)]

    def run(self) -> None:
        with psycopg.connect(_libpq(self.url), autocommit=True) as connection:
            while not self.stop.wait(0.02):
                row = connection.execute(self.SAMPLE).fetchone()
                if row is not None:
                    self.samples.append((int(row[0]), int(row[1]), int(row[2])))

    def averages(self) -> tuple[float, float, float]:
        n = len(self.samples)
        lock, wal, active = (sum(column) / n for column in zip(*self.samples, strict=True))
        return lock, wal, active


def run_wrk(
    server: Server, lines: list[str], tmp: Path, seconds: float, connections: int, threads: int, url: str
) -> dict[str, Any]:
    data = tmp / f"requests-{server.port}.txt"
    data.write_text("\n".join(lines) + "\n", encoding="ascii")
    cpu = server.cpu_seconds()
    waits = Waits(url)
    waits.start()
    out = subprocess.run(  # noqa: S603
        [
            shutil.which("wrk") or "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds:g}s",
            "--timeout",
            "10s",
            "-s",
            str(LUA),
            server.url,
            "--",
            str(data),
            str(threads),
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    waits.stop.set()
    waits.join()
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    result["lock_waits"], result["wal_waits"], result["active"] = waits.averages()
    result["rate"] = result["created"] / result["seconds"]
    result["cpu_ms"] = (server.cpu_seconds() - cpu) * 1000 / max(result["requests"], 1)
    return result


def _line(name: str, r: dict[str, Any]) -> str:
    extra = f"; {r['other']} not 201" if r["other"] else ""
    extra += "; RAN OUT OF VOTERS" if r["wrapped"] else ""
    extra += f"; {r['socket_errors']} socket errors" if r["socket_errors"] else ""
    return (
        f"    {name:9} {r['rate']:8.1f} check-ins/s  p50 {r['p50_ms']:6.1f} ms  p99 {r['p99_ms']:6.1f} ms"
        f"  server CPU {r['cpu_ms']:5.1f} ms/request  backends waiting: lock {r['lock_waits']:4.1f},"
        f" WAL {r['wal_waits']:4.1f} of {r['active']:4.1f} active{extra}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--pg",
        default=os.environ.get(
            "OCV_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/ocv_checkin_bench"
        ),
        help="a PostgreSQL database to use (its public schema is dropped)",
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--warmup", type=float, default=5, help="seconds of a first round, not counted")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2, help="wrk's threads")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--voters", type=int, default=30_000, help="on OCV's list (each checked in once)")
    parser.add_argument("--baseline-voters", type=int, default=300_000)
    args, _ = parser.parse_known_args()  # `python -m bench` passes every benchmark's options
    if shutil.which("wrk") is None:
        sys.exit("bench_checkin needs wrk: `make bench-tools` (apt-get install wrk)")
    ensure_database(args.pg)
    with tempfile.TemporaryDirectory() as directory:
        tmp = Path(directory)
        started = time.perf_counter()
        ours_lines, base_lines = prepare(args.pg, tmp, args.voters, args.baseline_voters)
        print(
            f"  {len(ours_lines):,} voters at 26 stations, frozen and open "
            f"({time.perf_counter() - started:.0f} s to prepare)",
            flush=True,
        )
        env = {
            **os.environ,
            "OCV_ENV": "production",
            "OCV_SECRET_KEY": secrets.token_urlsafe(40),
            "OCV_KEY_SECRET": secrets.token_urlsafe(40),
            "OCV_DATABASE_URL": args.pg,
            "OCV_INSTANCE_PATH": str(tmp),
            "OCV_JSON_LOGS": "0",
        }
        # As deployed with several workers (README, "Deployment"): the audit log's entries
        # are integrated by one `ocv audit sequencer`, not by each request after its commit.
        production = {**env, "OCV_AUDIT_SEQUENCER": "process", "FLASK_APP": "wsgi:app"}
        ours_server = Server(
            "wsgi:app", production, args.workers, beside=([str(BIN / "ocv"), "audit", "sequencer"],)
        )
        base_server = Server("bench.checkin_baseline:app", env, args.workers)
        ours: list[dict[str, Any]] = []
        base: list[dict[str, Any]] = []
        # Each side's voters in rounds + 1 slices (the first warms up), none checked in twice.
        ours_slices = [ours_lines[i :: args.rounds + 1] for i in range(args.rounds + 1)]
        base_slices = [base_lines[i :: args.rounds + 1] for i in range(args.rounds + 1)]
        try:
            for i in range(args.rounds + 1):
                warm = i == 0
                seconds = args.warmup if warm else args.seconds
                b = run_wrk(
                    base_server, base_slices[i], tmp, seconds, args.connections, args.threads, args.pg
                )
                o = run_wrk(
                    ours_server, ours_slices[i], tmp, seconds, args.connections, args.threads, args.pg
                )
                print(f"  round {i}{' (warm-up, not counted)' if warm else ''}:", flush=True)
                print(_line("baseline", b), flush=True)
                print(_line("OCV", o), flush=True)
                if not warm:
                    base.append(b)
                    ours.append(o)
        finally:
            ours_server.stop()
            base_server.stop()

    def median(rows: list[dict[str, Any]], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    rate, base_rate = median(ours, "rate"), median(base, "rate")
    p50, p99 = median(ours, "p50_ms"), median(ours, "p99_ms")
    print(
        f"check-ins via API, PostgreSQL, gunicorn {args.workers} workers, {args.connections} connections, "
        f"median of {args.rounds} rounds of {args.seconds:g} s:"
    )
    print(
        f"    throughput  OCV {rate:8.1f}/s   baseline {base_rate:8.1f}/s   ratio "
        f"{rate / base_rate:5.2f}  (target ≥ {TARGET_RATIO})"
    )
    print(
        f"    p50         OCV {p50:8.1f} ms  baseline {median(base, 'p50_ms'):8.1f} ms  ratio "
        f"{p50 / median(base, 'p50_ms'):5.2f}"
    )
    print(
        f"    p99         OCV {p99:8.1f} ms  baseline {median(base, 'p99_ms'):8.1f} ms  ratio "
        f"{p99 / median(base, 'p99_ms'):5.2f}  (target OCV ≤ {TARGET_P99_MS:g} ms)"
    )
    print(
        f"    server CPU  OCV {median(ours, 'cpu_ms'):8.1f} ms  baseline {median(base, 'cpu_ms'):8.1f} ms"
        "  per request (gunicorn master and workers, and OCV's audit sequencer;"
        " PostgreSQL and wrk not counted)"
    )
    print(
        f"    waiting     OCV {median(ours, 'lock_waits'):4.1f} on a lock, "
        f"{median(ours, 'wal_waits'):4.1f} on the WAL; baseline {median(base, 'lock_waits'):4.1f} on a lock, "
        f"{median(base, 'wal_waits'):4.1f} on the WAL (client backends, average)"
    )
    refused = sum(r["other"] + r["socket_errors"] for r in ours + base)
    if refused:
        print(f"    WARNING: {refused} requests were not 201: see the rounds above")


if __name__ == "__main__":
    main()
