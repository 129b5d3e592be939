"""Objections to entries on the provisional list: filed → voter notified → reply → decided.

An upheld objection cancels the entry; either way the whole exchange is kept."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from ocv.acting import Actor, authorize, record
from ocv.auth.permissions import Permission
from ocv.db import utcnow
from ocv.errors import NotFound, ValidationError
from ocv.events import EventType
from registration import events as E
from registration.changes import cancel
from registration.errors import WrongPhase
from registration.models import (
    Decision,
    Election,
    ElectionStatus,
    Objection,
    ObjectionStatus,
    Voter,
    VoterStatus,
)
from registration.setup import require_status


def _text(value: str, field: str) -> str:
    value = (value or "").strip()
    if not value:
        raise ValidationError(f"The {field} is required.", {field: ["This is required."]})
    return value


def _record(session: Session, user: Actor, event: EventType, objection: Objection, **payload: str) -> None:
    election = objection.voter.station.election
    record(
        session,
        event,
        user,
        {"election": election.code, "station": objection.voter.station.code},
        {"objection": objection.id, **payload},
    )


def _step(objection: Objection, expected: ObjectionStatus) -> None:
    if objection.status != expected:
        raise WrongPhase(f"Objection {objection.id} is {objection.status}; this step needs {expected}.")


def get(session: Session, user: Actor, objection_id: int) -> Objection:
    authorize(user, Permission.REGISTER_VOTERS)
    objection = session.get(Objection, objection_id)
    if objection is None:
        raise NotFound(f"No objection {objection_id}.")
    return objection


def for_election(session: Session, user: Actor, election: Election) -> Sequence[Objection]:
    authorize(user, Permission.REGISTER_VOTERS)
    return session.scalars(
        select(Objection).where(Objection.election_id == election.id).order_by(Objection.id)
    ).all()


def file(session: Session, user: Actor, voter: Voter, grounds: str, filed_by: str = "") -> Objection:
    """Record an objection during the exhibition period (`filed_by`: who objects, if not the officer)."""
    who = authorize(user, Permission.REGISTER_VOTERS).name
    require_status(voter.station.election, ElectionStatus.EXHIBITION)
    if voter.status != VoterStatus.REGISTERED:
        raise ValidationError("Only a registered entry can be objected to.")
    objection = Objection(
        election_id=voter.election_id,
        voter=voter,
        grounds=_text(grounds, "grounds"),
        filed_by=(filed_by.strip() or who)[:64],
    )
    session.add(objection)
    session.flush()  # the id names the objection in the log
    _record(session, user, E.OBJECTION_FILED, objection, reg_no=voter.reg_no)
    return objection


def notify(session: Session, user: Actor, objection: Objection, method: str) -> Objection:
    who = authorize(user, Permission.REGISTER_VOTERS).name
    _step(objection, ObjectionStatus.FILED)
    objection.notice_method = _text(method, "method")[:100]
    objection.status, objection.notified_at, objection.notified_by = ObjectionStatus.NOTIFIED, utcnow(), who
    _record(session, user, E.OBJECTION_NOTIFIED, objection, method=objection.notice_method)
    return objection


def reply(session: Session, user: Actor, objection: Objection, text: str) -> Objection:
    authorize(user, Permission.REGISTER_VOTERS)
    _step(objection, ObjectionStatus.NOTIFIED)
    objection.reply, objection.status, objection.replied_at = (
        _text(text, "reply"),
        ObjectionStatus.REPLIED,
        utcnow(),
    )
    _record(session, user, E.OBJECTION_REPLIED, objection)
    return objection


def decide(session: Session, user: Actor, objection: Objection, decision: str, reason: str) -> Objection:
    """Decide after the reply, or after notice when the voter did not reply in time."""
    who = authorize(user, Permission.REGISTER_VOTERS).name
    if objection.status not in (ObjectionStatus.NOTIFIED, ObjectionStatus.REPLIED):
        raise WrongPhase(f"Objection {objection.id} is {objection.status}; notify the voter first.")
    if decision not in (Decision.UPHELD, Decision.DISMISSED):
        raise ValidationError("Decide 'upheld' or 'dismissed'.", {"decision": ["Choose one."]})
    decided = Decision(decision)
    reason = _text(reason, "reason")
    objection.status, objection.decision, objection.decision_reason = ObjectionStatus.DECIDED, decided, reason
    objection.decided_by, objection.decided_at = who, utcnow()
    _record(session, user, E.OBJECTION_DECIDED, objection, decision=decided, reason=reason)
    if decided is Decision.UPHELD:
        cancel(session, user, objection.voter, f"objection {objection.id} upheld: {reason}")
    return objection


def undecided(session: Session, election: Election) -> int:
    return len(
        session.scalars(
            select(Objection.id).where(Objection.election_id == election.id, Objection.status != "decided")
        ).all()
    )
