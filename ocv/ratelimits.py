"""Rate-limit counters in the database, shared by every worker and every app server.

Flask-Limiter keeps its counters in a `limits` storage; the default one, in memory, counts
per worker process, so four workers would allow four times the limit. This storage keeps
fixed-window counters in the `rate_limits` table of the application's own database
(PostgreSQL in production, which is there already; with SQLite, in a file beside it), one
upsert per counted request. Keys name client addresses and registration numbers, so only
their SHA-256 is stored.

`OCV_RATELIMIT_STORAGE_URL` may name another `limits` storage instead (`redis://...`).
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

from limits.storage import Storage
from sqlalchemy import Float, Integer, String, delete, make_url, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from ocv.db import Base, make_engine

SCHEME = "ocv-database"
URL = f"{SCHEME}://"
# Expired counters are deleted now and then, by the request that happens to count.
SWEEP_EVERY = 1000


class RateLimitCounter(Base):
    __tablename__ = "rate_limits"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the limit's key
    hits: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[float] = mapped_column(Float, index=True)  # Unix time


# One statement counts a hit and starts a new window when the last one has ended; the row
# lock of the upsert orders concurrent hits (PostgreSQL 9.5+, SQLite 3.35+).
_INCREMENT = text(
    """
    INSERT INTO rate_limits (key, hits, expires_at) VALUES (:key, :amount, :now + :expiry)
    ON CONFLICT (key) DO UPDATE SET
        hits = CASE WHEN rate_limits.expires_at <= :now THEN :amount
                    ELSE rate_limits.hits + :amount END,
        expires_at = CASE WHEN rate_limits.expires_at <= :now THEN :now + :expiry
                          ELSE rate_limits.expires_at END
    RETURNING hits
    """
)


def _hashed(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class DatabaseStorage(Storage):
    """A `limits` storage (fixed windows) in the application's database."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: Any) -> None:
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        url = make_url(str(options["database_url"]))
        if url.get_backend_name() == "sqlite" and url.database:
            # A file of its own beside the database: a request may hold SQLite's one write
            # lock on the database when a limit on its view is counted.
            own = Path(url.database).with_suffix(".ratelimits.sqlite")
            self.engine = make_engine(url.set(database=str(own)).render_as_string(hide_password=False))
            Base.metadata.tables[RateLimitCounter.__tablename__].create(self.engine, checkfirst=True)
            self.engine.dispose()  # no connection inherited by forked workers
        else:
            self.engine = make_engine(url.render_as_string(hide_password=False))
        self.counted = 0

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        now = time.time()
        with self.engine.begin() as connection:
            hits = connection.execute(
                _INCREMENT, {"key": _hashed(key), "amount": amount, "now": now, "expiry": expiry}
            ).scalar_one()
            self.counted += 1
            if self.counted % SWEEP_EVERY == 0:
                connection.execute(delete(RateLimitCounter).where(RateLimitCounter.expires_at <= now))
        return int(hits)

    def _row(self, key: str) -> tuple[int, float] | None:
        with self.engine.connect() as connection:
            row = connection.execute(
                select(RateLimitCounter.hits, RateLimitCounter.expires_at).where(
                    RateLimitCounter.key == _hashed(key), RateLimitCounter.expires_at > time.time()
                )
            ).first()
        return (int(row[0]), float(row[1])) if row else None

    def get(self, key: str) -> int:
        row = self._row(key)
        return row[0] if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._row(key)
        return row[1] if row else time.time()

    def check(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with self.engine.begin() as connection:
            return connection.execute(delete(RateLimitCounter)).rowcount

    def clear(self, key: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(RateLimitCounter).where(RateLimitCounter.key == _hashed(key)))
