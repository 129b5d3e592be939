"""Audit log tables: pending entries, entries, the stored Merkle hashes, checkpoints,
cosignatures, keys."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ocv.db import Base, utcnow


class LogHead(Base):
    """One row: the log's size and last time. Only the sequencer writes it (audit.sequencer)."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger, default=0)
    # Time of the last entry, in the entry format (fixed width, so text order is time order).
    last_time: Mapped[str] = mapped_column(String(32), default="")


class PendingEntry(Base):
    """An entry recorded with its change, in the caller's transaction, waiting for the
    sequencer to give it its place in the log (`seq`, time, hashes) and delete it."""

    __tablename__ = "audit_pending"
    # AUTOINCREMENT on SQLite: ids are never reused once the sequencer deleted their rows, so
    # an entry's `recorded_id` names one recording for the life of the log.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"), primary_key=True)
    recorded_at: Mapped[dt.datetime]
    type: Mapped[str] = mapped_column(String(80))
    actor: Mapped[str | None] = mapped_column(String(64))
    election: Mapped[str | None] = mapped_column(String(32))
    station: Mapped[str | None] = mapped_column(String(32))
    country: Mapped[str | None] = mapped_column(String(8))
    # The entry's JCS bytes without `seq` and `time`, which the sequencer splices in: the
    # entry is checked and canonicalized in the caller's transaction, never re-encoded.
    body: Mapped[bytes] = mapped_column(LargeBinary)


class Entry(Base):
    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_type_seq", "type", "seq"),)

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    time: Mapped[dt.datetime] = mapped_column(index=True)
    type: Mapped[str] = mapped_column(String(80))
    actor: Mapped[str | None] = mapped_column(String(64))
    election: Mapped[str | None] = mapped_column(String(32))
    station: Mapped[str | None] = mapped_column(String(32), index=True)
    country: Mapped[str | None] = mapped_column(String(8))
    # Exactly the JCS bytes that were hashed: the leaf is served as stored, never re-encoded.
    leaf: Mapped[bytes] = mapped_column(LargeBinary)
    # The pending entry it was (audit_pending.id): how an appender finds its seq (seq_of).
    recorded_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)


class MerkleHash(Base):
    """Hashes of complete subtrees, by Go sumdb tlog stored-hash index (about 2 per entry)."""

    __tablename__ = "audit_hashes"

    index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class Checkpoint(Base):
    __tablename__ = "audit_checkpoints"

    size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root: Mapped[bytes] = mapped_column(LargeBinary(32))
    # The signed note as issued: body and the log key's signature line.
    note: Mapped[str] = mapped_column(Text)
    reason: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    cosignatures: Mapped[list[Cosignature]] = relationship(
        back_populates="checkpoint", order_by="Cosignature.id"
    )


class Cosignature(Base):
    __tablename__ = "audit_cosignatures"
    __table_args__ = (UniqueConstraint("checkpoint_size", "key_name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    checkpoint_size: Mapped[int] = mapped_column(BigInteger, ForeignKey("audit_checkpoints.size"), index=True)
    key_name: Mapped[str] = mapped_column(String(120))
    signature_line: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    checkpoint: Mapped[Checkpoint] = relationship(back_populates="cosignatures")


class SigningKey(Base):
    """A key that signs for the log (service) or for a person; its public half is in the log."""

    __tablename__ = "audit_keys"

    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    vkey: Mapped[str] = mapped_column(String(250), unique=True)
    role: Mapped[str] = mapped_column(String(32))
    owner: Mapped[str] = mapped_column(String(64), index=True)
    # Sealed with the owner's password (people) or OCV_KEY_SECRET (the log key); None
    # when the holder keeps the private key themself (an observer's witness key).
    sealed_private: Mapped[str | None] = mapped_column(Text)
    registered_seq: Mapped[int | None] = mapped_column(BigInteger)
    revoked_seq: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    @property
    def is_active(self) -> bool:
        return self.revoked_seq is None
