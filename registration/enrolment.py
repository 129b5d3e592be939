"""Enrolment, station assignment, likely-duplicate detection, corrections, transfers,
cancellations. Every change records who, why, and an audit event."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import CursorResult, case, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ocv import events
from ocv.auth.models import User
from ocv.auth.permissions import Permission, require
from ocv.db import utcnow
from ocv.errors import NotFound, ValidationError
from ocv.settings import Settings
from registration import names, regno
from registration.errors import DuplicateDocument, StationFull
from registration.models import (
    Constituency,
    DuplicateReview,
    Election,
    ElectionStatus,
    HostCountry,
    Station,
    Voter,
    VoterDocument,
    VoterHistory,
    VoterStatus,
)
from registration.privacy import DocumentKeys
from registration.setup import require_status
from registration.voter_data import VoterData, validate

DUPLICATE_THRESHOLD = 0.88
CORRECTABLE = (
    "given_name",
    "family_name",
    "father_name",
    "grandfather_name",
    "names_original_script",
    "date_of_birth",
    "sex",
    "phone",
    "email",
    "constituency",
)


@dataclass(frozen=True)
class ElectionIndex:
    """An election's codes → rows, read once per request or import."""

    election: Election
    constituencies: dict[str, Constituency]
    countries: dict[str, HostCountry]
    stations: dict[str, Station]

    @classmethod
    def load(cls, session: Session, election: Election) -> ElectionIndex:
        def rows(model: Any) -> dict[str, Any]:
            return {r.code: r for r in session.scalars(select(model).where(model.election_id == election.id))}

        return cls(election, rows(Constituency), rows(HostCountry), rows(Station))

    def validate(self, raw: dict[str, Any]) -> VoterData:
        return validate(
            self.election,
            raw,
            set(self.constituencies),
            set(self.countries),
            {code: s.country.code for code, s in self.stations.items()},
        )


def name_parts(voter: Voter | VoterData) -> names.NameParts:
    return names.NameParts(
        given=voter.given_name,
        family=voter.family_name,
        father=voter.father_name,
        grandfather=voter.grandfather_name,
        original_script=voter.names_original_script,
    )


def _officer(user: User | None, permission: Permission = Permission.REGISTER_VOTERS) -> str:
    if user is None:
        return "system"
    require(user, permission)
    return user.username


def _record(
    session: Session,
    user: User | None,
    kind: str,
    election: Election,
    payload: dict[str, Any],
    station: str | None = None,
) -> None:
    scope = {"election": election.code, **({"station": station} if station else {})}
    events.record(session, kind, user.as_actor() if user else None, payload, scope)


# --- enrolment -------------------------------------------------------------------------


def enrol(session: Session, settings: Settings, officer: User | None, election: Election, raw: Any) -> Voter:
    """Enrol one voter (form or API). Raises ValidationError, DuplicateDocument, StationFull."""
    who = _officer(officer)
    if not isinstance(raw, dict):
        raise ValidationError("Send the voter as a JSON object.", {"body": ["Expected a JSON object."]})
    require_status(election, ElectionStatus.REGISTRATION_OPEN)
    index = ElectionIndex.load(session, election)
    data = index.validate(raw)
    keys = DocumentKeys(settings.key_secret)
    hashes = [(d, keys.number_hash(election.code, d.type, d.number)) for d in data.documents]
    _refuse_known_documents(session, election, [h for _, h in hashes])
    station = assign_station(session, index, data)
    voter_id, now = uuid.uuid4(), utcnow()
    reg_no = new_reg_no(session, election)
    connection = session.connection()
    try:
        # Core inserts (no unit of work) on the hot path. The unique constraint settles two
        # officers enrolling one document at once; the savepoint keeps the transaction
        # usable to name the winner.
        with connection.begin_nested():
            connection.execute(
                insert(Voter),
                {
                    "id": voter_id,
                    "election_id": election.id,
                    "reg_no": reg_no,
                    "status": VoterStatus.REGISTERED.value,
                    "given_name": data.given_name,
                    "family_name": data.family_name,
                    "father_name": data.father_name,
                    "grandfather_name": data.grandfather_name,
                    "names_original_script": data.names_original_script,
                    "date_of_birth": data.date_of_birth,
                    "sex": data.sex,
                    "phone": data.phone,
                    "email": data.email,
                    "constituency_id": index.constituencies[data.constituency].id,
                    "country_id": index.countries[data.host_country].id,
                    "station_id": station.id,
                    "name_key": names.blocking_key(name_parts(data)),
                    "created_at": now,
                    "updated_at": now,
                },
            )
            connection.execute(
                insert(VoterDocument),
                [
                    {
                        "election_id": election.id,
                        "voter_id": voter_id,
                        "doc_type": document.type,
                        "number_hash": number_hash,
                        "number_sealed": keys.seal(document.number),
                    }
                    for document, number_hash in hashes
                ],
            )
            connection.execute(
                insert(VoterHistory),
                {
                    "voter_id": voter_id,
                    "kind": "enrolled",
                    "officer": who,
                    "reason": "",
                    "changes": {"station": station.code},
                    "at": now,
                },
            )
    except IntegrityError:
        _refuse_known_documents(session, election, [h for _, h in hashes])
        raise DuplicateDocument("This document is registered already.", duplicate_of="") from None
    voter = session.get_one(Voter, voter_id)
    _record(
        session,
        officer,
        "registration.voter_enrolled",
        election,
        {
            "reg_no": voter.reg_no,
            "station": station.code,
            "constituency": data.constituency,
            "country": data.host_country,
            "documents": sorted(h for _, h in hashes),
        },
        station.code,
    )
    flag_likely_duplicates(session, officer, voter)
    return voter


