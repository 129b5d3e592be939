"""Certification: tally officers sign the results document (RFC 8785 JCS, their personal
keys opened with their password re-entered), bound to a checkpoint issued for it, which
covers every protocol and resolution it counts. Logged as a signed document, so
ocv-verify checks the signature and recomputes the result from the log.

A correction after certification is a new certification, numbered, with its reason and
the digest of the one it supersedes; nothing certified is ever edited.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit import service as audit
from ocv.acting import Actor, authorize, record
from ocv.auth.permissions import Permission
from ocv.errors import ConfigurationError, ValidationError
from registration import service as registry
from tally import aggregate
from tally import events as E
from tally.errors import NothingToCertify
from tally.intake import contests_of_rows
from tally.models import TallyCertification, TallyFigure, TallyStation
from tally.types import Certification, CertificationStatus, StationStatus

DOCUMENT_KIND = "ocv.results"
SIGNER_ROLE = "tally_officer"
RESULT_PARTS = ("election", "stations", "excluded", "totals")


def document(session: Session, code: str) -> dict[str, Any]:
    """The results as they stand: each accepted station's figures (as its acceptance was
    logged), the stations excluded, and the election's totals per contest."""
    election = registry.get_election(session, code)
    described = registry.describe(election)
    styles = {s["code"]: s["contests"] for s in described["ballot_styles"]}
    contests = {c["code"]: c for c in described["contests"]}
    stations = session.scalars(
        select(TallyStation)
        .where(TallyStation.election_code == election.code)
        .order_by(TallyStation.station_code)
    ).all()
    accepted = {s.id: s for s in stations if s.status is StationStatus.ACCEPTED}
    rows: dict[int, list[tuple[str, str, str, int]]] = defaultdict(list)
    if accepted:
        for f in session.scalars(select(TallyFigure).where(TallyFigure.tally_station_id.in_(list(accepted)))):
            rows[f.tally_station_id].append((f.ballot_style, f.contest, f.choice, f.votes))
    return {
        "kind": DOCUMENT_KIND,
        "election": election.code,
        "stations": {
            s.station_code: {
                "sha256": s.protocol_sha256,
                "contests": contests_of_rows(rows[s.id], styles, contests),
            }
            for s in accepted.values()
        },
        "excluded": sorted(s.station_code for s in stations if s.status is StationStatus.EXCLUDED),
        "totals": aggregate.totals(session, election.code),
    }


def _view(c: TallyCertification) -> Certification:
    return Certification(
        c.number,
        c.certified_at,
        c.tree_size,
        c.root,
        c.sha256,
        [s["key"] for s in c.signatures],
        c.reason,
        dict(c.document),
    )


def _history(session: Session, code: str) -> list[TallyCertification]:
    return list(
        session.scalars(
            select(TallyCertification)
            .where(TallyCertification.election_code == code)
            .order_by(TallyCertification.number)
        )
    )


def status(session: Session, code: str) -> CertificationStatus:
    election = registry.get_election(session, code)
    history = _history(session, election.code)
    now = {k: v for k, v in document(session, election.code).items() if k in RESULT_PARTS}
    latest = history[-1] if history else None
    stale = latest is not None and {k: latest.document.get(k) for k in RESULT_PARTS} != now
    return CertificationStatus(
        latest is not None,
        _view(latest) if latest else None,
        [_view(c) for c in history],
        audit.document_digest(now),
        stale,
    )


def certify(
    session: Session, actor: Actor, code: str, password: str, reason: str = "", settings: Any = None
) -> Certification:
    authorize(actor, Permission.TALLY)
    if settings is None:
        raise ConfigurationError("Certification issues a checkpoint: pass the settings.")
    election = registry.get_election(session, code)
    stations = session.scalars(
        select(TallyStation.status).where(TallyStation.election_code == election.code)
    ).all()
    if StationStatus.QUARANTINED in stations:
        waiting = stations.count(StationStatus.QUARANTINED)
        raise NothingToCertify(f"{waiting} station(s) are quarantined: resolve them first.")
    if StationStatus.ACCEPTED not in stations:
        raise NothingToCertify("No station is accepted yet.")
    history = _history(session, election.code)
    reason = (reason or "").strip()
    if history and not reason:
        raise ValidationError(
            "A correction says why: give a reason.", {"reason": ["Required after the first certification."]}
        )
    if len(reason) > 2000:
        raise ValidationError("A reason has at most 2,000 characters.")
    size, root = audit.issue_checkpoint(session, settings, "certification")
    doc = document(session, election.code)
    doc.update(
        number=len(history) + 1,
        reason=reason,
        supersedes=history[-1].sha256 if history else None,
        checkpoint={"size": size, "root": root.hex()},
    )
    signature = audit.sign_document(session, actor, SIGNER_ROLE, password, doc)
    digest = audit.document_digest(doc)
    row = TallyCertification(
        election_code=election.code,
        number=doc["number"],
        document=doc,
        sha256=digest,
        signatures=[signature],
        tree_size=size,
        root=root.hex(),
        reason=reason,
    )
    session.add(row)
    session.flush()
    record(
        session,
        E.RESULTS_CERTIFIED,
        actor,
        {"election": election.code},
        {
            "number": row.number,
            "sha256": digest,
            "document": doc,
            "signatures": [signature],
            "reason": reason,
        },
    )
    return _view(row)
