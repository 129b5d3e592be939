"""Election setup and the voter registry.

Nothing is deleted: a voter's changes are rows in `voter_history`, a cancellation is a
status. Document numbers are stored sealed (AES-GCM) and, for duplicate checks and
the audit log, as keyed hashes.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ocv.db import Base, enum_type, int_pk, utcnow, uuid_pk


class ElectionStatus(enum.StrEnum):
    SETUP = "setup"
    REGISTRATION_OPEN = "registration_open"
    EXHIBITION = "exhibition"
    FROZEN = "frozen"


class VoterStatus(enum.StrEnum):
    REGISTERED = "registered"
    CANCELLED = "cancelled"


class VotingRule(enum.StrEnum):
    ASSIGNED_STATION = "assigned_station"
    ANY_STATION = "any_station"


class Counting(enum.StrEnum):
    CVR = "cvr"  # a cast-vote record per ballot
    TALLY_SHEET = "tally_sheet"  # a tally sheet typed in twice


class ConstituencyKind(enum.StrEnum):
    HOME = "home"
    OVERSEAS = "overseas"


class ReviewStatus(enum.StrEnum):
    OPEN = "open"
    SAME_PERSON = "same_person"  # the newer entry is cancelled
    DIFFERENT = "different"


class Decision(enum.StrEnum):
    UPHELD = "upheld"  # the entry is cancelled
    DISMISSED = "dismissed"


class Election(Base):
    __tablename__ = "elections"
    __table_args__ = (
        CheckConstraint("minimum_age BETWEEN 0 AND 120", name="minimum_age_range"),
        CheckConstraint("documents_required >= 0", name="documents_required_non_negative"),
    )

    id: Mapped[int_pk]
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    home_country: Mapped[str] = mapped_column(String(2))
    polling_day: Mapped[dt.date] = mapped_column(Date)
    voting_rule: Mapped[VotingRule] = mapped_column(
        enum_type(VotingRule, 20, check="voting_rule_known"), default=VotingRule.ASSIGNED_STATION
    )
    # How stations count: a cast-vote record per ballot, or a tally sheet typed in twice.
    counting: Mapped[Counting] = mapped_column(
        enum_type(Counting, 12, check="counting_known"),
        default=Counting.CVR,
        server_default=Counting.CVR.value,
    )
    minimum_age: Mapped[int] = mapped_column(default=18)
    accepted_documents: Mapped[list[str]] = mapped_column(JSON, default=list)
    documents_required: Mapped[int] = mapped_column(default=1)
    # The tally's settings (election_file.TALLY_DEFAULTS): embargo end, protocol rule, flags.
    tally_settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict, server_default="{}")
    status: Mapped[ElectionStatus] = mapped_column(
        enum_type(ElectionStatus, 20, check="status_known"), default=ElectionStatus.SETUP
    )
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    registration_opened_at: Mapped[dt.datetime | None]
    exhibition_started_at: Mapped[dt.datetime | None]
    frozen_at: Mapped[dt.datetime | None]
    frozen_digest: Mapped[str | None] = mapped_column(String(64))

    constituencies: Mapped[list[Constituency]] = relationship(
        back_populates="election", order_by="Constituency.code"
    )
    contests: Mapped[list[Contest]] = relationship(back_populates="election", order_by="Contest.id")
    ballot_styles: Mapped[list[BallotStyle]] = relationship(
        back_populates="election", order_by="BallotStyle.code"
    )
    countries: Mapped[list[HostCountry]] = relationship(
        back_populates="election", order_by="HostCountry.code"
    )
    stations: Mapped[list[Station]] = relationship(back_populates="election", order_by="Station.code")


class BallotStyle(Base):
    """The set of contests a constituency's voters receive."""

    __tablename__ = "ballot_styles"
    __table_args__ = (UniqueConstraint("election_id", "code"),)

    id: Mapped[int_pk]
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"))
    code: Mapped[str] = mapped_column(String(32))
    contest_codes: Mapped[list[str]] = mapped_column(JSON, default=list)

    election: Mapped[Election] = relationship(back_populates="ballot_styles")


class Constituency(Base):
    __tablename__ = "constituencies"
    __table_args__ = (UniqueConstraint("election_id", "code"),)

    id: Mapped[int_pk]
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[ConstituencyKind] = mapped_column(enum_type(ConstituencyKind, 10, check="kind_known"))
    ballot_style_id: Mapped[int] = mapped_column(ForeignKey("ballot_styles.id"))

    election: Mapped[Election] = relationship(back_populates="constituencies")
    ballot_style: Mapped[BallotStyle] = relationship()


class Contest(Base):
    __tablename__ = "contests"
    __table_args__ = (
        UniqueConstraint("election_id", "code"),
        CheckConstraint("votes_allowed >= 1", name="votes_allowed_positive"),
    )

    id: Mapped[int_pk]
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    votes_allowed: Mapped[int] = mapped_column(default=1)
    choices: Mapped[list[str]] = mapped_column(JSON, default=list)

    election: Mapped[Election] = relationship(back_populates="contests")


class HostCountry(Base):
    __tablename__ = "host_countries"
    __table_args__ = (UniqueConstraint("election_id", "code"),)

    id: Mapped[int_pk]
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"))
    code: Mapped[str] = mapped_column(String(2))
    name: Mapped[str] = mapped_column(String(100))
    # [{"date": "YYYY-MM-DD", "opens": "HH:MM", "closes": "HH:MM"}], local to each station.
    polling_days: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)

    election: Mapped[Election] = relationship(back_populates="countries")
    stations: Mapped[list[Station]] = relationship(back_populates="country", order_by="Station.code")


