"""The audit log: append inside the caller's transaction, read entries, prove.

`append` is the only way to write. It serializes on the `audit_head` row (a row lock
on PostgreSQL, the write lock on SQLite), so sequence numbers have no gaps or
duplicates across workers, and stores the leaf bytes and the new subtree hashes in
the caller's transaction: if that rolls back, the entry is gone too.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Dialect, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from audit import jcs, merkle
from audit.models import Entry, LogHead
from ocv import events
from ocv.errors import InvalidState, NotFound, ValidationError

FORMAT_VERSION = 1
SCOPE_KEYS = ("election", "station", "country")
MAX_ENTRIES_PER_PAGE = 1000


def format_time(moment: dt.datetime) -> str:
    """RFC 3339 UTC with microseconds; fixed width, so text order is time order
    (isoformat: strftime costs an append ~10 µs)."""
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds").removesuffix("+00:00") + "Z"


def parse_time(text: str) -> dt.datetime:
    """A time that `format_time` wrote (fromisoformat: strptime costs an append ~8 µs)."""
    return dt.datetime.fromisoformat(text)


@dataclass(frozen=True)
class _LogSQL:
    """The append's three statements, and the read of stored hashes, as the driver's own
    SQL, built once per dialect and run on the driver's cursor (`_driver_cursor`): appends
    are on every check-in's path, and SQLAlchemy's statement execution would cost them
    almost half their time, a proof a third of its. Values go in as the driver takes them."""

    bump: str  # lock the head row: size and the last time move together
    entry: str
    hashes: str
    read: str  # the stored hashes at the indexes of a JSON array (one parameter, any length)
    time: Callable[[dt.datetime], Any]  # an entry's time, as the `time` column binds it

    @staticmethod
    @functools.cache
    def of(dialect: Dialect) -> _LogSQL:
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        index = dialect.identifier_preparer.quote("index")
        bind = Entry.__table__.c.time.type.dialect_impl(dialect).bind_processor(dialect)
        later = f"CASE WHEN last_time > {mark} THEN last_time ELSE {mark} END"
        head = f"size = size + 1, last_time = {later}"
        columns = "seq, time, type, actor, election, station, country, leaf"
        indexes = (
            "SELECT value::bigint FROM json_array_elements_text(%s::json)"
            if dialect.name == "postgresql"
            else "SELECT value FROM json_each(?)"
        )
        return _LogSQL(
            bump=f"UPDATE audit_head SET {head} WHERE id = 1 RETURNING size, last_time",  # noqa: S608 (no data)
            entry=f"INSERT INTO audit_entries ({columns}) VALUES ({', '.join([mark] * 8)})",  # noqa: S608 (no data)
            hashes=f"INSERT INTO audit_hashes ({index}, hash) VALUES ({mark}, {mark})",  # noqa: S608 (no data)
            read=f"SELECT {index}, hash FROM audit_hashes WHERE {index} IN ({indexes})",  # noqa: S608 (no data)
            time=bind or (lambda moment: moment),
        )


_WRITTEN = "audit.written"  # session.info key of `_written`
_WRITTEN_MAX = 100_000  # hashes remembered per transaction, at most


def append(
    session: Session,
    type: str,
    actor: Mapping[str, str] | None,
    scope: Mapping[str, str],
    payload: Mapping[str, Any],
) -> int:
    """Append one entry and return its sequence number."""
    event_type = events.REGISTRY.get(type)
    if event_type is None:
        raise ValueError(f"unregistered audit event type {type!r}")
    event_type.check(payload)
    unknown_scope = set(scope) - set(SCOPE_KEYS)
    if unknown_scope:
        raise ValueError(f"unknown scope members {sorted(unknown_scope)}")
    clean_scope = {k: v for k, v in scope.items() if v is not None}
    connection = session.connection()
    sql = _LogSQL.of(connection.dialect)
    now = format_time(dt.datetime.now(dt.UTC))
    with _driver_cursor(connection) as cursor:
        # The head row is the lock: size and the last time move together, so times never go back.
        cursor.execute(sql.bump, (now, now))
        head = cursor.fetchone()
        if head is None:
            raise InvalidState("The audit log has not been created: run `ocv db upgrade`.")
        seq, time = head[0] - 1, head[1]
        entry = {
            "v": FORMAT_VERSION,
            "seq": seq,
            "time": time,
            "type": type,
            "actor": dict(actor) if actor else None,
            "scope": clean_scope,
            "payload": payload,
        }
        leaf = jcs.canonical_form(entry)
        cursor.execute(
            sql.entry,
            (
                seq,
                sql.time(parse_time(time)),
                type,
                actor["user"] if actor else None,
                clean_scope.get("election"),
                clean_scope.get("station"),
                clean_scope.get("country"),
                leaf,
            ),
        )
        written = _written(session)
        read = _reader(connection, written)
        new_hashes = merkle.stored_hashes_for_record(seq, merkle.leaf_hash(leaf), read)
        first = merkle.stored_hash_count(seq)
        cursor.executemany(sql.hashes, list(enumerate(new_hashes, first)))
    written.update(enumerate(new_hashes, first))
    return seq


@contextlib.contextmanager
def _driver_cursor(connection: Connection) -> Iterator[Any]:
    """A cursor of the driver, in the connection's transaction. What it raises comes out
    as SQLAlchemy's error (IntegrityError, OperationalError...), as from any statement."""
    dialect = connection.dialect
    cursor = connection.connection.cursor()
    try:
        yield cursor
    except dialect.loaded_dbapi.Error as error:
        raise DBAPIError.instance(None, None, error, dialect.loaded_dbapi.Error, dialect=dialect) from error
    finally:
        cursor.close()


