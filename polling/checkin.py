"""The desk: find the voter, mark them, hand out the ballot of their style.

Marking is one INSERT into the marked register, whose unique (election, voter) decides
between two desks, workers or stations racing for the same voter: exactly one wins, the
other learns where and when the voter was marked. Nothing else is locked.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ocv.acting import Actor, authorize, record
from ocv.auth.permissions import Permission
from ocv.errors import NotFound, ValidationError
from polling import events as E
from polling.errors import AlreadyVoted
from polling.models import Mark, Spoiled, StationState, Tendered
from polling.stations import Place, accounts, reason_of, require_state
from registration import service as registry


def _format_time(mark: Mark) -> str:
    return mark.at.strftime("%Y-%m-%d %H:%M UTC")


def check_in(session: Session, actor: Actor, where: Place, reg_no: str) -> Mark:
    """Mark the voter with this number as voted here. MistypedRegNo (422) for a typo,
    NotFound (404) for a number not on the list, AlreadyVoted (409), ValidationError (422)
    for a voter of another station under the assigned-station rule."""
    authorize(actor, Permission.CHECK_IN_VOTERS, where.code)
    require_state(where, StationState.POLLING)
    voter = registry.voter_by_number(session, actor, where.election, reg_no)
    if not voter.registered:
        raise NotFound(f"{voter.shown} is not on the list: the registration was cancelled.")
    if where.election.voting_rule == "assigned_station" and voter.station != where.code:
        raise ValidationError(
            f"{voter.shown} votes at {voter.station}, not here.",
            {"reg_no": [f"Registered at {voter.station}."]},
        )
    if accounts(session, where).stock(voter.ballot_style) <= 0:
        raise ValidationError(
            f"No ballot papers of style {voter.ballot_style} left: resupply first.",
            {"reg_no": ["Out of ballots."]},
        )
    mark = Mark(
        election_code=where.election.code,
        voter_id=voter.id,
        reg_no=voter.reg_no,
        polling_station_id=where.polling.id,
        station_code=where.code,
        ballot_style=voter.ballot_style,
        by=actor.name,
    )
    try:
        with session.begin_nested():
            session.add(mark)
    except IntegrityError:
        earlier = session.scalars(
            select(Mark).where(Mark.election_code == where.election.code, Mark.voter_id == voter.id)
        ).one()
        when = _format_time(earlier)
        message = f"{voter.shown} already voted at {earlier.station_code} at {when}."
        raise AlreadyVoted(message, earlier.station_code, when) from None
    payload = {"reg_no": voter.reg_no, "station": where.code, "ballot_style": voter.ballot_style}
    record(session, E.VOTER_CHECKED_IN, actor, where.scope(), payload)
    return mark


def _mark_here(session: Session, actor: Actor, where: Place, reg_no: str) -> Mark:
    voter = registry.voter_by_number(session, actor, where.election, reg_no)
    mark = session.scalar(
        select(Mark).where(Mark.polling_station_id == where.polling.id, Mark.reg_no == voter.reg_no)
    )
    if mark is None:
        raise NotFound(f"{voter.shown} was not checked in at {where.code}.")
    return mark


def undo_check_in(session: Session, actor: Actor, where: Place, reg_no: str, reason: Any) -> None:
    """A check-in entered by mistake, taken back by the presiding officer before the ballot
    was cast (a spoiled ballot means it was in the voter's hands: no undo then)."""
    authorize(actor, Permission.RUN_STATION, where.code)
    require_state(where, StationState.POLLING)
    why = reason_of(reason)
    mark = _mark_here(session, actor, where, reg_no)
    if session.scalar(select(Spoiled.id).where(Spoiled.mark_id == mark.id)) is not None:
        raise ValidationError("This voter spoiled a ballot already: the check-in stands.")
    session.execute(delete(Mark).where(Mark.id == mark.id))
    record(
        session,
        E.CHECK_IN_UNDONE,
        actor,
        where.scope(),
        {"reg_no": mark.reg_no, "station": where.code, "reason": why},
    )


def spoil(session: Session, actor: Actor, where: Place, reg_no: str) -> Spoiled:
    """The voter spoiled their ballot and gets another: once at most."""
    authorize(actor, Permission.CHECK_IN_VOTERS, where.code)
    require_state(where, StationState.POLLING)
    mark = _mark_here(session, actor, where, reg_no)
    spoiled = Spoiled(
        polling_station_id=where.polling.id, mark_id=mark.id, ballot_style=mark.ballot_style, by=actor.name
    )
    try:
        with session.begin_nested():
            session.add(spoiled)
    except IntegrityError:
        raise ValidationError("This voter had a spoiled ballot replaced already: only once.") from None
    record(
        session,
        E.BALLOT_SPOILED,
        actor,
        where.scope(),
        {"station": where.code, "ballot_style": mark.ballot_style},
    )
    return spoiled


def tendered(session: Session, actor: Actor, where: Place, ballot_style: str, claim: Any) -> Tendered:
    """A ballot in an envelope, kept apart, for someone the list does not hold; `claim` is
    who they say they are and why they should vote (it stays at the station, not in the log)."""
    authorize(actor, Permission.CHECK_IN_VOTERS, where.code)
    require_state(where, StationState.POLLING)
    if ballot_style not in where.styles():
        raise ValidationError(f"{ballot_style!r} is not a ballot style here.", {"ballot_style": ["Unknown."]})
    statement = reason_of(claim)
    ballot = Tendered(
        polling_station_id=where.polling.id, ballot_style=ballot_style, claim=statement, by=actor.name
    )
    session.add(ballot)
    session.flush()
    payload = {"station": where.code, "ballot_style": ballot_style, "tendered": ballot.id}
    record(session, E.TENDERED_BALLOT_ISSUED, actor, where.scope(), payload)
    return ballot