class Station(Base):
    __tablename__ = "stations"
    __table_args__ = (
        UniqueConstraint("election_id", "code"),
        CheckConstraint("capacity > 0", name="capacity_positive"),
        # The database enforces capacity, so concurrent enrolments can never overfill.
        CheckConstraint("assigned >= 0 AND assigned <= capacity", name="assigned_within_capacity"),
    )

    id: Mapped[int_pk]
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"))
    country_id: Mapped[int] = mapped_column(ForeignKey("host_countries.id"))
    code: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(300))
    time_zone: Mapped[str] = mapped_column(String(64))
    capacity: Mapped[int] = mapped_column(default=5000)
    assigned: Mapped[int] = mapped_column(default=0)

    election: Mapped[Election] = relationship(back_populates="stations")
    country: Mapped[HostCountry] = relationship(back_populates="stations")


class Voter(Base):
    __tablename__ = "voters"
    __table_args__ = (
        UniqueConstraint("election_id", "reg_no"),
        # Likely-duplicate search: same date of birth, similar family name.
        Index("ix_voters_match", "election_id", "date_of_birth", "name_key"),
        Index("ix_voters_station_names", "station_id", "family_name", "given_name"),
    )

    id: Mapped[uuid_pk]
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"))
    reg_no: Mapped[str] = mapped_column(String(16))
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    father_name: Mapped[str | None] = mapped_column(String(100))
    grandfather_name: Mapped[str | None] = mapped_column(String(100))
    names_original_script: Mapped[str | None] = mapped_column(String(300))
    date_of_birth: Mapped[dt.date] = mapped_column(Date)
    sex: Mapped[str | None] = mapped_column(String(1))
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(200))
    constituency_id: Mapped[int] = mapped_column(ForeignKey("constituencies.id"))
    country_id: Mapped[int] = mapped_column(ForeignKey("host_countries.id"))
    station_id: Mapped[int] = mapped_column(ForeignKey("stations.id"))
    status: Mapped[VoterStatus] = mapped_column(
        enum_type(VoterStatus, 12, check="status_known"), default=VoterStatus.REGISTERED
    )
    name_key: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    constituency: Mapped[Constituency] = relationship()
    country: Mapped[HostCountry] = relationship()
    station: Mapped[Station] = relationship()
    documents: Mapped[list[VoterDocument]] = relationship(back_populates="voter")
    history: Mapped[list[VoterHistory]] = relationship(back_populates="voter", order_by="VoterHistory.id")


# A voter's own data, as the voter gives it at enrolment: columns of `voters`, in its order.
PERSONAL_FIELDS = (
    "given_name",
    "family_name",
    "father_name",
    "grandfather_name",
    "names_original_script",
    "date_of_birth",
    "sex",
    "phone",
    "email",
)


class VoterDocument(Base):
    __tablename__ = "voter_documents"
    # Same document twice in one election: refused by the database, race or not.
    __table_args__ = (UniqueConstraint("election_id", "doc_type", "number_hash"),)

    id: Mapped[int_pk]
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"))
    voter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("voters.id"), index=True)
    doc_type: Mapped[str] = mapped_column(String(32))
    number_hash: Mapped[str] = mapped_column(String(64))
    number_sealed: Mapped[str] = mapped_column(Text)

    voter: Mapped[Voter] = relationship(back_populates="documents")


class VoterHistory(Base):
    __tablename__ = "voter_history"

    id: Mapped[int_pk]
    voter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("voters.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    officer: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")
    changes: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    voter: Mapped[Voter] = relationship(back_populates="history")


class DuplicateReview(Base):
    """A likely duplicate, queued for an officer to resolve."""

    __tablename__ = "duplicate_reviews"
    __table_args__ = (UniqueConstraint("voter_id", "candidate_id"),)

    id: Mapped[int_pk]
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"), index=True)
    voter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("voters.id"))
    candidate_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("voters.id"))
    score: Mapped[int]  # similarity in percent
    status: Mapped[ReviewStatus] = mapped_column(
        enum_type(ReviewStatus, 12, check="status_known"), default=ReviewStatus.OPEN
    )
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolved_at: Mapped[dt.datetime | None]
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    voter: Mapped[Voter] = relationship(foreign_keys=[voter_id])
    candidate: Mapped[Voter] = relationship(foreign_keys=[candidate_id])


class ObjectionStatus(enum.StrEnum):
    FILED = "filed"
    NOTIFIED = "notified"
    REPLIED = "replied"
    DECIDED = "decided"


class Objection(Base):
    """A challenge to a voter's entry: filed → voter notified → reply → decided."""

    __tablename__ = "objections"
    __table_args__ = ()

    id: Mapped[int_pk]
    election_id: Mapped[int] = mapped_column(ForeignKey("elections.id"), index=True)
    voter_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("voters.id"), index=True)
    grounds: Mapped[str] = mapped_column(Text)
    filed_by: Mapped[str] = mapped_column(String(64))
    status: Mapped[ObjectionStatus] = mapped_column(
        enum_type(ObjectionStatus, 12, check="status_known"), default=ObjectionStatus.FILED
    )
    filed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    notified_at: Mapped[dt.datetime | None]
    notified_by: Mapped[str | None] = mapped_column(String(64))
    notice_method: Mapped[str | None] = mapped_column(String(100))
    reply: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[dt.datetime | None]
    decision: Mapped[Decision | None] = mapped_column(enum_type(Decision, 12, check="decision_known"))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[dt.datetime | None]

    voter: Mapped[Voter] = relationship()
