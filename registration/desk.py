"""What a polling station's desk reads of the frozen list: a voter by registration number
(the check character catches a typo), by the card's QR code (it carries the number), or by
name across scripts and spellings; and the size of a station's list."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Select, and_, bindparam, func, select
from sqlalchemy.orm import Session, aliased, joinedload

from ocv.acting import Actor, authorize
from ocv.auth.permissions import Permission
from ocv.errors import NotFound
from registration import names, regno
from registration.errors import MistypedRegNo
from registration.matching import name_parts
from registration.models import BallotStyle, Constituency, Election, Station, Voter, VoterStatus

SEARCH_LIMIT = 10
SEARCH_THRESHOLD = 0.6  # looser than duplicate matching: an official looks at each result


@dataclass(frozen=True)
class ListedVoter:
    """A voter as the desk shows them: enough to confirm who stands there, nothing more."""

    id: uuid.UUID
    reg_no: str  # as stored and logged; `shown` is how people read it
    given_name: str
    family_name: str
    father_name: str | None
    names_original_script: str | None
    date_of_birth: str
    document_types: tuple[str, ...]
    station: str
    ballot_style: str
    registered: bool  # False: cancelled, so not on the list

    @property
    def shown(self) -> str:
        return regno.format(self.reg_no)

    @staticmethod
    def of(voter: Voter) -> ListedVoter:
        return ListedVoter(
            id=voter.id,
            reg_no=voter.reg_no,
            given_name=voter.given_name,
            family_name=voter.family_name,
            father_name=voter.father_name,
            names_original_script=voter.names_original_script,
            date_of_birth=voter.date_of_birth.isoformat(),
            document_types=tuple(sorted({d.doc_type for d in voter.documents})),
            station=voter.station.code,
            ballot_style=voter.constituency.ballot_style.code,
            registered=voter.status == VoterStatus.REGISTERED,
        )


@dataclass(frozen=True)
class DeskVoter:
    """What marking a voter needs of the list: who, where they are listed, which ballot."""

    id: uuid.UUID
    reg_no: str
    station: str
    ballot_style: str
    registered: bool

    @property
    def shown(self) -> str:
        return regno.format(self.reg_no)


@dataclass(frozen=True)
class AtDesk:
    """A desk's look-up: the election that holds the station (as `election_of_station`
    picks it), the station's code, and the voter with the number typed: None when no voter
    of this election has it, or when the number is mistyped (`mistyped` says how)."""

    election: str
    voting_rule: str
    station: str
    voter: DeskVoter | None
    typed: str  # the number in canonical form; "" when mistyped
    mistyped: MistypedRegNo | None = None

    def voter_or_raise(self) -> DeskVoter:
        """The voter, or what `voter_by_number` raises: MistypedRegNo, NotFound."""
        if self.mistyped is not None:
            raise self.mistyped
        if self.voter is None:
            raise NotFound(f"No voter {regno.format(self.typed)} on the list of {self.election}.")
        return self.voter


_DESK = aliased(Station, name="desk")
_LISTED_AT = aliased(Station, name="listed_at")


_AT_DESK = (  # built once: every check-in runs it
    select(
        Election.code,
        Election.voting_rule,
        _DESK.code,
        Voter.id,
        Voter.reg_no,
        Voter.status,
        _LISTED_AT.code,
        BallotStyle.code,
    )
    .select_from(_DESK)
    .join(Election, Election.id == _DESK.election_id)
    .outerjoin(Voter, and_(Voter.election_id == Election.id, Voter.reg_no == bindparam("number")))
    .outerjoin(_LISTED_AT, _LISTED_AT.id == Voter.station_id)
    .outerjoin(Constituency, Constituency.id == Voter.constituency_id)
    .outerjoin(BallotStyle, BallotStyle.id == Constituency.ballot_style_id)
    .where(_DESK.code == bindparam("station"))
    .order_by(Election.polling_day.desc())
    .limit(1)
)
_AT_DESK_IN = _AT_DESK.where(Election.code == bindparam("election"))


def at_desk(session: Session, actor: Actor, station: str, reg_no: str, election: str | None = None) -> AtDesk:
    """The station's election and the voter numbered `reg_no` on its list, in one query
    (the check-in's hot path). NotFound for a station no election holds."""
    authorize(actor, Permission.CHECK_IN_VOTERS)
    mistyped, number = None, ""
    try:
        number = regno.validate(reg_no)
    except regno.InvalidRegNo as error:
        mistyped = _mistyped(error)
    query = _AT_DESK_IN if election else _AT_DESK
    values = {
        "station": station.strip().upper(),
        "number": number,
        "election": (election or "").strip().upper(),
    }
    row = session.execute(query, values).first()
    if row is None:
        raise NotFound(f"No station {station!r}" + (f" in {election}." if election else "."))
    code, rule, desk, voter_id, listed_no, status, listed_at, style = row
    voter = None
    if voter_id is not None:
        registered = status == VoterStatus.REGISTERED
        voter = DeskVoter(voter_id, listed_no, listed_at, style, registered)
    return AtDesk(code, rule, desk, voter, number, mistyped)


def _mistyped(error: regno.InvalidRegNo) -> MistypedRegNo:
    reason = "check" if error.reason == "check" else "format"
    message = "one of its characters is wrong" if reason == "check" else "it is not a registration number"
    return MistypedRegNo(f"Check the number: {message}.", reason)


def _voters(election: Election) -> Select[Voter]:
    return (
        select(Voter)
        .where(Voter.election_id == election.id)
        .options(
            joinedload(Voter.station),
            joinedload(Voter.constituency).joinedload(Constituency.ballot_style),
            joinedload(Voter.documents),
        )
    )


def voter_by_number(session: Session, actor: Actor, election: Election, reg_no: str) -> ListedVoter:
    """MistypedRegNo for a number with a wrong character, NotFound for one not registered."""
    authorize(actor, Permission.CHECK_IN_VOTERS)
    try:
        number = regno.validate(reg_no)
    except regno.InvalidRegNo as error:
        raise _mistyped(error) from None
    voter = session.scalars(_voters(election).where(Voter.reg_no == number)).unique().one_or_none()
    if voter is None:
        raise NotFound(f"No voter {regno.format(number)} on the list of {election.code}.")
    return ListedVoter.of(voter)


def voters_by_name(
    session: Session, actor: Actor, election: Election, query: str, station: Station | None = None
) -> list[ListedVoter]:
    """The registered voters whose name is most like `query` (any script, any order), best
    first; of one station's list when given."""
    authorize(actor, Permission.CHECK_IN_VOTERS, station.code if station else None)
    words = query.split()
    if not words:
        return []
    latin = all(ch.isascii() for ch in query)
    wanted = names.NameParts(
        given=words[0], family=" ".join(words[1:]), original_script=None if latin else query
    )
    found = _voters(election).where(Voter.status == VoterStatus.REGISTERED)
    if station is not None:
        found = found.where(Voter.station_id == station.id)
    if len(words) == 1:  # one name: the family's, the given one, the father's
        scored = [
            (names.best_part_similarity(words[0], name_parts(v)), v) for v in session.scalars(found).unique()
        ]
    else:
        scored = [(names.name_similarity(wanted, name_parts(v)), v) for v in session.scalars(found).unique()]
    best = sorted((pair for pair in scored if pair[0] >= SEARCH_THRESHOLD), key=lambda p: -p[0])
    return [ListedVoter.of(voter) for _, voter in best[:SEARCH_LIMIT]]


def list_size(session: Session, station: Station) -> int:
    """Voters on a station's list (public: the figure every protocol prints)."""
    count = session.scalar(
        select(func.count())
        .select_from(Voter)
        .where(Voter.station_id == station.id, Voter.status == VoterStatus.REGISTERED)
    )
    return count or 0
