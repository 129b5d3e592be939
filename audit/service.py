"""The audit log: record entries in the caller's transaction, read entries, prove.

`append` is the only way to write. It checks the entry, canonicalizes it and stores it as
a *pending* entry in the caller's transaction, taking no lock another appender waits on:
if that transaction rolls back, the entry is gone too; if it commits, the entry is
durable. Its place in the log (`seq`, `time`, leaf bytes, stored hashes) is given just
after by the sequencer (audit.sequencer), which alone writes the log head. Readers here
see integrated entries only (docs/architecture.md, "The audit log's sequencer").
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
RECORDED = "audit.recorded"  # session.info key: the id of the last entry this session recorded


def format_time(moment: dt.datetime) -> str:
    """RFC 3339 UTC with microseconds; fixed width, so text order is time order
    (isoformat: strftime costs an append ~10 µs)."""
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds").removesuffix("+00:00") + "Z"


def parse_time(text: str) -> dt.datetime:
    """A time that `format_time` wrote (fromisoformat: strptime costs an append ~8 µs)."""
    return dt.datetime.fromisoformat(text)


@dataclass(frozen=True)
class _LogSQL:
    """The log's statements as the driver's own SQL, built once per dialect and run on the
    driver's cursor (`_driver_cursor`): appends are on every check-in's path, and
    SQLAlchemy's statement execution would cost them almost half their time, a proof a
    third of its. Values go in as the driver takes them."""

    record: str  # a pending entry, returning its id
    pending: str  # the oldest pending entries (one parameter: how many)
    delete: str  # pending entries by id (one parameter per id: executemany)
    head: str
    move_head: str
    entry: str
    hashes: str
    read: str  # the stored hashes at the indexes of a JSON array (one parameter, any length)
    time: Callable[[dt.datetime], Any]  # a time, as the `time` and `recorded_at` columns bind it

    @staticmethod
    @functools.cache
    def of(dialect: Dialect) -> _LogSQL:
        mark = "?" if dialect.paramstyle == "qmark" else "%s"
        index = dialect.identifier_preparer.quote("index")
        bind = Entry.__table__.c.time.type.dialect_impl(dialect).bind_processor(dialect)
        columns = "seq, time, type, actor, election, station, country, leaf, recorded_id"
        pending = "recorded_at, type, actor, election, station, country, body"
        indexes = (
            "SELECT value::bigint FROM json_array_elements_text(%s::json)"
            if dialect.name == "postgresql"
            else "SELECT value FROM json_each(?)"
        )
        # No data in any of these strings: values are parameters (S608).
        return _LogSQL(
            record=f"INSERT INTO audit_pending ({pending}) VALUES ({', '.join([mark] * 7)}) RETURNING id",  # noqa: S608
            pending=f"SELECT id, type, actor, election, station, country, body FROM audit_pending ORDER BY id LIMIT {mark}",  # noqa: S608, E501
            delete=f"DELETE FROM audit_pending WHERE id = {mark}",  # noqa: S608
            head="SELECT size, last_time FROM audit_head WHERE id = 1",
            move_head=f"UPDATE audit_head SET size = {mark}, last_time = {mark} WHERE id = 1",  # noqa: S608
            entry=f"INSERT INTO audit_entries ({columns}) VALUES ({', '.join([mark] * 9)})",  # noqa: S608
            hashes=f"INSERT INTO audit_hashes ({index}, hash) VALUES ({mark}, {mark})",  # noqa: S608
            read=f"SELECT {index}, hash FROM audit_hashes WHERE {index} IN ({indexes})",  # noqa: S608
            time=bind or (lambda moment: moment),
        )


@dataclass(frozen=True)
class Recorded:
    """An entry recorded in the caller's transaction, by its place in the queue of pending
    entries (`audit_pending.id`). Its `seq` exists once the sequencer has integrated it:
    `seq_of`, or `audit.sequencer.wait_for_seq` to wait for it."""

    id: int


@dataclass(frozen=True)
class Body:
    """A checked entry without its place in the log: its canonical bytes without `seq` and
    `time`, and the columns readers filter on."""

    type: str
    actor: str | None
    election: str | None
    station: str | None
    country: str | None
    body: bytes


def entry_body(
    type: str,
    actor: Mapping[str, str] | None,
    scope: Mapping[str, str],
    payload: Mapping[str, Any],
) -> Body:
    """Check an entry (registered type, its payload, scope members) and canonicalize it:
    ValueError for an entry the log cannot take, raised in the caller's transaction."""
    event_type = events.REGISTRY.get(type)
    if event_type is None:
        raise ValueError(f"unregistered audit event type {type!r}")
    event_type.check(payload)
    unknown_scope = set(scope) - set(SCOPE_KEYS)
    if unknown_scope:
        raise ValueError(f"unknown scope members {sorted(unknown_scope)}")
    clean_scope = {k: v for k, v in scope.items() if v is not None}
    body = jcs.canonical_form(
        {
            "v": FORMAT_VERSION,
            "type": type,
            "actor": dict(actor) if actor else None,
            "scope": clean_scope,
            "payload": payload,
        }
    )
    return Body(
        type,
        actor["user"] if actor else None,
        clean_scope.get("election"),
        clean_scope.get("station"),
        clean_scope.get("country"),
        body,
    )


def leaf_bytes(body: bytes, seq: int, time: str) -> bytes:
    """The entry's JCS bytes: its body with `seq` and `time` spliced in before `type`.

    JCS orders members by name: actor, payload, scope, seq, time, type, v. The body ends
    with `,"type":"<registered name>","v":1}`, so the last `,"type":` is the member's."""
    at = body.rindex(b',"type":')
    return b'%s,"seq":%d,"time":"%s"%s' % (body[:at], seq, time.encode(), body[at:])


def append(
    session: Session,
    type: str,
    actor: Mapping[str, str] | None,
    scope: Mapping[str, str],
    payload: Mapping[str, Any],
) -> Recorded:
    """Record one entry in the caller's transaction; the sequencer gives it its seq after
    the transaction commits."""
    entry = entry_body(type, actor, scope, payload)
    connection = session.connection()
    sql = _LogSQL.of(connection.dialect)
    values = (sql.time(dt.datetime.now(dt.UTC)), entry.type, entry.actor, entry.election, entry.station)
    with _driver_cursor(connection) as cursor:
        cursor.execute(sql.record, (*values, entry.country, entry.body))
        (recorded_id,) = cursor.fetchone()
    session.info[RECORDED] = recorded_id
    return Recorded(recorded_id)


def seq_of(session: Session, recorded: Recorded) -> int | None:
    """The entry's seq, or None while it waits for the sequencer (or if its transaction
    rolled back)."""
    return session.scalar(select(Entry.seq).where(Entry.recorded_id == recorded.id))


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
    """The number of integrated entries."""
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
    """The sequence number of the latest entry of `type` in the election's (station's) scope,
    after integrating what the session's transaction has recorded (a reader that needs seqs)."""
    from audit import sequencer  # the sequencer builds on this module

    sequencer.integrate(session)
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