def _refuse_known_documents(session: Session, election: Election, hashes: list[str]) -> None:
    known = session.scalar(
        select(Voter.reg_no)
        .join(VoterDocument, VoterDocument.voter_id == Voter.id)
        .where(VoterDocument.election_id == election.id, VoterDocument.number_hash.in_(hashes))
        .limit(1)
    )
    if known is not None:
        raise DuplicateDocument(f"This document is registered already, to {known}.", duplicate_of=known)


def new_reg_no(session: Session, election: Election) -> str:
    # 29^8 numbers: a clash is rare, and the unique constraint catches the impossible race.
    while True:
        candidate = regno.generate()
        taken = session.scalar(
            select(Voter.id).where(Voter.election_id == election.id, Voter.reg_no == candidate)
        )
        if taken is None:
            return candidate


def assign_station(session: Session, index: ElectionIndex, data: VoterData) -> Station:
    """The named station, else the emptiest one in the voter's city, else in the country.

    The seat is taken by a conditional UPDATE, so concurrent enrolments never overfill.
    """
    if data.station:
        candidates = [index.stations[data.station]]
    else:
        city = (data.city or "").casefold()
        candidates = sorted(
            (s for s in index.stations.values() if s.country.code == data.host_country),
            key=lambda s: (s.city.casefold() != city, s.assigned / s.capacity, s.code),
        )
    for station in candidates:
        if take_seat(session, station):
            return station
    where = data.station or f"{data.host_country}"
    raise StationFull(f"No place left at {where}: every station is at capacity.")


def take_seat(session: Session, station: Station, seats: int = 1) -> bool:
    result = session.execute(
        update(Station)
        .where(Station.id == station.id, Station.assigned + seats <= Station.capacity)
        .values(assigned=Station.assigned + seats)
        .execution_options(synchronize_session=False)
    )
    taken = cast(CursorResult[Any], result).rowcount
    if taken:
        session.refresh(station, ["assigned"])
    return bool(taken)


def release_seat(session: Session, station: Station) -> None:
    session.execute(
        update(Station)
        .where(Station.id == station.id)
        .values(assigned=case((Station.assigned > 0, Station.assigned - 1), else_=0))
        .execution_options(synchronize_session=False)
    )
    session.refresh(station, ["assigned"])


# --- likely duplicates -----------------------------------------------------------------


def flag_likely_duplicates(session: Session, officer: User | None, voter: Voter) -> list[DuplicateReview]:
    """Queue every registered voter of the same birth date and a similar name (any country)."""
    candidates = session.scalars(
        select(Voter).where(
            Voter.election_id == voter.election_id,
            Voter.date_of_birth == voter.date_of_birth,
            Voter.id != voter.id,
            Voter.status == VoterStatus.REGISTERED.value,
        )
    ).all()
    parts = name_parts(voter)
    reviews = []
    for other in candidates:
        score = names.name_similarity(parts, name_parts(other))
        if score >= DUPLICATE_THRESHOLD:
            review = DuplicateReview(
                election_id=voter.election_id,
                voter_id=voter.id,
                candidate_id=other.id,
                score=round(score * 100),
            )
            session.add(review)
            session.flush()  # the review's id names it in the log
            _record(
                session,
                officer,
                "registration.duplicate_flagged",
                voter.station.election,
                {
                    "review": review.id,
                    "reg_no": voter.reg_no,
                    "candidate": other.reg_no,
                    "score": review.score,
                },
            )
            reviews.append(review)
    return reviews


