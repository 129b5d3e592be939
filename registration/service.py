"""Registration's public operations: the only module other packages may call.

The work is split by topic (setup, enrolment, objections, lists, imports); this
module names what is public and adds the rules that span topics.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ocv.auth.models import User
from registration import lists, objections
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
from registration.enrolment import ElectionIndex, enrol
from registration.errors import DuplicateDocument, StationFull, WrongPhase
from registration.lists import registry_counts, self_check, station_list, station_list_page
from registration.models import DuplicateReview, Election, ElectionStatus, Voter
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
    "StationFull",
    "WrongPhase",
    "advance",
    "cancel",
    "check_editable",
    "correct",
    "definition_of",
    "describe",
    "edit_election",
    "enrol",
    "get_election",
    "get_station",
    "get_voter",
    "list_elections",
    "load_election",
    "objections",
    "open_reviews",
    "registry_counts",
    "reinstate",
    "resolve_review",
    "search_voters",
    "self_check",
    "station_list",
    "station_list_page",
    "transfer",
    "voter_count",
]


def advance(session: Session, actor: User | None, election: Election, to: str) -> Election:
    """Move to the next phase; exhibition publishes the provisional lists, freezing the
    final ones, and freezing waits until every objection and duplicate review is settled."""
    if to == ElectionStatus.FROZEN.value:
        pending = objections.undecided(session, election) + len(
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


def voter_count(session: Session, election: Election) -> int:
    return (
        session.scalar(select(func.count()).select_from(Voter).where(Voter.election_id == election.id)) or 0
    )
