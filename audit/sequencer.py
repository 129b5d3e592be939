"""The sequencer: gives pending entries their place in the log (docs/architecture.md, "The
audit log's sequencer"; docs/specs/audit-log-format.md, "Order").

Appenders record entries in their own transactions (`audit.service.append`) without a
lock anyone waits on. The sequencer, alone holding the log head, takes the committed
pending entries in batches, in the order of their ids, gives them the next `seq` numbers
and one `time` per batch (never before the last entry's), writes their leaf bytes and
stored subtree hashes, and deletes them from the queue, in one short transaction: killed
half way, it leaves the queue as it was, and the next sequencer resumes.

- One at a time: PostgreSQL's transaction-scoped advisory lock `LOCK_KEY`; on SQLite, the
  write lock every transaction takes up front (ocv.db).
- Causal order: an entry's id comes from a sequence when it is recorded; if a transaction
  committed before another recorded its entry, the second's id is larger, and no snapshot
  sees the second committed without the first. So every batch holds the first's entry no
  later than the second's, before it in id order.
- Who runs it: the committing request or command, just after its commit, when no other
  sequencer holds the lock (`after_commit`; the embedded default); the checkpoint issuer,
  before it signs; or `ocv audit sequencer` (`run`) for production.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from audit import merkle
from audit.service import (
    RECORDED,
    Body,
    Recorded,
    _driver_cursor,
    _LogSQL,
    _reader,
    entry_body,
    format_time,
    leaf_bytes,
    parse_time,
    seq_of,
)
from ocv.errors import InvalidState

log = logging.getLogger(__name__)

LOCK_KEY = 0x6F63762E6C6F67  # "ocv.log": the PostgreSQL advisory lock only the sequencer takes
BATCH = 2000  # pending entries read and written per round trip
LOG_CREATED = "audit.log_created"
AFTER_COMMIT_PATIENCE = 2.0  # seconds a committing request waits for a busy sequencer, at most

# A pending row as the sequencer reads it: id, then the columns of `Body`.
_Pending = tuple[int | None, Body]


def lock(session: Session, *, wait: bool = True) -> bool:
    """Take the sequencer's lock for the rest of the session's transaction; False if
    `wait` is false and another sequencer holds it."""
    connection = session.connection()
    if connection.dialect.name != "postgresql":
        return True  # SQLite: the transaction holds the database's write lock already
    if wait:
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        return True
    got = connection.execute(text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": LOCK_KEY}).scalar()
    return bool(got)


def integrate(session: Session, *, wait: bool = True, limit: int | None = None) -> int | None:
    """Integrate the pending entries the session's transaction sees, oldest id first, in
    that transaction (whose commit publishes them); at most `limit` if given. Returns how
    many, or None when `wait` is false and another sequencer holds the lock. Nothing is
    integrated before the log's first entry (`audit.log_created`) exists."""
    if not lock(session, wait=wait):
        return None
    connection = session.connection()
    size, last_time = _head(connection)
    if size == 0:
        return 0
    done = 0
    while limit is None or done < limit:
        batch = BATCH if limit is None else min(BATCH, limit - done)
        rows = _pending(connection, batch)
        if rows:
            size, last_time = _write(connection, size, last_time, rows)
            done += len(rows)
        if len(rows) < batch:
            break
    return done


def append_now(
    session: Session,
    type: str,
    actor: Mapping[str, str] | None,
    scope: Mapping[str, str],
    payload: Mapping[str, Any] | Callable[[], Mapping[str, Any]],
) -> int:
    """Write an entry straight into the log, in the caller's transaction, and return its
    seq: for the few entries whose seq their own change needs (the log's creation, a key's
    registration and revocation) or whose payload describes the log before it (a state
    digest counts the entries before it: give `payload` as a function, called once every
    pending entry is integrated). It holds the sequencer's lock until the caller's
    transaction ends, so it is for rare events, never a hot path."""
    lock(session)
    connection = session.connection()
    if _head(connection)[0] > 0:
        integrate(session)
    elif type != LOG_CREATED:
        raise InvalidState("The audit log has not been created: run `ocv db upgrade`.")
    size, last_time = _head(connection)
    body = entry_body(type, actor, scope, payload() if callable(payload) else payload)
    _write(connection, size, last_time, [(None, body)])
    return size


