"""Polling's tables: a station's day, its ballot papers, the marked register, the ballots.

Counts that change on every check-in (ballots issued, voters marked) are never stored as
counters: they are the rows themselves, counted on read, so check-ins at one station never
wait on each other for a counter's row lock.

Ballot secrecy (docs/ballot-secrecy.md): `marks` say who voted, `cvrs` how a ballot was
marked; nothing joins them. A CVR has a random id, no time, no voter and no order.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ocv.db import Base, enum_type, int_pk, utcnow


class StationState(enum.StrEnum):
    SETUP = "setup"
    POLLING = "polling"
    PAUSED = "paused"  # closed for the night between polling days
    CLOSED = "closed"
    COUNTED = "counted"
    SIGNED = "signed"
    SUBMITTED = "submitted"


class Movement(enum.StrEnum):
    """What moves ballot papers in or out of a station's stock, by ballot style."""

    RECEIVED = "received"  # at opening
    RESUPPLIED = "resupplied"
    TRANSFERRED = "transferred"  # out, to another station
    UNUSED = "unused"  # counted at a daily close-out or the final close


class PollingStation(Base):
    """A registration station's polling day(s): its state and who opened it with what."""

    __tablename__ = "polling_stations"
    __table_args__ = (UniqueConstraint("election_code", "station_code"),)

    id: Mapped[int_pk]
    election_code: Mapped[str] = mapped_column(String(32))
    station_code: Mapped[str] = mapped_column(String(32))
    state: Mapped[StationState] = mapped_column(enum_type(StationState, 12), default=StationState.SETUP)
    day: Mapped[int] = mapped_column(default=0)  # polling days opened so far
    seals: Mapped[list[str]] = mapped_column(JSON, default=list)  # on the ballot boxes now
    officials: Mapped[list[str]] = mapped_column(JSON, default=list)
    opened_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]

    movements: Mapped[list[BallotMovement]] = relationship(order_by="BallotMovement.id")


class BallotMovement(Base):
    __tablename__ = "ballot_movements"

    id: Mapped[int_pk]
    polling_station_id: Mapped[int] = mapped_column(ForeignKey("polling_stations.id"), index=True)
    kind: Mapped[Movement] = mapped_column(enum_type(Movement, 12))
    ballot_style: Mapped[str] = mapped_column(String(32))
    count: Mapped[int] = mapped_column(Integer)
    day: Mapped[int]
    reason: Mapped[str] = mapped_column(String(500), default="")
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    by: Mapped[str] = mapped_column(String(64))


class Mark(Base):
    """The marked register: one row per voter who received a ballot, ever (the unique
    constraint is what makes a second check-in impossible, across workers and stations)."""

    __tablename__ = "marks"
    __table_args__ = (UniqueConstraint("election_code", "voter_id"),)

    id: Mapped[int_pk]
    election_code: Mapped[str] = mapped_column(String(32))
    voter_id: Mapped[uuid.UUID]
    reg_no: Mapped[str] = mapped_column(String(16))
    polling_station_id: Mapped[int] = mapped_column(ForeignKey("polling_stations.id"), index=True)
    station_code: Mapped[str] = mapped_column(String(32))
    ballot_style: Mapped[str] = mapped_column(String(32))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    by: Mapped[str] = mapped_column(String(64))


class Tendered(Base):
    """A ballot given to someone not found on the list, sealed in an envelope and kept
    apart: it counts only if the tally centre accepts it."""

    __tablename__ = "tendered_ballots"

    id: Mapped[int_pk]
    polling_station_id: Mapped[int] = mapped_column(ForeignKey("polling_stations.id"), index=True)
    ballot_style: Mapped[str] = mapped_column(String(32))
    claim: Mapped[str] = mapped_column(String(500))  # who the person says they are, and why
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    by: Mapped[str] = mapped_column(String(64))


class Spoiled(Base):
    """A ballot spoiled by its voter and replaced: once at most per voter."""

    __tablename__ = "spoiled_ballots"

    id: Mapped[int_pk]
    polling_station_id: Mapped[int] = mapped_column(ForeignKey("polling_stations.id"), index=True)
    mark_id: Mapped[int] = mapped_column(ForeignKey("marks.id"), unique=True)
    ballot_style: Mapped[str] = mapped_column(String(32))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    by: Mapped[str] = mapped_column(String(64))


class CastVoteRecord(Base):
    """One ballot as counted: its style and, per contest, the choices marked; a contest
    absent from `selections` and `invalid` was left blank."""

    __tablename__ = "cvrs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, never sequential
    polling_station_id: Mapped[int] = mapped_column(ForeignKey("polling_stations.id"), index=True)
    ballot_style: Mapped[str] = mapped_column(String(32))
    selections: Mapped[dict[str, list[str]]] = mapped_column(JSON)
    invalid: Mapped[list[str]] = mapped_column(JSON, default=list)  # overvoted or unreadable


class TallySheet(Base):
    """One clerk's entry of the hand count; two entries by two clerks must agree."""

    __tablename__ = "tally_sheets"
    __table_args__ = (UniqueConstraint("polling_station_id", "clerk"),)

    id: Mapped[int_pk]
    polling_station_id: Mapped[int] = mapped_column(ForeignKey("polling_stations.id"), index=True)
    clerk: Mapped[str] = mapped_column(String(64))
    figures: Mapped[dict[str, dict[str, int]]] = mapped_column(JSON)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Protocol(Base):
    """The station's results protocol: the signed document, its signatures, its fate."""

    __tablename__ = "protocols"

    id: Mapped[int_pk]
    polling_station_id: Mapped[int] = mapped_column(ForeignKey("polling_stations.id"), unique=True)
    document: Mapped[dict[str, object]] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(64))
    signatures: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    explanation: Mapped[str] = mapped_column(Text, default="")
    signed_at: Mapped[dt.datetime | None]
    submitted_at: Mapped[dt.datetime | None]