def open_reviews(session: Session, officer: User, election: Election) -> Sequence[DuplicateReview]:
    _officer(officer)
    return session.scalars(
        select(DuplicateReview)
        .where(DuplicateReview.election_id == election.id, DuplicateReview.status == "open")
        .order_by(DuplicateReview.id)
    ).all()


def resolve_review(
    session: Session, officer: User | None, review_id: int, decision: str, reason: str
) -> DuplicateReview:
    """`same_person` cancels the newer entry; `different` keeps both."""
    who = _officer(officer)
    review = session.get(DuplicateReview, review_id)
    if review is None:
        raise NotFound("No such review.")
    if review.status != "open":
        raise ValidationError("This review is resolved already.")
    if decision not in ("same_person", "different"):
        raise ValidationError("Decide 'same_person' or 'different'.", {"decision": ["Choose one."]})
    _require_reason(reason)
    review.status, review.reason, review.resolved_by, review.resolved_at = decision, reason, who, utcnow()
    election = review.voter.station.election
    _record(
        session,
        officer,
        "registration.duplicate_resolved",
        election,
        {"review": review.id, "decision": decision, "reason": reason},
    )
    if decision == "same_person" and review.voter.status == VoterStatus.REGISTERED.value:
        cancel(session, officer, review.voter, f"duplicate of {review.candidate.reg_no}: {reason}")
    return review


# --- changes ---------------------------------------------------------------------------


def _require_reason(reason: str) -> None:
    if not reason or not reason.strip():
        raise ValidationError("Give a reason.", {"reason": ["A reason is required for every change."]})


def _changeable(voter: Voter) -> Election:
    election: Election = voter.station.election
    require_status(election, ElectionStatus.REGISTRATION_OPEN, ElectionStatus.EXHIBITION)
    return election


def get_voter(session: Session, officer: User | None, election: Election, reg_no: str) -> Voter:
    _officer(officer)
    voter = None
    if regno.is_valid(reg_no):
        voter = session.scalar(
            select(Voter).where(Voter.election_id == election.id, Voter.reg_no == regno.normalize(reg_no))
        )
    if voter is None:
        raise NotFound(f"No voter {reg_no} in {election.code}.")
    return voter


def search_voters(
    session: Session, officer: User | None, election: Election, query: str, limit: int = 50
) -> Sequence[Voter]:
    """By registration number, or by the start of the family or given name."""
    _officer(officer)
    if regno.is_valid(query):
        return session.scalars(
            select(Voter).where(Voter.election_id == election.id, Voter.reg_no == regno.normalize(query))
        ).all()
    pattern = query.strip().lower().replace("%", "").replace("_", "") + "%"
    return session.scalars(
        select(Voter)
        .where(
            Voter.election_id == election.id,
            (func.lower(Voter.family_name).like(pattern)) | (func.lower(Voter.given_name).like(pattern)),
        )
        .order_by(Voter.family_name, Voter.given_name)
        .limit(limit)
    ).all()


def correct(
    session: Session,
    settings: Settings,
    officer: User | None,
    voter: Voter,
    changes: dict[str, Any],
    reason: str,
) -> Voter:
    """Correct a record: the same checks as enrolment; history keeps the old values."""
    who = _officer(officer)
    _require_reason(reason)
    election = _changeable(voter)
    unknown = set(changes) - set(CORRECTABLE)
    if unknown:
        raise ValidationError(f"These cannot be corrected here: {', '.join(sorted(unknown))}.")
    index = ElectionIndex.load(session, election)
    current = _as_raw(voter)
    data = index.validate({**current, **changes})
    before = {k: current[k] for k in changes if current[k] != _as_raw_value(data, k)}
    if not before:
        raise ValidationError("Nothing changes.")
    for key in before:
        value = getattr(data, key)
        if key == "constituency":
            voter.constituency = index.constituencies[value]
        else:
            setattr(voter, key, value)
    voter.name_key = names.blocking_key(name_parts(voter))
    voter.updated_at = utcnow()
    session.add(
        VoterHistory(
            voter=voter,
            kind="corrected",
            officer=who,
            reason=reason,
            changes={k: str(v) for k, v in before.items()},
        )
    )
    _record(
        session,
        officer,
        "registration.voter_corrected",
        election,
        {"reg_no": voter.reg_no, "fields": sorted(before), "reason": reason},
        voter.station.code,
    )
    if {"given_name", "family_name", "date_of_birth"} & set(before):
        flag_likely_duplicates(session, officer, voter)
    return voter


