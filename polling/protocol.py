"""The station's results protocol: the figures of the paper form officials sign, computed
from the count and the ballot accounts, every arithmetic check shown; signed by the
presiding officer's personal key, countersigned by observers, submitted, then public.

The document is JCS-signed (docs/specs/audit-log-format.md, signed documents); its
digest is what the printed form's QR code carries.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit import service as audit
from ocv.acting import Actor, authorize, may, record
from ocv.auth.permissions import Permission
from ocv.db import utcnow
from ocv.errors import ValidationError
from polling import events as E
from polling.counting import agreed_sheet, contests_of, cvr_leaf, station_cvrs
from polling.errors import Unbalanced, WrongStationState
from polling.models import Protocol, StationState
from polling.stations import Place, accounts, require_state
from registration import service as registry

DOCUMENT_KIND = "ocv.station_protocol"
SIGNER_ROLE = "presiding_officer"
COUNTERSIGNER_ROLE = "observer"


def _check(name: str, left: int, right: int, *, holds: bool | None = None) -> dict[str, Any]:
    return {"check": name, "left": left, "right": right, "holds": left == right if holds is None else holds}


def _results(session: Session, where: Place) -> tuple[dict[str, Any], int, dict[str, Any], str]:
    """(contests, ballots in the box, the CVRs' commitment, why the count is not ready)."""
    contests = contests_of(where)
    styles = where.styles()
    carried = sorted({c for codes in styles.values() for c in codes})
    results: dict[str, dict[str, Any]] = {
        code: {"choices": dict.fromkeys(contests[code].choices, 0), "blank": 0, "invalid": 0, "ballots": 0}
        for code in carried
    }
    if where.election.counting == "tally_sheet":
        sheet, why = agreed_sheet(session, where)
        if sheet is None:
            return results, 0, {}, why
        for code, entry in sheet["contests"].items():
            results[code].update(entry, ballots=0)
        return results, sheet["ballots_in_box"], {"tally_sheet_sha256": audit.document_digest(sheet)}, ""
    cvrs = station_cvrs(session, where)
    root = audit.MerkleRootBuilder()
    for cvr in cvrs:
        root.add(audit.canonical_json(cvr_leaf(cvr)))
        for code in styles[cvr.ballot_style]:
            result = results[code]
            result["ballots"] += 1
            if code in cvr.invalid:
                result["invalid"] += 1
            elif cvr.selections.get(code):
                for choice in cvr.selections[code]:
                    result["choices"][choice] += 1
            else:
                result["blank"] += 1
    return results, len(cvrs), {"cvr_count": len(cvrs), "cvr_root": root.root().hex()}, ""


def compute(session: Session, where: Place) -> tuple[dict[str, Any], str]:
    """The protocol document as the figures stand now, and why it cannot be signed yet
    ("" when it can)."""
    acc = accounts(session, where)
    styles = where.styles()
    contests = contests_of(where)
    results, in_box, commitment, not_ready = _results(session, where)
    checked_in, tendered = sum(acc.checked_in.values()), sum(acc.tendered.values())
    on_list = registry.list_size(session, where.station)
    ballots = {
        style: {
            "received": acc.received.get(style, 0),
            "resupplied": acc.resupplied.get(style, 0),
            "transferred": acc.transferred.get(style, 0),
            "issued": acc.issued(style),
            "spoiled": acc.spoiled.get(style, 0),
            "unused": acc.unused.get(style, 0),
        }
        for style in styles
    }
    checks = [
        _check(
            f"ballot style {style}: received + resupplied − transferred = issued + spoiled + unused",
            acc.supplied(style),
            b["issued"] + b["spoiled"] + b["unused"],
        )
        for style, b in ballots.items()
    ]
    checks.append(
        _check(
            "ballots issued = check-ins + tendered", sum(acc.issued(s) for s in styles), checked_in + tendered
        )
    )
    checks.append(_check("ballots in the box = check-ins", in_box, checked_in))
    if where.election.voting_rule == "assigned_station":
        checks.append(
            _check("check-ins ≤ voters on the list", checked_in, on_list, holds=checked_in <= on_list)
        )
    for code, result in results.items():
        expected = sum(acc.checked_in.get(s, 0) for s, carried in styles.items() if code in carried)
        valid = expected - result["blank"] - result["invalid"]
        votes, allowed = sum(result["choices"].values()), contests[code].votes_allowed
        if where.election.counting == "cvr":
            checks.append(
                _check(f"{code}: voted + blank + invalid = ballots carrying it", result["ballots"], expected)
            )
        checks.append(
            _check(
                f"{code}: votes between 1 and {allowed} per valid ballot",
                votes,
                valid,
                holds=valid >= 0 and valid <= votes <= allowed * valid,
            )
        )
        result.pop("ballots", None)
    document = {
        "kind": DOCUMENT_KIND,
        "election": where.election.code,
        "station": where.code,
        "counting": where.election.counting,
        "polling_days": where.polling.day,
        "figures": {
            "voters_on_list": on_list,
            "checked_in": checked_in,
            "tendered": tendered,
            "issued": checked_in + tendered,
            "spoiled": sum(acc.spoiled.values()),
            "unused": sum(acc.unused.values()),
            "received": sum(acc.received.values()),
            "resupplied": sum(acc.resupplied.values()),
            "transferred": sum(acc.transferred.values()),
            "in_box": in_box,
        },
        "ballots": ballots,
        "contests": results,
        **commitment,
        "seals": list(where.polling.seals),
        "checks": checks,
    }
    return document, not_ready


def current(session: Session, where: Place) -> Protocol | None:
    return session.scalar(select(Protocol).where(Protocol.polling_station_id == where.polling.id))


def finish_count(session: Session, actor: Actor, where: Place) -> None:
    """The presiding officer ends the count: no CVR or tally sheet is taken after this."""
    authorize(actor, Permission.RUN_STATION, where.code)
    require_state(where, StationState.CLOSED)
    document, not_ready = compute(session, where)
    if not_ready:
        raise ValidationError(f"The count is not ready: {not_ready}")
    where.polling.state = StationState.COUNTED
    payload = {"station": where.code, "in_box": document["figures"]["in_box"]}
    record(session, E.COUNT_FINISHED, actor, where.scope(), payload)


def sign(session: Session, actor: Actor, where: Place, password: str, explanation: str = "") -> Protocol:
    """The presiding officer signs the protocol as computed now; a check that does not hold
    is explained in writing (kept in the document), never hidden."""
    authorize(actor, Permission.RUN_STATION, where.code)
    require_state(where, StationState.COUNTED)
    document, _ = compute(session, where)
    failing = [c["check"] for c in document["checks"] if not c["holds"]]
    explanation = explanation.strip()
    if failing and not explanation:
        raise Unbalanced("A check does not hold: explain it in writing to sign.", {"explanation": failing})
    if len(explanation) > 2000:
        raise ValidationError("An explanation has at most 2,000 characters.", {"explanation": ["Too long."]})
    document["explanation"] = explanation
    signature = audit.sign_document(session, actor, SIGNER_ROLE, password, document)
    digest = audit.document_digest(document)
    protocol = Protocol(
        polling_station_id=where.polling.id,
        document=document,
        digest=digest,
        signatures=[signature],
        explanation=explanation,
        signed_at=utcnow(),
    )
    session.add(protocol)
    where.polling.state = StationState.SIGNED
    payload = {"station": where.code, "sha256": digest, "document": document, "signatures": [signature]}
    record(session, E.PROTOCOL_SIGNED, actor, where.scope(), payload)
    return protocol


def countersign(session: Session, actor: Actor, where: Place, password: str) -> Protocol:
    """An observer or party agent adds their signature to the signed protocol."""
    authorize(actor, Permission.OBSERVE)
    require_state(where, StationState.SIGNED, StationState.SUBMITTED)
    protocol = current(session, where)
    assert protocol is not None  # signed or submitted: it exists
    signature = audit.sign_document(session, actor, COUNTERSIGNER_ROLE, password, protocol.document)
    if any(s["key"] == signature["key"] for s in protocol.signatures):
        raise ValidationError("You have countersigned this protocol already.")
    protocol.signatures = [*protocol.signatures, signature]
    payload = {
        "station": where.code,
        "sha256": protocol.digest,
        "document": protocol.document,
        "signatures": [signature],
    }
    record(session, E.PROTOCOL_COUNTERSIGNED, actor, where.scope(), payload)
    return protocol


def submit(session: Session, actor: Actor, where: Place) -> Protocol:
    authorize(actor, Permission.RUN_STATION, where.code)
    require_state(where, StationState.SIGNED)
    protocol = current(session, where)
    assert protocol is not None
    protocol.submitted_at = utcnow()
    where.polling.state = StationState.SUBMITTED
    record(
        session,
        E.PROTOCOL_SUBMITTED,
        actor,
        where.scope(),
        {"station": where.code, "sha256": protocol.digest},
    )
    return protocol


def readable(actor: Actor | None, where: Place) -> bool:
    """Public once submitted; before, for the station's officials, tally and observers."""
    if where.polling.state is StationState.SUBMITTED:
        return True
    if actor is None:
        return False
    return may(actor, Permission.CHECK_IN_VOTERS, where.code) or may(actor, Permission.OBSERVE)


def require_readable(actor: Actor | None, where: Place) -> None:
    if not readable(actor, where):
        raise WrongStationState(f"The protocol of {where.code} is public once it is submitted.")
