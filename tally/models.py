"""Tally's tables: each station as the tally centre sees it (its intake, checks and
status), its verified figures, the resolutions officers propose and approve, and the
certifications.

Figures are rows (station × ballot style × contest × choice), so every level of the
results is one GROUP BY over accepted stations (docs/architecture.md, "Tally").
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, BigInteger, Enum, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ocv.db import Base, int_pk, utcnow
from tally.types import Action, ProposalState, StationStatus


def _enum(kind: type[enum.StrEnum], length: int) -> Enum:
    return Enum(kind, values_callable=lambda e: [m.value for m in e], native_enum=False, length=length)


class TallyStation(Base):
    __tablename__ = "tally_stations"
    __table_args__ = (UniqueConstraint("election_code", "station_code"),)

    id: Mapped[int_pk]
    election_code: Mapped[str] = mapped_column(String(32))
    station_code: Mapped[str] = mapped_column(String(32))
    country: Mapped[str] = mapped_column(String(2))
    status: Mapped[StationStatus] = mapped_column(_enum(StationStatus, 12))
    protocol_sha256: Mapped[str] = mapped_column(String(64))
    checks: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    figures: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)  # the protocol's totals
    tendered: Mapped[str] = mapped_column(String(10), default="pending")  # or accepted, rejected
    received_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[dt.datetime | None]


class TallyFigure(Base):
    """Votes of one choice (or "(blank)", "(invalid)", "(ballots)") in one contest, among
    one ballot style's ballots at one station ("" style: a tally sheet, not split)."""

    __tablename__ = "tally_figures"
    __table_args__ = (Index("ix_tally_figures_station", "tally_station_id"),)

    id: Mapped[int_pk]
    tally_station_id: Mapped[int] = mapped_column(ForeignKey("tally_stations.id", ondelete="CASCADE"))
    ballot_style: Mapped[str] = mapped_column(String(32))
    contest: Mapped[str] = mapped_column(String(32))
    choice: Mapped[str] = mapped_column(String(200))
    votes: Mapped[int] = mapped_column(Integer)


class TallyProposal(Base):
    __tablename__ = "tally_proposals"

    id: Mapped[int_pk]
    election_code: Mapped[str] = mapped_column(String(32), index=True)
    station_code: Mapped[str] = mapped_column(String(32))
    subject: Mapped[str] = mapped_column(String(10))  # station, tendered
    action: Mapped[Action] = mapped_column(_enum(Action, 10))
    reason: Mapped[str] = mapped_column(Text)
    proposed_by: Mapped[str] = mapped_column(String(64))
    proposed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    state: Mapped[ProposalState] = mapped_column(_enum(ProposalState, 10), default=ProposalState.PROPOSED)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[dt.datetime | None]
    decision_reason: Mapped[str] = mapped_column(Text, default="")


class TallyCertification(Base):
    __tablename__ = "tally_certifications"
    __table_args__ = (UniqueConstraint("election_code", "number"),)

    id: Mapped[int_pk]
    election_code: Mapped[str] = mapped_column(String(32))
    number: Mapped[int] = mapped_column(Integer)
    document: Mapped[dict[str, object]] = mapped_column(JSON)
    sha256: Mapped[str] = mapped_column(String(64))
    signatures: Mapped[list[dict[str, str]]] = mapped_column(JSON)
    tree_size: Mapped[int] = mapped_column(BigInteger)
    root: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")
    certified_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
