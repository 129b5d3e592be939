"""What the tally's read functions return (tally.service re-exports them): plain frozen
dataclasses, so pages, exports and the API render them without touching a table.

Figures are whole numbers; a turnout is a fraction in [0, 1] (None when nobody is
registered). A `constituency` is a constituency code, or the codes of the constituencies
that share one ballot style joined by "+" (a ballot says its style, not its
constituency: docs/architecture.md, "Tally").
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field


class StationStatus(enum.StrEnum):
    MISSING = "missing"  # no protocol received yet
    QUARANTINED = "quarantined"  # a check failed: counts nowhere until resolved
    ACCEPTED = "accepted"  # every check held, or a resolution accepted it: counted
    EXCLUDED = "excluded"  # excluded by an approved resolution: counted nowhere, shown


class Action(enum.StrEnum):
    """What a tally officer proposes for a quarantined station (or a tendered ballot)."""

    ACCEPT = "accept"  # count it as it is, with a written reason
    RECOUNT = "recount"  # recompute the figures from the stored CVRs, then check again
    REENTER = "reenter"  # the station re-enters the tally sheet; checked again on intake
    EXCLUDE = "exclude"  # count it nowhere, with a reason
    REJECT = "reject"  # tendered ballots only: do not count them


class ProposalState(enum.StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True)
class ContestResult:
    """One contest's figures in one area (or station): votes per choice in the order of
    the election file, blank and invalid ballots, and the ballots that carried it."""

    contest: str
    name: str
    votes_allowed: int
    choices: dict[str, int]
    blank: int
    invalid: int
    ballots: int

    @property
    def valid_votes(self) -> int:
        return sum(self.choices.values())


@dataclass(frozen=True)
class CheckResult:
    """One reconciliation check with its figures. `kind` is "identity" (exact, no
    tolerance) or "flag" (statistical, `tolerance` from the election's settings)."""

    check: str
    kind: str
    left: int | float
    right: int | float
    holds: bool
    contest: str | None = None
    tolerance: float | None = None
    detail: str = ""


@dataclass(frozen=True)
class StationResult:
    station: str
    name: str
    country: str
    status: StationStatus
    registered: int  # voters on the station's list
    checked_in: int
    in_box: int  # ballots in the box (counted)
    turnout: float | None  # checked_in / registered
    contests: list[ContestResult]
    protocol_sha256: str | None
    by_constituency: dict[str, list[ContestResult]] = field(default_factory=dict)


@dataclass(frozen=True)
class AreaResult:
    """An aggregate over accepted stations: `level` is "election", "constituency" or
    "country"; `registered` counts every voter of the area (turnout's denominator covers
    stations not counted yet: see `stations_counted` and `stations_expected`)."""

    level: str
    code: str
    name: str
    registered: int
    registered_counted: int  # on the lists of the accepted stations: turnout's denominator
    ballots: int
    turnout: float | None  # ballots / registered_counted
    stations_counted: int
    stations_expected: int
    contests: list[ContestResult]


@dataclass(frozen=True)
class ResultRow:
    """The finest grain: contest × constituency × host country × station × choice.
    `choice` is a choice's name, or "(blank)" / "(invalid)"."""

    contest: str
    constituency: str
    country: str
    station: str
    choice: str
    votes: int


@dataclass(frozen=True)
class Progress:
    expected: int  # stations of the election
    received: int  # protocols taken in (accepted + quarantined + excluded)
    accepted: int
    quarantined: int
    excluded: int
    missing: int
    registered_counted: int  # voters on the lists of accepted stations

    @property
    def percent_accepted(self) -> float:
        return 100.0 * self.accepted / self.expected if self.expected else 0.0


@dataclass(frozen=True)
class Proposal:
    id: int
    station: str
    subject: str  # "station" or "tendered"
    action: Action
    reason: str
    proposed_by: str
    proposed_at: dt.datetime
    state: ProposalState
    decided_by: str | None
    decided_at: dt.datetime | None
    decision_reason: str


@dataclass(frozen=True)
class QuarantineItem:
    station: str
    name: str
    country: str
    since: dt.datetime
    failing: list[CheckResult]  # the checks that did not hold, with their figures
    open_proposal: Proposal | None


@dataclass(frozen=True)
class Certification:
    number: int  # 1, 2, ... : a correction is a new certification, never an edit
    certified_at: dt.datetime
    tree_size: int  # the checkpoint it is bound to
    root: str  # hex
    sha256: str  # of the results document (JCS)
    signers: list[str]  # tally officers' key names
    reason: str  # "" for the first, the correction's reason after
    document: dict[str, object]


@dataclass(frozen=True)
class CertificationStatus:
    certified: bool
    latest: Certification | None
    history: list[Certification]
    current_sha256: str  # of the results document as the figures stand now
    stale: bool  # the figures changed since the latest certification


@dataclass(frozen=True)
class Embargo:
    ends_at: dt.datetime | None  # the home country's polls close (UTC); None: not set
    in_force: bool
    protocols: str  # "on_submission" or "with_results"


@dataclass(frozen=True)
class Results:
    election: str
    name: str
    progress: Progress
    total: AreaResult
    by_constituency: list[AreaResult]
    by_country: list[AreaResult]
    stations: list[StationResult]
    embargo: Embargo
    certification: CertificationStatus