def wait_for_seq(
    sessions: Callable[[], Session], recorded: Recorded, timeout: float = 5.0, poll: float = 0.02
) -> int:
    """The seq of a committed entry, integrating it if no other sequencer is at work, else
    waiting for it: InvalidState after `timeout` seconds (a rolled-back entry never gets
    one). Each try is a transaction of its own, from `sessions`."""
    deadline = time.monotonic() + timeout
    while True:
        with sessions() as session, session.begin():
            integrate(session, wait=False)
            seq = seq_of(session, recorded)
        if seq is not None:
            return seq
        if time.monotonic() >= deadline:
            raise InvalidState(f"Entry {recorded.id} was not integrated within {timeout:g} s.")
        time.sleep(poll)


def after_commit(sessions: Callable[[], Session], info: dict[str, Any]) -> None:
    """Integrate what a transaction recorded, just after it committed (the embedded default,
    `OCV_AUDIT_SEQUENCER=inline`). When another sequencer holds the lock, try again shortly,
    until our entries are in (its batch may have begun before our commit) or for
    `AFTER_COMMIT_PATIENCE` seconds at most. A failure here loses nothing (the entries wait
    in the queue for the next sequencer), so it is logged, never raised to the committed
    request."""
    last = info.pop(RECORDED, None)
    if last is None:
        return
    deadline = time.monotonic() + AFTER_COMMIT_PATIENCE
    try:
        while True:
            with sessions() as session, session.begin():
                if integrate(session, wait=False) is not None:
                    return
                if seq_of(session, Recorded(last)) is not None:
                    return
            if time.monotonic() >= deadline:
                log.warning("entry %d still pending: left to the next sequencer", last)
                return
            time.sleep(0.002)
    except Exception:
        log.exception("integrating the audit log after a commit failed; the entries stay queued")


def run(
    sessions: Callable[[], Session],
    *,
    idle: float = 0.05,
    batch: int = 10 * BATCH,
    stop: Callable[[], bool] = lambda: False,
) -> None:
    """`ocv audit sequencer`: integrate in transactions of at most `batch` entries, and
    look again after `idle` seconds whenever the queue is empty."""
    while not stop():
        with sessions() as session, session.begin():
            done = integrate(session, limit=batch)
        if done:
            log.debug("integrated %d entries", done)
        if not done or done < batch:
            time.sleep(idle)


# --- the writing --------------------------------------------------------------------------


def _head(connection: Connection) -> tuple[int, str]:
    with _driver_cursor(connection) as cursor:
        cursor.execute(_LogSQL.of(connection.dialect).head)
        head = cursor.fetchone()
    if head is None:
        raise InvalidState("The audit log has not been created: run `ocv db upgrade`.")
    return int(head[0]), str(head[1])


def _pending(connection: Connection, limit: int) -> list[_Pending]:
    with _driver_cursor(connection) as cursor:
        cursor.execute(_LogSQL.of(connection.dialect).pending, (limit,))
        return [(row[0], Body(row[1], row[2], row[3], row[4], row[5], bytes(row[6]))) for row in cursor]


def _write(connection: Connection, size: int, last_time: str, rows: Sequence[_Pending]) -> tuple[int, str]:
    """Give `rows` seqs from `size` on and one time, write their leaves and stored hashes,
    delete them from the queue and move the head: the new (size, last time)."""
    sql = _LogSQL.of(connection.dialect)
    # One time for the batch, never before the last entry's: times never go back.
    now = max(format_time(dt.datetime.now(dt.UTC)), last_time)
    bound_time = sql.time(parse_time(now))
    # Every hash the batch's appends read that they did not write is a root of the tree
    # as it stands: one query.
    frontier = merkle.frontier_indexes(size)
    written = dict(zip(frontier, _reader(connection)(frontier), strict=True))
    read = _reader(connection, written)
    entries: list[tuple[Any, ...]] = []
    hashes: list[tuple[int, bytes]] = []
    for seq, (recorded_id, body) in enumerate(rows, size):
        leaf = leaf_bytes(body.body, seq, now)
        new = merkle.stored_hashes_for_record(seq, merkle.leaf_hash(leaf), read)
        first = merkle.stored_hash_count(seq)
        written.update(enumerate(new, first))
        hashes.extend(enumerate(new, first))
        entries.append(
            (
                seq,
                bound_time,
                body.type,
                body.actor,
                body.election,
                body.station,
                body.country,
                leaf,
                recorded_id,
            )
        )
    with _driver_cursor(connection) as cursor:
        cursor.executemany(sql.entry, entries)
        cursor.executemany(sql.hashes, hashes)
        ids = [(recorded_id,) for recorded_id, _ in rows if recorded_id is not None]
        if ids:
            cursor.executemany(sql.delete, ids)
        size += len(rows)
        cursor.execute(sql.move_head, (size, now))
    return size, now
