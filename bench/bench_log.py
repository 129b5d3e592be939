"""Audit log benchmarks: append rate, proof latency at 1M entries (SQLite, PostgreSQL), and
check-ins with their entry from concurrent processes (PostgreSQL).

Each figure is printed beside the baseline measured in the same run: for appends and
proofs, a plain hashlib loop computing the RFC 9162 root of the same leaves; for
concurrent check-ins, the same transactions without the append.

    python -m bench.bench_log [--appends 20000] [--size 1000000] [--pg URL] [--seconds 5]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, text, update
from sqlalchemy.orm import sessionmaker

from audit import keys, merkle, sequencer, service
from audit.models import LogHead, MerkleHash
from bench.common import baseline_root, median_seconds, report
from ocv import migrate
from ocv.app import create_app
from ocv.db import make_engine
from ocv.settings import Settings

PAYLOAD = {"username": "clerk.deber01"}


def _settings(url: str, instance: Path) -> Settings:
    return Settings(
        env="development", secret_key="b" * 40, key_secret="k" * 40, database_url=url, instance_path=instance
    ).validate()


def _fresh(url: str, instance: Path) -> Engine:
    settings = _settings(url, instance)
    if url.startswith("sqlite:///"):
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
    create_app(settings)  # registers the event types
    engine = make_engine(url)
    if engine.dialect.name == "postgresql":
        with engine.begin() as connection:  # a clean slate: the bench owns this database
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    migrate.upgrade(engine)
    with sessionmaker(bind=engine)() as session, session.begin():
        keys.create_log(session, settings)
    return engine


def bench_appends(url: str, instance: Path, n: int, per_transaction: int) -> float:
    """Entries recorded and integrated per second: each transaction's entries are integrated
    just after its commit, as the embedded default does (`sequencer.after_commit`)."""
    engine = _fresh(url, instance)
    factory = sessionmaker(bind=engine)
    start = time.perf_counter()
    for _ in range(n // per_transaction):
        with factory() as session:
            with session.begin():
                for _ in range(per_transaction):
                    service.append(
                        session,
                        "auth.login",
                        {"user": "clerk", "role": "clerk"},
                        {"station": "DE-BER-01"},
                        PAYLOAD,
                    )
            sequencer.after_commit(factory, session.info)
    elapsed = time.perf_counter() - start
    with factory() as session:
        assert service.size(session) == n + 1, "every entry integrated"
    engine.dispose()
    return n / elapsed


def _synthetic_leaves(n: int) -> list[bytes]:
    return [
        b'{"actor":null,"payload":{"username":"u%d"},"scope":{},"seq":%d,"time":'
        b'"2027-04-17T08:00:00.000000Z","type":"auth.login","v":1}' % (i, i)
        for i in range(n)
    ]


def build_tree(url: str, instance: Path, leaves: list[bytes]) -> Engine:
    """A log of len(leaves) entries' stored hashes, bulk-loaded (entries are not needed for proofs)."""
    engine = _fresh(url, instance)
    stored: list[bytes] = []

    def read(indexes: list[int]) -> list[bytes]:
        return [stored[i] for i in indexes]

    for n, leaf in enumerate(leaves):
        stored.extend(merkle.stored_hashes_for_record(n, merkle.leaf_hash(leaf), read))
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_hashes"))
        if engine.dialect.name == "postgresql":
            cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
            with cursor.copy("COPY audit_hashes (index, hash) FROM STDIN") as copy:
                for index, h in enumerate(stored):
                    copy.write_row((index, h))
        else:
            batch = 50_000
            for start in range(0, len(stored), batch):
                connection.execute(
                    insert(MerkleHash),
                    [{"index": start + i, "hash": h} for i, h in enumerate(stored[start : start + batch])],
                )
        connection.execute(update(LogHead).where(LogHead.id == 1).values(size=len(leaves)))
    return engine


def bench_proofs(engine: Engine, size: int, samples: int) -> tuple[float, float]:
    factory = sessionmaker(bind=engine)
    rng = random.Random(7)
    inclusion, consistency = [], []
    with factory() as session:
        for _ in range(samples):
            index = rng.randrange(size)
            start = time.perf_counter()
            service.inclusion_proof(session, index, size)
            inclusion.append(time.perf_counter() - start)
            old = rng.randrange(1, size)
            start = time.perf_counter()
            service.consistency_proof(session, old, size)
            consistency.append(time.perf_counter() - start)
    return statistics.median(inclusion) * 1000, statistics.median(consistency) * 1000


