"""Likely duplicates: one matcher for enrolment and the import (docs/voter-import.md).

A voter's likely duplicates are the registered voters of the same election and the same
date of birth, in any country, whose names are similar (`names.name_similarity`) at
`THRESHOLD` or more. Each is queued as a `DuplicateReview` and announced in the log by a
`registration.duplicate_flagged` entry, whichever door the voter came in by.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from typing import TypeVar

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from ocv.acting import Actor, record
from registration import events as E
from registration import names
from registration.models import DuplicateReview, Voter, VoterStatus
from registration.voter_data import VoterData

THRESHOLD = 0.88

K = TypeVar("K", bound=Hashable)


def similar(parts: names.NameParts, others: Iterable[tuple[K, names.NameParts]]) -> list[tuple[K, int]]:
    """The `others` (key, names) similar enough to `parts` to be the same person, each with
    the similarity in percent. The caller gives the registered voters of the same birth date."""
    found = []
    for key, other in others:
        score = names.name_similarity(parts, other)
        if score >= THRESHOLD:
            found.append((key, round(score * 100)))
    return found


def name_parts(voter: Voter | VoterData) -> names.NameParts:
    return names.NameParts(
        given=voter.given_name,
        family=voter.family_name,
        father=voter.father_name,
        grandfather=voter.grandfather_name,
        original_script=voter.names_original_script,
    )


_SAME_BIRTH_DATE = select(Voter).where(
    Voter.election_id == bindparam("election"),
    Voter.date_of_birth == bindparam("born"),
    Voter.id != bindparam("voter"),
    Voter.status == VoterStatus.REGISTERED,
)


def likely_duplicates(session: Session, voter: Voter) -> list[tuple[Voter, int]]:
    """Registered voters of the same birth date and a similar name (any country), with the
    similarity in percent."""
    candidates = session.scalars(
        _SAME_BIRTH_DATE, {"election": voter.election_id, "born": voter.date_of_birth, "voter": voter.id}
    ).all()
    return similar(name_parts(voter), ((other, name_parts(other)) for other in candidates))


def flag_likely_duplicates(
    session: Session,
    officer: Actor,
    voter: Voter,
    found: list[tuple[Voter, int]] | None = None,
) -> list[DuplicateReview]:
    """Queue the voter's likely duplicates (`found` by `likely_duplicates`, or looked up now)."""
    reviews = []
    for other, score in likely_duplicates(session, voter) if found is None else found:
        review = DuplicateReview(
            election_id=voter.election_id, voter_id=voter.id, candidate_id=other.id, score=score
        )
        session.add(review)
        session.flush()  # the review's id names it in the log
        announce(session, officer, voter.station.election.code, review.id, voter.reg_no, other.reg_no, score)
        reviews.append(review)
    return reviews


def announce(
    session: Session, officer: Actor, election: str, review: int, reg_no: str, candidate: str, score: int
) -> None:
    """The log entry of a queued review: a later `duplicate_resolved` names a review it announced."""
    record(
        session,
        E.DUPLICATE_FLAGGED,
        officer,
        {"election": election},
        {"review": review, "reg_no": reg_no, "candidate": candidate, "score": score},
    )
