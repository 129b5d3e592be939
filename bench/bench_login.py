"""How long a refused sign-in takes: a wrong password and a locked-out address beside an
unknown user name (the baseline), with production's Argon2id cost, on SQLite.

The three must take the same time, or the time would tell which user names exist and
which are locked. Cases are measured in turns (one of each per round), so drift in the
shared machine's load falls on all three alike.

    python -m bench.bench_login [--repeat 15]
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

from audit import keys as audit_keys
from bench.common import report
from ocv import migrate
from ocv.acting import Actor
from ocv.app import create_app
from ocv.auth import service as accounts
from ocv.auth.models import LoginFailure
from ocv.db import database, utcnow
from ocv.settings import Settings

BENCH = Actor.operator("bench")  # the console, as the benchmark acts

PASSWORD = "bench passphrase 12345"  # noqa: S105 (a throwaway account in a temporary database)
ADDRESS = "192.0.2.1"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=15)
    args, _ = parser.parse_known_args()  # `python -m bench` passes every benchmark's options
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            env="test",
            secret_key="bench-secret-" + "x" * 32,
            key_secret="bench-key-secret-" + "y" * 32,
            database_url=f"sqlite:///{Path(tmp) / 'bench.sqlite'}",
            instance_path=Path(tmp),
            ratelimit_storage_url="memory://",
        ).validate()  # Argon2id at its production cost: the class defaults
        app = create_app(settings)
        db = database(app)
        migrate.upgrade(db.engine)
        with db.transaction() as session:
            audit_keys.create_log(session, settings)
            for name in ("wrong", "locked"):
                accounts.create_user(
                    session, settings, BENCH, username=name, role="observer", password=PASSWORD
                )
            session.flush()
            locked = accounts.get_user(session, "locked")
            session.add(
                LoginFailure(
                    user_id=locked.id,
                    address=ADDRESS,
                    failures=0,
                    last_failed_at=utcnow(),
                    locked_until=utcnow() + dt.timedelta(days=1),
                )
            )

        def attempt(username: str, password: str) -> float:
            with db.sessionmaker() as session:
                start = time.perf_counter()
                outcome = accounts.authenticate(session, settings, username, password, ADDRESS)
                elapsed = time.perf_counter() - start
                session.rollback()  # failures never add up to a lock
            assert not outcome.ok
            return elapsed

        cases = {
            "unknown user name": ("nobody", PASSWORD),
            "wrong password": ("wrong", "not the password"),
            "locked out, right password": ("locked", PASSWORD),
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.repeat):
            for name, (username, password) in cases.items():
                times[name].append(attempt(username, password))
        baseline = statistics.median(times["unknown user name"]) * 1000
        for name in cases:
            value = statistics.median(times[name]) * 1000
            report(f"sign-in refused: {name}", value, "ms", baseline, value / baseline, "1.00 ± 0.10")
        db.engine.dispose()


if __name__ == "__main__":
    main()
