"""The tally's public operations: the only module other packages (and tally's own pages,
API and exports) call. Reads return the dataclasses of tally.types; writes take an
`Actor`, authorize, and log every step (ocv.acting).

Topics: intake (verify a submitted protocol), checks (reconciliation), resolution
(propose / approve by two different tally officers), aggregate (results), certify.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from ocv.acting import Actor
from tally import aggregate, certify, embargo, intake, resolution
from tally.errors import Embargoed, NothingToCertify, NotQuarantined, SameOfficer, WrongProposalState
from tally.types import (
    Action,
    AreaResult,
    Certification,
    CertificationStatus,
    CheckResult,
    ContestResult,
    Embargo,
    Progress,
    Proposal,
    ProposalState,
    QuarantineItem,
    ResultRow,
    Results,
    StationResult,
    StationStatus,
)

__all__ = [
    "Action",
    "AreaResult",
    "Certification",
    "CertificationStatus",
    "CheckResult",
    "ContestResult",
    "Embargo",
    "Embargoed",
    "NotQuarantined",
    "NothingToCertify",
    "SameOfficer",
    "WrongProposalState",
    "Progress",
    "Proposal",
    "ProposalState",
    "QuarantineItem",
    "ResultRow",
    "Results",
    "StationResult",
    "StationStatus",
    "approve",
    "certification_status",
    "certify_results",
    "embargo_of",
    "intake_all",
    "intake_station",
    "progress",
    "proposals",
    "propose",
    "protocol_is_public",
    "public_results",
    "quarantine",
    "reject",
    "result_rows",
    "results",
    "results_document",
    "station_checks",
]


# --- reads -------------------------------------------------------------------------------


def results(session: Session, actor: Actor, election: str) -> Results:
    """Every level of the results as they stand (accepted stations only), for tally
    officers and observers at any time (PermissionDenied for others)."""
    return aggregate.results(session, actor, election)


def public_results(session: Session, election: str, now: dt.datetime | None = None) -> Results:
    """The results for anyone: `Embargoed` (carrying `ends_at`) until the home country's
    polls close."""
    embargo.require_lifted(session, election, now)
    return aggregate.results(session, None, election)


def result_rows(
    session: Session, actor: Actor | None, election: str, now: dt.datetime | None = None
) -> list[ResultRow]:
    """The finest grain (contest × constituency × country × station × choice), accepted
    stations only, for CSV/JSON/NIST exports. Public after the embargo (actor None)."""
    if actor is None:
        embargo.require_lifted(session, election, now)
    return aggregate.rows(session, actor, election)


def progress(session: Session, election: str) -> Progress:
    """Stations received, accepted, quarantined, excluded, missing (public at any time:
    counts only, no figures)."""
    return aggregate.progress(session, election)


def quarantine(session: Session, actor: Actor, election: str) -> list[QuarantineItem]:
    """Quarantined stations with the failing checks' figures and any open proposal."""
    return resolution.quarantine(session, actor, election)


def station_checks(session: Session, actor: Actor, election: str, station: str) -> list[CheckResult]:
    """Every check of the station's last intake, holding or not."""
    return intake.checks_of(session, actor, election, station)


def proposals(session: Session, actor: Actor, election: str) -> list[Proposal]:
    return resolution.proposals(session, actor, election)


def certification_status(session: Session, election: str) -> CertificationStatus:
    """Public: every certification (a correction is a new one), and whether the figures
    changed since the latest."""
    return certify.status(session, election)


def results_document(session: Session, election: str) -> dict[str, Any]:
    """The results document as a certification would sign it now (JCS-hashable)."""
    return certify.document(session, election)


def embargo_of(session: Session, election: str, now: dt.datetime | None = None) -> Embargo:
    return embargo.of(session, election, now)


def protocol_is_public(session: Session, election: str, station: str, now: dt.datetime | None = None) -> bool:
    """Whether anyone may read the station's protocol now, by the election's rule
    (`on_submission`, or `with_results`: once the embargo ends)."""
    return embargo.protocol_public(session, election, station, now)


# --- writes ------------------------------------------------------------------------------


def intake_station(
    session: Session, actor: Actor, election: str, station: str, settings: Any = None
) -> StationStatus:
    """Verify the station's submitted protocol and run every check; accepted, or
    quarantined with the failing figures. Logged. With `settings`, a checkpoint is issued
    when none covers the protocol's entry yet."""
    return intake.take_in(session, actor, election, station, settings=settings)


def intake_all(
    session: Session, actor: Actor, election: str, settings: Any = None
) -> dict[str, StationStatus]:
    """Take in every submitted protocol not taken in yet: station → status."""
    return intake.take_in_all(session, actor, election, settings)


def propose(
    session: Session,
    actor: Actor,
    election: str,
    station: str,
    action: str,
    reason: str,
    subject: str = "station",
) -> Proposal:
    """A tally officer proposes what to do with a quarantined station (accept, recount,
    reenter, exclude) or with the station's tendered ballots (accept, reject)."""
    return resolution.propose(session, actor, election, station, action, reason, subject)


def approve(
    session: Session, actor: Actor, proposal_id: int, reason: str = "", settings: Any = None
) -> Proposal:
    """A second, different tally officer approves: the proposal takes effect (a recount
    or re-entry is checked again at once)."""
    return resolution.decide(session, actor, proposal_id, True, reason, settings)


def reject(session: Session, actor: Actor, proposal_id: int, reason: str) -> Proposal:
    """A second, different tally officer rejects, with a reason: nothing changes."""
    return resolution.decide(session, actor, proposal_id, False, reason)


def certify_results(
    session: Session, actor: Actor, election: str, password: str, reason: str = "", settings: Any = None
) -> Certification:
    """The tally officer signs the results document with their personal key (password
    re-entered), bound to a checkpoint covering every protocol and resolution it counts.
    After the first, `reason` is required: a correction is a new certification."""
    return certify.certify(session, actor, election, password, reason, settings)