# --- concurrent check-ins (issue 10): P processes, one conditional UPDATE per transaction ---

VOTERS = 2_000_000
CHECK_IN = "UPDATE bench_voters SET voted = true WHERE id = :i AND NOT voted"


def _voters(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("DROP TABLE IF EXISTS bench_voters"))
        connection.execute(text("CREATE TABLE bench_voters (id bigint PRIMARY KEY, voted boolean NOT NULL)"))
        connection.execute(
            text("INSERT INTO bench_voters SELECT i, false FROM generate_series(1, :n) AS i"), {"n": VOTERS}
        )
        connection.execute(text("ANALYZE bench_voters"))


def _desk(
    url: str, instance: str, first: int, append: bool, inline: bool, go: Any, seconds: float, out: Any
) -> None:
    """One process checking voters in from `first` on until `seconds` after `start`: the
    latency of each transaction, and (id, commit time) of each entry recorded."""
    create_app(_settings(url, Path(instance)))  # registers the event types
    engine = make_engine(url)
    factory = sessionmaker(bind=engine)
    latencies, commits = [], []
    voter = first
    with factory() as session:  # connect before the clock starts
        session.execute(text("SELECT 1"))
    out.put("ready")
    go.wait()
    end = time.time() + seconds
    while time.time() < end:
        began = time.perf_counter()
        with factory() as session:
            with session.begin():
                session.execute(text(CHECK_IN), {"i": voter})
                if append:
                    recorded = service.append(
                        session,
                        "auth.login",
                        {"user": "clerk", "role": "clerk"},
                        {"station": "DE-BER-01"},
                        PAYLOAD,
                    )
            committed = time.time()
            latencies.append(time.perf_counter() - began)
            if append:
                commits.append((recorded.id, committed))
            if inline:
                sequencer.after_commit(factory, session.info)
        voter += 1
    engine.dispose()
    out.put((latencies, commits))


def _sequencer_process(url: str, stop: Any) -> None:
    engine = make_engine(url)
    sequencer.run(sessionmaker(bind=engine), idle=0.05, stop=stop.is_set)  # the CLI default
    engine.dispose()


@dataclass
class Run:
    rate: float
    p50: float  # ms
    p99: float
    delay_p50: float = 0.0
    delay_p99: float = 0.0


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def run_desks(
    url: str, instance: Path, processes: int, first: int, seconds: float, *, append: bool, mode: str = "none"
) -> Run:
    """`processes` desks for `seconds`; mode "process" runs `ocv audit sequencer`'s loop
    beside them, "inline" integrates after each commit."""
    context = multiprocessing.get_context("fork")
    out = context.Queue()
    stop = context.Event()
    helper = context.Process(target=_sequencer_process, args=(url, stop)) if mode == "process" else None
    if helper:
        helper.start()
    go = context.Event()
    desks = [
        context.Process(
            target=_desk,
            args=(
                url,
                str(instance),
                first + d * 200_000 // processes,
                append,
                mode == "inline",
                go,
                seconds,
                out,
            ),
        )
        for d in range(processes)
    ]
    for desk in desks:
        desk.start()
    for _ in desks:
        assert out.get() == "ready"
    go.set()
    results = [out.get() for _ in desks]
    for desk in desks:
        desk.join()
    engine = make_engine(url)
    factory = sessionmaker(bind=engine)
    if helper:
        time.sleep(0.2)
        stop.set()
        helper.join()
    latencies = [x for lat, _ in results for x in lat]
    run = Run(
        len(latencies) / seconds, _percentile(latencies, 0.5) * 1000, _percentile(latencies, 0.99) * 1000
    )
    commits = dict(c for _, cs in results for c in cs)
    if commits:
        with factory() as session, session.begin():
            sequencer.integrate(session)  # any left (none are, unless the sequencer fell behind)
            rows = session.execute(
                text("SELECT recorded_id, time FROM audit_entries WHERE recorded_id >= :low"),
                {"low": min(commits)},
            ).all()
        delays = [t.timestamp() - commits[rid] for rid, t in rows if rid in commits]
        assert len(delays) == len(commits), "every committed entry was integrated"
        run.delay_p50 = _percentile(delays, 0.5) * 1000
        run.delay_p99 = _percentile(delays, 0.99) * 1000
    engine.dispose()
    return run