def _as_raw(voter: Voter) -> dict[str, Any]:
    return {
        "given_name": voter.given_name,
        "family_name": voter.family_name,
        "father_name": voter.father_name,
        "grandfather_name": voter.grandfather_name,
        "names_original_script": voter.names_original_script,
        "date_of_birth": voter.date_of_birth.isoformat(),
        "sex": voter.sex,
        "phone": voter.phone,
        "email": voter.email,
        "constituency": voter.constituency.code,
        "host_country": voter.country.code,
        "station": voter.station.code,
        # Documents are checked at enrolment and never re-validated by a correction.
        "documents": [{"type": t, "number": "0000"} for t in {d.doc_type for d in voter.documents}],
    }


def _as_raw_value(data: VoterData, key: str) -> Any:
    value = getattr(data, key)
    return value.isoformat() if key == "date_of_birth" else value


def transfer(session: Session, officer: User | None, voter: Voter, station_code: str, reason: str) -> Voter:
    """Move a voter who moved to another station (of any host country of the election)."""
    who = _officer(officer)
    _require_reason(reason)
    election = _changeable(voter)
    if voter.status != VoterStatus.REGISTERED.value:
        raise ValidationError("Only a registered voter can be transferred.")
    index = ElectionIndex.load(session, election)
    target = index.stations.get(station_code.strip().upper())
    if target is None:
        raise ValidationError(
            f"{station_code!r} is not a station of {election.code}.", {"station": ["Unknown station."]}
        )
    if target.id == voter.station_id:
        raise ValidationError("The voter is at that station already.")
    if not take_seat(session, target):
        raise StationFull(f"Station {target.code} is full.")
    origin = voter.station
    release_seat(session, origin)
    voter.station, voter.country, voter.updated_at = target, target.country, utcnow()
    session.add(
        VoterHistory(
            voter=voter,
            kind="transferred",
            officer=who,
            reason=reason,
            changes={"from": origin.code, "to": target.code},
        )
    )
    _record(
        session,
        officer,
        "registration.voter_transferred",
        election,
        {"reg_no": voter.reg_no, "from": origin.code, "to": target.code, "reason": reason},
        target.code,
    )
    return voter


def cancel(session: Session, officer: User | None, voter: Voter, reason: str) -> Voter:
    who = _officer(officer)
    _require_reason(reason)
    election = _changeable(voter)
    if voter.status == VoterStatus.CANCELLED.value:
        raise ValidationError("This registration is cancelled already.")
    voter.status, voter.updated_at = VoterStatus.CANCELLED.value, utcnow()
    release_seat(session, voter.station)
    session.add(VoterHistory(voter=voter, kind="cancelled", officer=who, reason=reason))
    _record(
        session,
        officer,
        "registration.voter_cancelled",
        election,
        {"reg_no": voter.reg_no, "reason": reason},
        voter.station.code,
    )
    return voter


def reinstate(session: Session, officer: User | None, voter: Voter, reason: str) -> Voter:
    who = _officer(officer)
    _require_reason(reason)
    election = _changeable(voter)
    if voter.status != VoterStatus.CANCELLED.value:
        raise ValidationError("Only a cancelled registration can be reinstated.")
    if not take_seat(session, voter.station):
        raise StationFull(f"Station {voter.station.code} is full; transfer the voter instead.")
    voter.status, voter.updated_at = VoterStatus.REGISTERED.value, utcnow()
    session.add(VoterHistory(voter=voter, kind="reinstated", officer=who, reason=reason))
    _record(
        session,
        officer,
        "registration.voter_reinstated",
        election,
        {"reg_no": voter.reg_no, "reason": reason},
        voter.station.code,
    )
    return voter
