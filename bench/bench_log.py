"""Audit log benchmarks: append rate, and proof latency at 1M entries (SQLite, PostgreSQL).

Each figure is printed beside the baseline measured in the same run: a plain hashlib
loop computing the RFC 9162 root of the same leaves.

    python -m bench.bench_log [--appends 20000] [--size 1000000] [--pg URL]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from sqlalchemy import Engine, insert, text, update
from sqlalchemy.orm import sessionmaker

from audit import keys, merkle, service
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
    engine = _fresh(url, instance)
    factory = sessionmaker(bind=engine)
    start = time.perf_counter()
    for _ in range(n // per_transaction):
        with factory() as session, session.begin():
            for _ in range(per_transaction):
                service.append(
                    session,
                    "auth.login",
                    {"user": "clerk", "role": "clerk"},
                    {"station": "DE-BER-01"},
                    PAYLOAD,
                )
    elapsed = time.perf_counter() - start
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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp)
        targets = [("SQLite", f"sqlite:///{instance / 'bench.sqlite'}")]
        if args.pg:
            targets.append(("PostgreSQL", args.pg))

        leaves = _synthetic_leaves(args.appends)
        base_rate = args.appends / median_seconds(lambda: baseline_root(leaves), args.repeat)
        for name, url in targets:
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
