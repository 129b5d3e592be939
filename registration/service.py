"""Registration's public operations: the only module other packages may call.

The work is split by topic (setup, enrolment, objections, lists, imports); this
module names what is public and adds the rules that span topics.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ocv.acting import Actor
from ocv.errors import NotFound
from registration import lists, regno
from registration.changes import (
    cancel,
    correct,
    get_voter,
    open_reviews,
    reinstate,
    resolve_review,
    search_voters,
    transfer,
)
from registration.desk import ListedVoter, list_size, voter_by_number, voters_by_name
from registration.enrolment import ElectionIndex, enrol
from registration.errors import DuplicateDocument, MistypedRegNo, StationFull, WrongPhase
from registration.lists import list_digest, registry_counts, self_check, station_list, station_list_page
from registration.models import (
    BallotStyle,
    Constituency,
    DuplicateReview,
    Election,
    ElectionStatus,
    Station,
    Voter,
    VoterStatus,
)
from registration.objections import decide as decide_objection
from registration.objections import file as file_objection
from registration.objections import for_election as objections_of
from registration.objections import get as get_objection
from registration.objections import notify as notify_objection
from registration.objections import reply as reply_to_objection
from registration.objections import undecided as undecided_objections
from registration.setup import advance as _advance
from registration.setup import (
    check_editable,
    definition_of,
    describe,
    edit_election,
    get_election,
    get_station,
    list_elections,
    load_election,
)

__all__ = [
    "DuplicateDocument",
    "ElectionIndex",
    "ListedVoter",
    "MistypedRegNo",
    "StationFull",
    "WrongPhase",
    "advance",
    "cancel",
    "check_editable",
    "correct",
    "decide_objection",
    "definition_of",
    "describe",
    "edit_election",
    "election_of_station",
    "enrol",
    "file_objection",
    "get_election",
    "get_objection",
    "get_station",
    "get_voter",
    "list_digest",
    "list_elections",
    "list_size",
    "load_election",
    "looks_like_reg_no",
    "notify_objection",
    "objections_of",
    "open_reviews",
    "registry_counts",
    "registered_by_station_and_style",
    "reinstate",
    "reply_to_objection",
    "resolve_review",
    "search_voters",
    "self_check",
    "station_list",
    "station_list_page",
    "stations_of",
    "tally_settings",
    "transfer",
    "voter_by_number",
    "voter_count",
    "voters_by_name",
]


def advance(session: Session, actor: Actor, election: Election, to: str) -> Election:
    """Move to the next phase; exhibition publishes the provisional lists, freezing the
    final ones, and freezing waits until every objection and duplicate review is settled."""
    if to == ElectionStatus.FROZEN.value:
        pending = undecided_objections(session, election) + len(
            session.scalars(
                select(DuplicateReview.id).where(
                    DuplicateReview.election_id == election.id, DuplicateReview.status == "open"
                )
            ).all()
        )
        if pending:
            raise WrongPhase(f"{pending} objection(s) or duplicate review(s) are still open.")
    _advance(session, actor, election, to)
    if to == ElectionStatus.EXHIBITION.value:
        lists.publish(session, actor, election, "exhibition")
    elif to == ElectionStatus.FROZEN.value:
        election.frozen_digest = lists.publish(session, actor, election, "final")
    return election


def election_of_station(session: Session, station: str, election: str | None = None) -> str:
    """The code of the election that holds `station` (the latest by polling day), or of
    `election` if it holds it. NotFound otherwise."""
    query = (
        select(Election.code)
        .join(Station, Station.election_id == Election.id)
        .where(Station.code == station.strip().upper())
        .order_by(Election.polling_day.desc())
        .limit(1)
    )
    if election:
        query = query.where(Election.code == election.strip().upper())
    code = session.scalar(query)
    if code is None:
        raise NotFound(f"No station {station!r}" + (f" in {election}." if election else "."))
    return code


def looks_like_reg_no(text: str) -> bool:
    """Whether `text` is a registration number (typed, or read from a card's QR code)."""
    return regno.is_valid(text)


def voter_count(session: Session, election: Election) -> int:
    return (
        session.scalar(select(func.count()).select_from(Voter).where(Voter.election_id == election.id)) or 0
    )


# --- for the tally -----------------------------------------------------------------------


def tally_settings(election: Election) -> dict[str, Any]:
    """The election's tally settings with their defaults (docs/election-file.md, "tally")."""
    from registration.election_file import TALLY_DEFAULTS

    return {**TALLY_DEFAULTS, **(election.tally_settings or {})}


def stations_of(election: Election) -> list[dict[str, str]]:
    """Every station with its host country, in code order."""
    return [
        {"code": s.code, "name": s.name, "country": s.country.code, "country_name": s.country.name}
        for s in election.stations
    ]


def registered_by_station_and_style(session: Session, election: Election) -> dict[tuple[str, str], int]:
    """Registered voters per (station, ballot style): turnout's denominators, one GROUP BY."""
    rows = session.execute(
        select(Station.code, BallotStyle.code, func.count())
        .select_from(Voter)
        .join(Station, Voter.station_id == Station.id)
        .join(Constituency, Voter.constituency_id == Constituency.id)
        .join(BallotStyle, Constituency.ballot_style_id == BallotStyle.id)
        .where(Voter.election_id == election.id, Voter.status == VoterStatus.REGISTERED)
        .group_by(Station.code, BallotStyle.code)
    )
    return {(station, style): n for station, style, n in rows}
