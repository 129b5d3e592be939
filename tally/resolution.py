"""Resolving a quarantined station, and a station's tendered ballots: one tally officer
proposes with a written reason, a second, different one approves or rejects. Every step
is an audit entry; nothing takes effect before the approval.

Station actions: accept as is, recount (the figures recomputed from the stored CVRs and
checked again), re-enter (the tally sheet entered again at the station, then checked
again), exclude. Tendered ballots: accept or reject.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ocv.acting import Actor, authorize, record
from ocv.auth.permissions import Permission
from ocv.db import utcnow
from ocv.errors import NotFound, ValidationError
from polling import service as polling
from registration import service as registry
from tally import events as E
from tally import intake
from tally.errors import NotQuarantined, SameOfficer, WrongProposalState
from tally.models import TallyProposal, TallyStation
from tally.types import Action, CheckResult, Proposal, ProposalState, QuarantineItem, StationStatus

STATION_ACTIONS = (Action.ACCEPT, Action.RECOUNT, Action.REENTER, Action.EXCLUDE)
TENDERED_ACTIONS = (Action.ACCEPT, Action.REJECT)
MAX_REASON = 2000


def _reason(raw: str) -> str:
    reason = (raw or "").strip()
    if not reason or len(reason) > MAX_REASON:
        raise ValidationError(
            f"Give a written reason (at most {MAX_REASON:,} characters).", {"reason": ["Required."]}
        )
    return reason


def _view(p: TallyProposal) -> Proposal:
    return Proposal(
        p.id,
        p.station_code,
        p.subject,
        p.action,
        p.reason,
        p.proposed_by,
        p.proposed_at,
        p.state,
        p.decided_by,
        p.decided_at,
        p.decision_reason,
    )


def _payload(p: TallyProposal, reason: str) -> dict[str, Any]:
    return {
        "proposal": p.id,
        "station": p.station_code,
        "subject": p.subject,
        "action": p.action.value,
        "reason": reason,
    }


def _tally_station(session: Session, election: str, station: str) -> TallyStation:
    row = session.scalar(
        select(TallyStation).where(
            TallyStation.election_code == election, TallyStation.station_code == station
        )
    )
    if row is None:
        raise NotFound(f"Station {station} has not been taken in.")
    return row


def propose(
    session: Session,
    actor: Actor,
    election_code: str,
    station_code: str,
    action: str,
    reason: str,
    subject: str = "station",
) -> Proposal:
    authorize(actor, Permission.TALLY)
    election = registry.get_election(session, election_code)
    station = registry.get_station(session, election, station_code).code
    row = _tally_station(session, election.code, station)
    try:
        chosen = Action(action)
    except ValueError:
        raise ValidationError(f"Unknown action {action!r}.", {"action": [a.value for a in Action]}) from None
    if subject == "station":
        if chosen not in STATION_ACTIONS:
            raise ValidationError(
                "A station is accepted, recounted, re-entered or excluded.",
                {"action": [a.value for a in STATION_ACTIONS]},
            )
        if row.status is not StationStatus.QUARANTINED:
            raise NotQuarantined(f"Station {station} is {row.status.value}, not quarantined.")
        if chosen is Action.REENTER and election.counting != "tally_sheet":
            raise ValidationError(f"{election.code} counts CVRs: order a recount instead.")
        if chosen is Action.RECOUNT and election.counting != "cvr":
            raise ValidationError(f"{election.code} counts by tally sheet: order a re-entry instead.")
    elif subject == "tendered":
        if chosen not in TENDERED_ACTIONS:
            raise ValidationError(
                "Tendered ballots are accepted or rejected.", {"action": ["accept", "reject"]}
            )
        if row.tendered != "pending" or not polling.tendered_ballots(session, election.code, station):
            raise WrongProposalState(f"Station {station} has no tendered ballots waiting.")
    else:
        raise ValidationError("The subject is 'station' or 'tendered'.")
    open_one = session.scalar(
        select(TallyProposal.id).where(
            TallyProposal.election_code == election.code,
            TallyProposal.station_code == station,
            TallyProposal.subject == subject,
            TallyProposal.state == ProposalState.PROPOSED,
        )
    )
    if open_one is not None:
        raise WrongProposalState(f"Proposal {open_one} for {station} is waiting for a decision.")
    written = _reason(reason)
    proposal = TallyProposal(
        election_code=election.code,
        station_code=station,
        subject=subject,
        action=chosen,
        reason=written,
        proposed_by=actor.name,
    )
    session.add(proposal)
    session.flush()
    record(
        session,
        E.RESOLUTION_PROPOSED,
        actor,
        {"election": election.code, "station": station},
        _payload(proposal, written),
    )
    return _view(proposal)


def decide(
    session: Session, actor: Actor, proposal_id: int, approve: bool, reason: str = "", settings: Any = None
) -> Proposal:
    authorize(actor, Permission.TALLY)
    proposal = session.get(TallyProposal, proposal_id)
    if proposal is None:
        raise NotFound(f"No proposal {proposal_id}.")
    if proposal.state is not ProposalState.PROPOSED:
        raise WrongProposalState(f"Proposal {proposal_id} was {proposal.state.value} already.")
    if actor.name == proposal.proposed_by:
        raise SameOfficer("A second tally officer decides: you proposed this one.")
    written = (reason or "").strip() if approve else _reason(reason)
    if len(written) > MAX_REASON:
        raise ValidationError(f"At most {MAX_REASON:,} characters.")
    proposal.state = ProposalState.APPROVED if approve else ProposalState.REJECTED
    proposal.decided_by, proposal.decided_at, proposal.decision_reason = actor.name, utcnow(), written
    scope = {"election": proposal.election_code, "station": proposal.station_code}
    event = E.RESOLUTION_APPROVED if approve else E.RESOLUTION_REJECTED
    record(session, event, actor, scope, _payload(proposal, written or proposal.reason))
    if approve:
        _apply(session, actor, proposal, settings)
    return _view(proposal)


def _apply(session: Session, actor: Actor, proposal: TallyProposal, settings: Any) -> None:
    election = registry.get_election(session, proposal.election_code)
    row = _tally_station(session, election.code, proposal.station_code)
    scope = {"election": election.code, "station": row.station_code}
    if proposal.subject == "tendered":
        row.tendered = "accepted" if proposal.action is Action.ACCEPT else "rejected"
        count = polling.tendered_ballots(session, election.code, row.station_code)
        record(
            session,
            E.TENDERED_DECIDED,
            actor,
            scope,
            {
                "station": row.station_code,
                "tendered": count,
                "accepted": row.tendered == "accepted",
                "proposal": proposal.id,
            },
        )
    elif proposal.action is Action.ACCEPT:
        intake.accept(session, actor, election, row, proposal=proposal.id)
    elif proposal.action is Action.EXCLUDE:
        row.status, row.decided_at = StationStatus.EXCLUDED, utcnow()
        record(
            session,
            E.STATION_EXCLUDED,
            actor,
            scope,
            {
                "station": row.station_code,
                "sha256": row.protocol_sha256,
                "proposal": proposal.id,
                "reason": proposal.reason,
            },
        )
    else:  # recount, re-entry: checked again from what is stored now
        intake.take_in(
            session,
            actor,
            election.code,
            row.station_code,
            recount=True,
            settings=settings,
            proposal=proposal.id,
        )


def quarantine(session: Session, actor: Actor, election_code: str) -> list[QuarantineItem]:
    authorize(actor, Permission.OBSERVE)
    election = registry.get_election(session, election_code)
    names = {s["code"]: s["name"] for s in registry.stations_of(election)}
    open_by_station = {
        p.station_code: _view(p)
        for p in session.scalars(
            select(TallyProposal).where(
                TallyProposal.election_code == election.code,
                TallyProposal.subject == "station",
                TallyProposal.state == ProposalState.PROPOSED,
            )
        )
    }
    return [
        QuarantineItem(
            r.station_code,
            names.get(r.station_code, r.station_code),
            r.country,
            r.received_at,
            [CheckResult(**c) for c in r.checks if not c["holds"]],  # type: ignore[arg-type]
            open_by_station.get(r.station_code),
        )
        for r in session.scalars(
            select(TallyStation)
            .where(
                TallyStation.election_code == election.code, TallyStation.status == StationStatus.QUARANTINED
            )
            .order_by(TallyStation.station_code)
        )
    ]


def proposals(session: Session, actor: Actor, election_code: str) -> list[Proposal]:
    authorize(actor, Permission.OBSERVE)
    election = registry.get_election(session, election_code)
    return [
        _view(p)
        for p in session.scalars(
            select(TallyProposal)
            .where(TallyProposal.election_code == election.code)
            .order_by(TallyProposal.id)
        )
    ]