def _written(session: Session) -> dict[int, bytes]:
    """The stored hashes this transaction wrote, by index: the next append in it reads them
    from here instead of the database. That is exact: the head lock keeps everyone else from
    appending until the transaction ends, and if a savepoint takes entries back, the next
    append (at the same seq) rewrites their indexes before any later one reads them."""
    transaction = session.get_transaction()
    memo = session.info.get(_WRITTEN)
    if memo is None or memo[0] is not transaction or len(memo[1]) > _WRITTEN_MAX:
        memo = session.info[_WRITTEN] = (transaction, {})
    written: dict[int, bytes] = memo[1]
    return written


def _reader(connection: Connection, written: Mapping[int, bytes] | None = None) -> merkle.HashReader:
    sql = _LogSQL.of(connection.dialect).read

    def read(indexes: Sequence[int]) -> list[bytes]:
        if written is not None and all(i in written for i in indexes):
            return [written[i] for i in indexes]
        if not indexes:
            return []
        with _driver_cursor(connection) as cursor:
            cursor.execute(sql, (json.dumps(list(indexes)),))
            rows = {index: bytes(value) for index, value in cursor.fetchall()}
        try:
            return [rows[i] for i in indexes]
        except KeyError as missing:
            raise InvalidState(f"stored Merkle hash {missing} is missing") from None

    return read


# --- reading -----------------------------------------------------------------------------


def size(session: Session) -> int:
    return session.scalar(select(LogHead.size).where(LogHead.id == 1)) or 0


def exists(session: Session) -> bool:
    return session.scalar(select(func.count()).select_from(LogHead)) == 1


def root(session: Session, tree_size: int | None = None) -> bytes:
    n = size(session) if tree_size is None else tree_size
    return merkle.tree_hash(n, _reader(session.connection()))


def entries(session: Session, start: int, end: int) -> list[bytes]:
    """Leaf bytes of entries start ≤ seq < end (at most a page)."""
    if start < 0 or end < start:
        raise ValidationError("Give 0 ≤ start ≤ end.")
    end = min(end, start + MAX_ENTRIES_PER_PAGE, size(session))
    return list(
        session.scalars(select(Entry.leaf).where(Entry.seq >= start, Entry.seq < end).order_by(Entry.seq))
    )


def entry(session: Session, seq: int) -> bytes:
    leaf = session.scalar(select(Entry.leaf).where(Entry.seq == seq))
    if leaf is None:
        raise NotFound(f"No entry {seq}.")
    return leaf


def inclusion_proof(session: Session, index: int, tree_size: int) -> list[bytes]:
    return _prove(session, index + 1, tree_size, lambda read: merkle.prove_record(tree_size, index, read))


def consistency_proof(session: Session, old_size: int, new_size: int) -> list[bytes]:
    if old_size < 1:
        raise ValidationError("A consistency proof starts from a tree of at least one entry.")
    return _prove(session, old_size, new_size, lambda read: merkle.prove_tree(new_size, old_size, read))


def _prove(
    session: Session, low: int, high: int, prove: Callable[[merkle.HashReader], list[bytes]]
) -> list[bytes]:
    """One query, for the proof's hashes and the stored hash of the tree's last leaf, which
    exists only if the log has that many entries: no separate query for the log's size."""
    if low < 0 or high < low:
        raise ValidationError("Sizes out of range: each must be at least the one before it.")
    last_leaf = merkle.stored_hash_index(0, high - 1)
    from_database = _reader(session.connection())
    asked = False

    def read(indexes: Sequence[int]) -> Sequence[bytes]:
        nonlocal asked
        asked = True
        return from_database([*indexes, last_leaf])[:-1]

    try:
        proof = prove(read)
        if not asked:  # a proof with no hashes in it (a tree of one leaf)
            read([])
    except InvalidState:
        if high > size(session):
            raise ValidationError(f"Sizes out of range: the log has {size(session)} entries.") from None
        raise
    return proof