def bench_concurrent(url: str, instance: Path, seconds: float, repeat: int) -> None:
    engine = _fresh(url, instance)
    _voters(engine)
    engine.dispose()
    first = 1
    print(
        f"{'check-ins, PostgreSQL':28} {'P':>3} {'txn/s':>8} {'p50 ms':>7} {'p99 ms':>7} "
        f"{'delay p50':>9} {'delay p99':>9} {'× rate':>7} {'× p99':>6}"
    )
    for processes in (1, 4, 16):
        runs: dict[str, list[Run]] = {"without append": [], "append, sequencer": [], "append, inline": []}
        for _ in range(repeat):
            for name, append, mode in (
                ("without append", False, "none"),
                ("append, sequencer", True, "process"),
                ("append, inline", True, "inline"),
            ):
                runs[name].append(
                    run_desks(url, instance, processes, first, seconds, append=append, mode=mode)
                )
                first += 200_000
        base = _median_run(runs["without append"])
        for name, each in runs.items():
            m = _median_run(each)
            print(
                f"{name:28} {processes:>3} {m.rate:8,.0f} {m.p50:7.1f} {m.p99:7.1f} "
                f"{m.delay_p50:9.1f} {m.delay_p99:9.1f} {m.rate / base.rate:7.2f} {m.p99 / base.p99:6.2f}"
                + (
                    ""
                    if name == "without append"
                    else "  (target ≥ 0.60× rate, ≤ 2× p99, delay p99 ≤ 1000 ms)"
                )
            )
            print(
                f"{'':28}     runs: "
                + ", ".join(f"{r.rate:,.0f}/s p99 {r.p99:.0f} ms d99 {r.delay_p99:.0f} ms" for r in each)
            )


def _median_run(runs: list[Run]) -> Run:
    return Run(
        statistics.median(r.rate for r in runs),
        statistics.median(r.p50 for r in runs),
        statistics.median(r.p99 for r in runs),
        statistics.median(r.delay_p50 for r in runs),
        statistics.median(r.delay_p99 for r in runs),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--appends", type=int, default=20_000)
    parser.add_argument("--size", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--pg",
        default=os.environ.get("OCV_BENCH_DATABASE_URL"),
        help="a PostgreSQL database to use (its audit tables are dropped)",
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each concurrent check-in run")
    parser.add_argument(
        "--only", choices=("appends", "proofs", "concurrent"), help="run one part of the benchmark only"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp)
        if args.only == "concurrent" or (args.only is None and args.pg):
            if not args.pg:
                parser.error("the concurrent check-ins need --pg")
            bench_concurrent(args.pg, instance, args.seconds, args.repeat)
            if args.only:
                return
        targets = [("SQLite", f"sqlite:///{instance / 'bench.sqlite'}")]
        if args.pg:
            targets.append(("PostgreSQL", args.pg))

        leaves = _synthetic_leaves(args.appends)
        base_rate = args.appends / median_seconds(lambda: baseline_root(leaves), args.repeat)
        for name, url in targets if args.only in (None, "appends") else []:
            for per in (1, 100):
                rates = [bench_appends(url, instance, args.appends, per) for _ in range(args.repeat)]
                rate = statistics.median(rates)
                report(
                    f"append, {name}, {per}/transaction",
                    rate,
                    "entries/s",
                    base_rate,
                    rate / base_rate,
                    "≥ 5,000/s on SQLite",
                )

        if args.only not in (None, "proofs"):
            return
        big = _synthetic_leaves(args.size)
        base_seconds = median_seconds(lambda: baseline_root(big), args.repeat)
        for name, url in targets:
            engine = build_tree(url, instance, big)
            inclusion_ms, consistency_ms = bench_proofs(engine, args.size, args.samples)
            engine.dispose()
            base_ms = base_seconds * 1000
            report(
                f"inclusion proof at {args.size:,}, {name}",
                inclusion_ms,
                "ms",
                base_ms,
                base_ms / inclusion_ms,
                "≤ 1 ms; ratio = root-by-hashing time / proof time",
            )
            report(
                f"consistency proof at {args.size:,}, {name}",
                consistency_ms,
                "ms",
                base_ms,
                base_ms / consistency_ms,
                "≤ 1 ms",
            )


if __name__ == "__main__":
    main()
