"""The desk: find the voter, mark them, hand out the ballot of their style.

Marking is one INSERT into the marked register, whose unique (election, voter) decides
between two desks, workers or stations racing for the same voter: exactly one wins, the
other learns where and when the voter was marked. Nothing else is locked. The same
statement checks that the station is polling and holds a paper of the voter's style, so a
check-in is two statements and its audit entry (docs/architecture.md, "Polling").
"""

from __future__ import annotations

from typing import Any, NoReturn, cast

from sqlalchemy import String, Table, bindparam, case, delete, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ocv.acting import Actor, authorize, record
from ocv.auth.permissions import Permission
from ocv.db import utcnow
from ocv.errors import Conflict, NotFound, OCVError, ValidationError
from polling import events as E
from polling.errors import AlreadyVoted
from polling.models import BallotMovement, Mark, Movement, PollingStation, Spoiled, StationState, Tendered
from polling.stations import Place, accounts, place, reason_of, require_state
from registration import service as registry


def _format_time(mark: Mark) -> str:
    return mark.at.strftime("%Y-%m-%d %H:%M UTC")


def _count(table: Any, style: Any, station: Any) -> Any:
    return (
        select(func.count())
        .select_from(table)
        .where(table.polling_station_id == station, table.ballot_style == style)
        .scalar_subquery()
    )


def _marking(dialect: str) -> Any:
    """INSERT INTO marks ... SELECT ... WHERE the station is polling and holds a paper of
    the voter's style, ON CONFLICT (election, voter) DO NOTHING, RETURNING the id: the
    state, the stock and the mark in one statement. No row back: one of the three said no
    (`_refusal` finds which)."""
    style = bindparam("ballot_style", type_=String())
    moved = (
        select(
            func.coalesce(
                func.sum(
                    case(
                        (BallotMovement.kind == Movement.TRANSFERRED, -BallotMovement.count),
                        else_=BallotMovement.count,
                    )
                ),
                0,
            )
        )
        .where(
            BallotMovement.polling_station_id == PollingStation.id,
            BallotMovement.ballot_style == style,
            BallotMovement.kind != Movement.UNUSED,
        )
        .scalar_subquery()
    )
    held = (
        moved
        - _count(Mark, style, PollingStation.id)
        - _count(Tendered, style, PollingStation.id)
        - _count(Spoiled, style, PollingStation.id)
    )
    table = cast(Table, Mark.__table__)
    columns = table.c
    rows = select(
        bindparam("election_code", type_=columns.election_code.type),
        bindparam("voter_id", type_=columns.voter_id.type),
        bindparam("reg_no", type_=columns.reg_no.type),
        PollingStation.id,
        PollingStation.station_code,
        style,
        bindparam("at", type_=columns.at.type),
        bindparam("by", type_=columns.by.type),
    ).where(
        PollingStation.election_code == bindparam("election_code"),
        PollingStation.station_code == bindparam("station_code"),
        PollingStation.state == StationState.POLLING,
        held > 0,
    )
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    names = ["election_code", "voter_id", "reg_no", "polling_station_id", "station_code"]
    return (
        insert(table)
        .from_select([*names, "ballot_style", "at", "by"], rows)
        .on_conflict_do_nothing(index_elements=["election_code", "voter_id"])
        .returning(columns.id)
    )


_MARKING = {dialect: _marking(dialect) for dialect in ("postgresql", "sqlite")}


def check_in(session: Session, actor: Actor, station: str, reg_no: str, election: str | None = None) -> Mark:
    """Mark the voter with this number as voted at `station` (of `election`, or of the one
    that holds the station). NotFound (404) for a station or a number not on the list,
    PermissionDenied (403) for an official of another station, WrongStationState (409) when
    it is not polling, MistypedRegNo (422) for a typo, ValidationError (422) for a voter of
    another station under the assigned-station rule or a style out of papers, AlreadyVoted
    (409) with where and when for a voter marked already.

    The hot path is two statements before the audit entry: the desk's look-up of station,
    election and voter (registration), and the mark (`_marking`)."""
    desk = registry.at_desk(session, actor, station, reg_no, election)
    authorize(actor, Permission.CHECK_IN_VOTERS, desk.station)
    voter = desk.voter
    if (
        voter is None
        or not voter.registered
        or (desk.voting_rule == "assigned_station" and voter.station != desk.station)
    ):
        _refuse_voter(session, desk)
    assert voter is not None  # _refuse_voter raised otherwise
    now = utcnow()
    marked = session.execute(
        _MARKING[session.get_bind().dialect.name],
        {
            "election_code": desk.election,
            "voter_id": voter.id,
            "reg_no": voter.reg_no,
            "station_code": desk.station,
            "ballot_style": voter.ballot_style,
            "at": now,
            "by": actor.name,
        },
    ).scalar()
    if marked is None:
        raise _refusal(session, desk, voter)
    payload = {"reg_no": voter.reg_no, "station": desk.station, "ballot_style": voter.ballot_style}
    record(session, E.VOTER_CHECKED_IN, actor, {"election": desk.election, "station": desk.station}, payload)
    return Mark(
        id=marked,
        election_code=desk.election,
        voter_id=voter.id,
        reg_no=voter.reg_no,
        station_code=desk.station,
        ballot_style=voter.ballot_style,
        at=now,
        by=actor.name,
    )


def _refuse_voter(session: Session, desk: registry.AtDesk) -> NoReturn:
    """A number the desk cannot mark: the station's state is told first, as always."""
    require_state(place(session, desk.election, desk.station), StationState.POLLING)
    voter = desk.voter_or_raise()
    if not voter.registered:
        raise NotFound(f"{voter.shown} is not on the list: the registration was cancelled.")
    raise ValidationError(
        f"{voter.shown} votes at {voter.station}, not here.",
        {"reg_no": [f"Registered at {voter.station}."]},
    )


def _refusal(session: Session, desk: registry.AtDesk, voter: registry.DeskVoter) -> OCVError:
    """Why the mark was not written: the station is not polling, it is out of the voter's
    style, or the voter is marked already (the unique register decided)."""
    where = place(session, desk.election, desk.station)
    require_state(where, StationState.POLLING)
    if accounts(session, where).stock(voter.ballot_style) <= 0:
        return ValidationError(
            f"No ballot papers of style {voter.ballot_style} left: resupply first.",
            {"reg_no": ["Out of ballots."]},
        )
    earlier = session.scalars(
        select(Mark).where(Mark.election_code == desk.election, Mark.voter_id == voter.id)
    ).one_or_none()
    if earlier is None:  # the station changed under us between the two reads: rare
        return Conflict("The station changed while checking in: try again.")
    when = _format_time(earlier)
    message = f"{voter.shown} already voted at {earlier.station_code} at {when}."
    return AlreadyVoted(message, earlier.station_code, when)


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