def browse(
    session: Session,
    *,
    type: str | None = None,
    station: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    before: int | None = None,
    limit: int = 50,
) -> list[tuple[int, bytes]]:
    """Entries newest first, filtered; `before` pages backwards by sequence number."""
    query = select(Entry.seq, Entry.leaf).order_by(Entry.seq.desc()).limit(min(limit, 200))
    if type:
        # A package prefix ("auth.") lists all its events.
        query = query.where(Entry.type.startswith(type) if type.endswith(".") else Entry.type == type)
    if station:
        query = query.where(Entry.station == station.upper())
    if since:
        query = query.where(Entry.time >= since)
    if until:
        query = query.where(Entry.time < until)
    if before is not None:
        query = query.where(Entry.seq < before)
    return [(seq, leaf) for seq, leaf in session.execute(query)]


def event_types(session: Session) -> list[str]:
    return list(session.scalars(select(Entry.type).distinct().order_by(Entry.type)))


# --- for other packages ------------------------------------------------------------------

# The RFC 9162 root of records streamed one at a time (an import's records, a station's
# CVRs): the same hashing as the log's, so an observer checks both with one tool.
MerkleRootBuilder = merkle.RootBuilder
# RFC 8785 bytes: what documents are hashed and signed over.
canonical_json = jcs.canonical_bytes


def sign_document(
    session: Session, signer: Any, role: str, password: str, document: Mapping[str, Any]
) -> dict[str, str]:
    """The signer's signature `{"key", "sig"}` over `document` (audit.signing)."""
    from audit import signing  # signing builds on keys, which build on this module

    return signing.sign(session, signer, role, password, document)


def document_digest(document: Mapping[str, Any]) -> str:
    from audit import signing

    return signing.digest(document)


def key_info(session: Session, name: str) -> dict[str, Any] | None:
    """A registered key: {name, owner, role, vkey, registered_seq, revoked_seq}, or None."""
    from audit.models import SigningKey

    key = session.get(SigningKey, name)
    if key is None:
        return None
    return {
        "name": key.name,
        "owner": key.owner,
        "role": key.role,
        "vkey": key.vkey,
        "registered_seq": key.registered_seq,
        "revoked_seq": key.revoked_seq,
    }


def signature_verifies(vkey: str, document: Mapping[str, Any], sig: str) -> bool:
    """Whether `sig` (base64 Ed25519) is the key's signature over the document's JCS bytes."""
    import base64
    import binascii

    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from audit import note

    try:
        _, public = note.parse_vkey(vkey)
        Ed25519PublicKey.from_public_bytes(public).verify(
            base64.b64decode(sig, validate=True), jcs.canonical_bytes(document)
        )
    except (binascii.Error, ValueError, InvalidSignature):
        return False
    return True


def last_entry_seq(session: Session, type: str, election: str, station: str | None = None) -> int | None:
    """The sequence number of the latest entry of `type` in the election's (station's) scope."""
    query = select(func.max(Entry.seq)).where(Entry.type == type, Entry.election == election)
    if station is not None:
        query = query.where(Entry.station == station)
    return session.scalar(query)


def issue_checkpoint(session: Session, settings: Any, reason: str) -> tuple[int, bytes]:
    """Sign the current tree head (audit.checkpoints.issue): (size, root)."""
    from audit import checkpoints

    checkpoint = checkpoints.issue(session, settings, reason)
    return checkpoint.size, checkpoint.root


def covering_checkpoint(session: Session, seq: int) -> tuple[int, bytes] | None:
    """The earliest signed checkpoint covering entry `seq`, after checking the log key's
    signature on it and the entry's inclusion proof against its root; None if no
    checkpoint covers it yet. InvalidState if a signature or proof does not hold."""
    from audit import checkpoints, keys, note
    from audit.models import Checkpoint

    checkpoint = session.scalar(
        select(Checkpoint).where(Checkpoint.size > seq).order_by(Checkpoint.size).limit(1)
    )
    if checkpoint is None:
        return None
    try:
        note.open_note(checkpoints.full_text(checkpoint), [keys.log_key(session).vkey])
        proof = inclusion_proof(session, seq, checkpoint.size)
        merkle.verify_inclusion(
            seq, checkpoint.size, merkle.leaf_hash(entry(session, seq)), proof, checkpoint.root
        )
    except (note.NoteError, merkle.ProofError) as error:
        raise InvalidState(f"entry {seq} is not provably in checkpoint {checkpoint.size}: {error}") from None
    return checkpoint.size, checkpoint.root
