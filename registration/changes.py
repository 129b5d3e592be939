"""Changes to enrolled voters: duplicate reviews, corrections, transfers, cancellations.
Each carries an officer and a reason, keeps the history, and records an audit event."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ocv.acting import Actor, authorize, record
from ocv.auth.permissions import Permission
from ocv.db import utcnow
from ocv.errors import NotFound, ValidationError
from ocv.settings import Settings
from registration import events as E
from registration import names, regno
from registration.enrolment import ElectionIndex
from registration.errors import StationFull
from registration.matching import flag_likely_duplicates, name_parts
from registration.models import (
    PERSONAL_FIELDS,
    DuplicateReview,
    Election,
    ElectionStatus,
    ReviewStatus,
    Voter,
    VoterDocument,
    VoterHistory,
    VoterStatus,
)
from registration.privacy import document_keys, normalize_number
from registration.seats import release_seat, take_seat
from registration.setup import require_status
from registration.voter_data import VoterData

CORRECTABLE = (*PERSONAL_FIELDS, "constituency")


def open_reviews(session: Session, officer: Actor, election: Election) -> Sequence[DuplicateReview]:
    authorize(officer, Permission.REGISTER_VOTERS)
    return session.scalars(
        select(DuplicateReview)
        .where(DuplicateReview.election_id == election.id, DuplicateReview.status == ReviewStatus.OPEN)
        .order_by(DuplicateReview.id)
    ).all()


def open_reviews_of(session: Session, officer: Actor, voter: Voter) -> Sequence[DuplicateReview]:
    """The open reviews of a newly enrolled voter: whom the voter may be a duplicate of."""
    authorize(officer, Permission.REGISTER_VOTERS)
    return session.scalars(
        select(DuplicateReview)
        .where(DuplicateReview.voter_id == voter.id, DuplicateReview.status == "open")
        .order_by(DuplicateReview.id)
    ).all()


def resolve_review(
    session: Session, officer: Actor, review_id: int, decision: str, reason: str
) -> DuplicateReview:
    """`same_person` cancels the newer entry; `different` keeps both."""
    who = authorize(officer, Permission.REGISTER_VOTERS).name
    review = session.get(DuplicateReview, review_id)
    if review is None:
        raise NotFound("No such review.")
    if review.status != ReviewStatus.OPEN:
        raise ValidationError("This review is resolved already.")
    if decision not in (ReviewStatus.SAME_PERSON, ReviewStatus.DIFFERENT):
        raise ValidationError("Decide 'same_person' or 'different'.", {"decision": ["Choose one."]})
    decided = ReviewStatus(decision)
    _require_reason(reason)
    review.status, review.reason, review.resolved_by, review.resolved_at = decided, reason, who, utcnow()
    election = review.voter.station.election
    record(
        session,
        E.DUPLICATE_RESOLVED,
        officer,
        {"election": election.code},
        {"review": review.id, "decision": decided, "reason": reason},
    )
    if decided is ReviewStatus.SAME_PERSON and review.voter.status == VoterStatus.REGISTERED:
        cancel(
            session, officer, review.voter, f"duplicate of {regno.format(review.candidate.reg_no)}: {reason}"
        )
    return review


# --- changes ---------------------------------------------------------------------------


def _require_reason(reason: str) -> None:
    if not reason or not reason.strip():
        raise ValidationError("Give a reason.", {"reason": ["A reason is required for every change."]})


def _changeable(voter: Voter) -> Election:
    election: Election = voter.station.election
    require_status(election, ElectionStatus.REGISTRATION_OPEN, ElectionStatus.EXHIBITION)
    return election


def get_voter(session: Session, officer: Actor, election: Election, reg_no: str) -> Voter:
    authorize(officer, Permission.REGISTER_VOTERS)
    voter = None
    if regno.is_valid(reg_no):
        voter = session.scalar(
            select(Voter).where(Voter.election_id == election.id, Voter.reg_no == regno.normalize(reg_no))
        )
    if voter is None:
        raise NotFound(f"No voter {reg_no} in {election.code}.")
    return voter


def search_voters(
    session: Session,
    officer: Actor,
    election: Election,
    query: str,
    limit: int = 50,
    settings: Settings | None = None,
) -> Sequence[Voter]:
    """By registration number, by a document's number (with `settings`: numbers are stored
    only sealed and hashed, so the query is hashed for each accepted type), or by the start
    of the family or given name."""
    authorize(officer, Permission.REGISTER_VOTERS)
    if regno.is_valid(query):
        return session.scalars(
            select(Voter).where(Voter.election_id == election.id, Voter.reg_no == regno.normalize(query))
        ).all()
    found: list[Voter] = []
    number = normalize_number(query)
    if settings is not None and 4 <= len(number) <= 32 and any(ch.isdigit() for ch in number):
        keys = document_keys(settings.key_secret)
        hashes = [keys.number_hash(election.code, kind, number) for kind in election.accepted_documents]
        found = list(
            session.scalars(
                select(Voter)
                .join(VoterDocument, VoterDocument.voter_id == Voter.id)
                .where(VoterDocument.election_id == election.id, VoterDocument.number_hash.in_(hashes))
                .order_by(Voter.family_name, Voter.given_name)
            ).unique()
        )
    pattern = query.strip().lower().replace("%", "").replace("_", "") + "%"
    by_name = session.scalars(
        select(Voter)
        .where(
            Voter.election_id == election.id,
            (func.lower(Voter.family_name).like(pattern)) | (func.lower(Voter.given_name).like(pattern)),
        )
        .order_by(Voter.family_name, Voter.given_name)
        .limit(limit)
    ).all()
    return [*found, *(v for v in by_name if v not in found)][:limit]


def correct(
    session: Session,
    settings: Settings,
    officer: Actor,
    voter: Voter,
    changes: dict[str, Any],
    reason: str,
) -> Voter:
    """Correct a record: the same checks as enrolment; history keeps the old values."""
    who = authorize(officer, Permission.REGISTER_VOTERS).name
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
    record(
        session,
        E.VOTER_CORRECTED,
        officer,
        {"election": election.code, "station": voter.station.code},
        {"reg_no": voter.reg_no, "fields": sorted(before), "reason": reason},
    )
    if {"given_name", "family_name", "date_of_birth"} & set(before):
        flag_likely_duplicates(session, officer, voter)
    return voter


def _as_raw(voter: Voter) -> dict[str, Any]:
    return {
        **{name: getattr(voter, name) for name in PERSONAL_FIELDS},
        "date_of_birth": voter.date_of_birth.isoformat(),
        "constituency": voter.constituency.code,
        "host_country": voter.country.code,
        "station": voter.station.code,
        # Documents are checked at enrolment and never re-validated by a correction.
        "documents": [{"type": t, "number": "0000"} for t in {d.doc_type for d in voter.documents}],
    }


def _as_raw_value(data: VoterData, key: str) -> Any:
    value = getattr(data, key)
    return value.isoformat() if key == "date_of_birth" else value


def transfer(session: Session, officer: Actor, voter: Voter, station_code: str, reason: str) -> Voter:
    """Move a voter who moved to another station (of any host country of the election)."""
    who = authorize(officer, Permission.REGISTER_VOTERS).name
    _require_reason(reason)
    election = _changeable(voter)
    if voter.status != VoterStatus.REGISTERED:
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
    record(
        session,
        E.VOTER_TRANSFERRED,
        officer,
        {"election": election.code, "station": target.code},
        {"reg_no": voter.reg_no, "from": origin.code, "to": target.code, "reason": reason},
    )
    return voter


def cancel(session: Session, officer: Actor, voter: Voter, reason: str) -> Voter:
    who = authorize(officer, Permission.REGISTER_VOTERS).name
    _require_reason(reason)
    election = _changeable(voter)
    if voter.status == VoterStatus.CANCELLED:
        raise ValidationError("This registration is cancelled already.")
    release_seat(session, voter.station)
    return _change_status(session, officer, who, election, voter, VoterStatus.CANCELLED, reason)


def reinstate(session: Session, officer: Actor, voter: Voter, reason: str) -> Voter:
    who = authorize(officer, Permission.REGISTER_VOTERS).name
    _require_reason(reason)
    election = _changeable(voter)
    if voter.status != VoterStatus.CANCELLED:
        raise ValidationError("Only a cancelled registration can be reinstated.")
    if not take_seat(session, voter.station):
        raise StationFull(f"Station {voter.station.code} is full; transfer the voter instead.")
    return _change_status(session, officer, who, election, voter, VoterStatus.REGISTERED, reason)


# A registration's status as cancelling and reinstating change it: its history's kind, its event.
_STATUS_CHANGES = {
    VoterStatus.CANCELLED: ("cancelled", E.VOTER_CANCELLED),
    VoterStatus.REGISTERED: ("reinstated", E.VOTER_REINSTATED),
}


def _change_status(
    session: Session,
    officer: Actor,
    who: str,
    election: Election,
    voter: Voter,
    status: VoterStatus,
    reason: str,
) -> Voter:
    """Give the registration its new `status`, with its history row and its audit entry."""
    kind, event = _STATUS_CHANGES[status]
    voter.status, voter.updated_at = status, utcnow()
    session.add(VoterHistory(voter=voter, kind=kind, officer=who, reason=reason))
    record(
        session,
        event,
        officer,
        {"election": election.code, "station": voter.station.code},
        {"reg_no": voter.reg_no, "reason": reason},
    )
    return voter
