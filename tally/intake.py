"""Intake: a submitted protocol is trusted only after it is verified and reconciled.

Verification (each a check of kind "verification", with its figures):
1. the presiding officer's signature, by a key registered to that station's presiding
   officer and not revoked;
2. the countersignatures listed, each by a registered, non-revoked key;
3. the CVR root (or the agreed tally sheet's digest) recomputed from what is stored;
4. the figures recomputed from the CVRs (or the tally sheet) and the station's accounts;
5. the protocol's log entry inside a signed checkpoint (its inclusion proof checked).
Then the reconciliation checks (tally.checks). The figures counted are the ones
recomputed from the stored CVRs (or tally sheet), which verification found equal to the
signed protocol's; a station that fails anything is quarantined with the failing figures.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit import service as audit
from ocv.acting import Actor, authorize, record
from ocv.auth import service as accounts
from ocv.auth.permissions import Permission
from ocv.db import utcnow
from ocv.errors import NotFound
from polling import service as polling
from registration import service as registry
from tally import checks as reconciliation
from tally import events as E
from tally.errors import NotSubmitted, WrongProposalState
from tally.models import TallyFigure, TallyStation
from tally.types import CheckResult, StationStatus

SIGNED_EVENT = "polling.protocol_signed"
MARKERS = ("(voted)", "(invalid)", "(ballots)")


def _verification(name: str, holds: bool, detail: str = "") -> CheckResult:
    return CheckResult(name, "verification", int(holds), 1, holds, None, None, detail)


def _po_signature(
    session: Session, station: str, document: Mapping[str, Any], signatures: list[Any]
) -> CheckResult:
    name = "signed by the station's presiding officer, with a registered key not revoked"
    if not signatures:
        return _verification(name, False, "no signature")
    first = signatures[0]
    key = audit.key_info(session, str(first.get("key")))
    if key is None:
        return _verification(name, False, f"key {first.get('key')!r} is not registered")
    try:
        owner = accounts.get_user(session, key["owner"])
    except NotFound:
        return _verification(name, False, f"key owner {key['owner']!r} has no account")
    problems = []
    if key["role"] != "presiding_officer" or owner.role != "presiding_officer":
        problems.append("not a presiding officer's key")
    if owner.station_code != station:
        problems.append(f"its owner presides at {owner.station_code}, not {station}")
    if key["revoked_seq"] is not None:
        problems.append(f"revoked at entry {key['revoked_seq']}")
    if not audit.signature_verifies(key["vkey"], document, str(first.get("sig"))):
        problems.append("the signature does not verify")
    return _verification(name, not problems, "; ".join(problems) or f"{key['name']} ({owner.username})")


def _countersignatures(session: Session, document: Mapping[str, Any], signatures: list[Any]) -> CheckResult:
    good, bad = [], []
    for signature in signatures[1:]:
        key = audit.key_info(session, str(signature.get("key")))
        if (
            key is not None
            and key["revoked_seq"] is None
            and audit.signature_verifies(key["vkey"], document, str(signature.get("sig")))
        ):
            good.append(f"{key['name']} ({key['owner']}, {key['role']})")
        else:
            bad.append(str(signature.get("key")))
    detail = "countersigned by " + (", ".join(good) if good else "nobody")
    if bad:
        detail += "; not verified: " + ", ".join(bad)
    return CheckResult(
        "countersignatures listed and verified",
        "verification",
        len(good),
        len(signatures) - 1,
        not bad,
        None,
        None,
        detail,
    )


def _commitment(signed: Mapping[str, Any], again: Mapping[str, Any]) -> CheckResult:
    keys = (
        ("cvr_count", "cvr_root") if "cvr_root" in again or "cvr_root" in signed else ("tally_sheet_sha256",)
    )
    differs = [k for k in keys if signed.get(k) != again.get(k)]
    what = "CVR root" if "cvr_root" in keys else "tally sheet digest"
    detail = ", ".join(f"{k}: signed {signed.get(k)}, recomputed {again.get(k)}" for k in differs)
    return _verification(f"{what} recomputed from the stored count", not differs, detail)


def _recomputed(signed: Mapping[str, Any], again: Mapping[str, Any]) -> CheckResult:
    differs = [k for k in ("figures", "ballots", "contests") if signed.get(k) != again.get(k)]
    detail = ""
    for part in differs:
        a, b = signed.get(part) or {}, again.get(part) or {}
        detail += "; ".join(
            f"{part}.{k}: signed {a.get(k)}, recomputed {b.get(k)}"
            for k in sorted(set(a) | set(b))
            if a.get(k) != b.get(k)
        )
    return _verification("figures recomputed from the count and the accounts", not differs, detail[:2000])


def _in_checkpoint(
    session: Session, election: str, station: str, sha256: str, settings: Any
) -> tuple[CheckResult, int | None]:
    name = "the protocol's log entry is in a signed checkpoint"
    seq = audit.last_entry_seq(session, SIGNED_EVENT, election, station)
    if seq is None:
        return _verification(name, False, "no polling.protocol_signed entry"), None
    logged = json.loads(audit.entry(session, seq))["payload"].get("sha256")
    if logged != sha256:
        return _verification(name, False, f"entry {seq} logs {logged}, the protocol is {sha256}"), None
    try:
        covering = audit.covering_checkpoint(session, seq)
        if covering is None and settings is not None:
            audit.issue_checkpoint(session, settings, "demand")
            covering = audit.covering_checkpoint(session, seq)
    except Exception as error:  # noqa: BLE001 (a bad proof is a failed check, shown)
        return _verification(name, False, str(error)), None
    if covering is None:
        return _verification(name, False, f"no checkpoint covers entry {seq} yet"), None
    return _verification(name, True, f"entry {seq} in checkpoint {covering[0]}"), covering[0]


def _figure_rows(
    session: Session, election: Any, station: str, document: Mapping[str, Any]
) -> list[tuple[str, str, str, int]]:
    """(ballot style, contest, choice or marker, count) as counted."""
    if election.counting == "cvr":
        return [
            (style, contest, choice, n)
            for _, style, contest, choice, n in polling.cvr_figures(session, election.code, station)
        ]
    rows: list[tuple[str, str, str, int]] = [("", "", "(ballots)", int(document["figures"]["in_box"]))]
    for code, result in document["contests"].items():
        rows += [("", code, choice, int(n)) for choice, n in result["choices"].items()]
        rows.append(("", code, "(invalid)", int(result["invalid"])))
        rows.append(("", code, "(blank)", int(result["blank"])))
    return rows


def contests_of_rows(
    rows: list[tuple[str, str, str, int]], styles: Mapping[str, list[str]], contests: Mapping[str, Any]
) -> dict[str, dict[str, Any]]:
    """The station's contests {code: {choices, blank, invalid}} from its figure rows."""
    ballots_by_style = {style: n for style, contest, choice, n in rows if choice == "(ballots)"}
    out: dict[str, dict[str, Any]] = {}
    # Every contest of every style, as the protocol lists them (polling.protocol).
    carried = {c for codes in styles.values() for c in codes}
    for code in sorted(carried & set(contests)):
        out[code] = {"choices": dict.fromkeys(contests[code]["choices"], 0), "blank": 0, "invalid": 0}
    voted: dict[str, int] = {}
    for _style, contest, choice, n in rows:
        if contest not in out:
            continue
        if choice == "(voted)":
            voted[contest] = voted.get(contest, 0) + n
        elif choice == "(invalid)":
            out[contest]["invalid"] += n
        elif choice == "(blank)":
            out[contest]["blank"] += n
        elif choice not in MARKERS:
            out[contest]["choices"][choice] = out[contest]["choices"].get(choice, 0) + n
    if "" not in ballots_by_style:  # CVRs: blank = ballots carrying it − with votes − invalid
        for code, result in out.items():
            carrying = sum(n for s, n in ballots_by_style.items() if code in styles.get(s, []))
            result["blank"] = carrying - voted.get(code, 0) - result["invalid"]
    return out


def evaluate(
    session: Session,
    election: Any,
    station: str,
    protocol: Mapping[str, Any],
    *,
    recount: bool,
    settings: Any,
) -> tuple[list[CheckResult], list[tuple[str, str, str, int]], dict[str, Any], int | None]:
    """(every check, the figure rows, the document checked, the covering checkpoint)."""
    signed, signatures = protocol["document"], protocol["signatures"]
    again = polling.recompute_protocol(session, election.code, station)
    results = [
        _po_signature(session, station, signed, signatures),
        _countersignatures(session, signed, signatures),
        _commitment(signed, again),
    ]
    if not recount:
        results.append(_recomputed(signed, again))
    inclusion, size = _in_checkpoint(session, election.code, station, protocol["sha256"], settings)
    results.append(inclusion)
    checked = again if recount else signed
    described = registry.describe(election)
    styles = {s["code"]: s["contests"] for s in described["ballot_styles"]}
    contests = {c["code"]: c for c in described["contests"]}
    rows = _figure_rows(session, election, station, checked)
    voted = None
    if election.counting == "cvr":
        voted = {}
        for _, contest, choice, n in rows:
            if choice == "(voted)":
                voted[contest] = voted.get(contest, 0) + n
    results += reconciliation.run(
        checked,
        styles=styles,
        contests=contests,
        voted=voted,
        checked_in_by_style=polling.checked_in_by_style(session, election.code, station),
        voting_rule=election.voting_rule,
        double_votes=polling.double_votes(session, election.code, station),
        settings=registry.tally_settings(election),
    )
    return results, rows, checked, size


def logged(check: CheckResult) -> dict[str, Any]:
    """A check as an audit payload holds it: shares as decimal text (the log's JSON has
    no floats: docs/specs/audit-log-format.md)."""
    return {
        k: (f"{v:.4f}" if isinstance(v, float) else v)
        for k, v in dataclasses.asdict(check).items()
        if v is not None and v != ""
    }


def _station(session: Session, election: str, station: str) -> TallyStation | None:
    return session.scalar(
        select(TallyStation).where(
            TallyStation.election_code == election, TallyStation.station_code == station
        )
    )


def take_in(
    session: Session,
    actor: Actor,
    election_code: str,
    station_code: str,
    *,
    recount: bool = False,
    settings: Any = None,
    proposal: int | None = None,
) -> StationStatus:
    authorize(actor, Permission.TALLY)
    election = registry.get_election(session, election_code)
    found = registry.get_station(session, election, station_code)
    station = found.code
    protocol = polling.submitted_protocol(session, election.code, station)
    if protocol is None:
        raise NotSubmitted(f"Station {station} has not submitted its protocol.")
    existing = _station(session, election.code, station)
    if existing is not None and not recount:
        raise WrongProposalState(f"Station {station} was taken in already ({existing.status.value}).")
    results, rows, checked, size = evaluate(
        session, election, station, protocol, recount=recount, settings=settings
    )
    failing = [r for r in results if not r.holds]
    status = StationStatus.QUARANTINED if failing else StationStatus.ACCEPTED
    row = existing or TallyStation(
        election_code=election.code,
        station_code=station,
        country=found.country.code,
        protocol_sha256=protocol["sha256"],
    )
    row.status = status
    row.checks = [dataclasses.asdict(r) for r in results]
    row.figures = dict(checked["figures"])
    row.decided_at = utcnow() if status is StationStatus.ACCEPTED else None
    if existing is None:
        session.add(row)
        session.flush()
    else:
        for old in session.scalars(select(TallyFigure).where(TallyFigure.tally_station_id == row.id)):
            session.delete(old)
    session.add_all(
        TallyFigure(tally_station_id=row.id, ballot_style=s, contest=c, choice=ch, votes=n)
        for s, c, ch, n in rows
    )
    scope = {"election": election.code, "station": station}
    failing_payload = [logged(r) for r in failing]
    payload: dict[str, Any] = {
        "station": station,
        "sha256": protocol["sha256"],
        "status": status.value,
        "failing": failing_payload,
        "figures": row.figures,
    }
    if size is not None:
        payload["checkpoint"] = size
    record(session, E.PROTOCOL_VERIFIED, actor, scope, payload)
    if failing:
        record(
            session,
            E.STATION_QUARANTINED,
            actor,
            scope,
            {"station": station, "sha256": protocol["sha256"], "failing": failing_payload},
        )
    else:
        accept(session, actor, election, row, rows, proposal)
    return status


def accept(
    session: Session,
    actor: Actor,
    election: Any,
    row: TallyStation,
    rows: list[tuple[str, str, str, int]] | None = None,
    proposal: int | None = None,
) -> None:
    """Count the station: status accepted, logged with the figures counted (what
    ocv-verify adds up)."""
    if rows is None:
        rows = [
            (f.ballot_style, f.contest, f.choice, f.votes)
            for f in session.scalars(select(TallyFigure).where(TallyFigure.tally_station_id == row.id))
        ]
    described = registry.describe(election)
    styles = {s["code"]: s["contests"] for s in described["ballot_styles"]}
    contests = {c["code"]: c for c in described["contests"]}
    row.status = StationStatus.ACCEPTED
    row.decided_at = utcnow()
    payload: dict[str, Any] = {
        "station": row.station_code,
        "sha256": row.protocol_sha256,
        "figures": {
            "contests": contests_of_rows(rows, styles, contests),
            **{k: row.figures.get(k, 0) for k in ("checked_in", "in_box", "voters_on_list")},
        },
    }
    if proposal is not None:
        payload["proposal"] = proposal
    record(
        session, E.STATION_ACCEPTED, actor, {"election": election.code, "station": row.station_code}, payload
    )


def take_in_all(
    session: Session, actor: Actor, election_code: str, settings: Any = None
) -> dict[str, StationStatus]:
    authorize(actor, Permission.TALLY)
    election = registry.get_election(session, election_code)
    done = set(
        session.scalars(select(TallyStation.station_code).where(TallyStation.election_code == election.code))
    )
    return {
        code: take_in(session, actor, election.code, code, settings=settings)
        for code in polling.submitted_stations(session, election.code)
        if code not in done
    }


def checks_of(session: Session, actor: Actor, election_code: str, station_code: str) -> list[CheckResult]:
    authorize(actor, Permission.OBSERVE)
    row = _station(session, election_code.upper(), station_code.upper())
    if row is None:
        raise NotFound(f"Station {station_code} has not been taken in.")
    return [CheckResult(**c) for c in row.checks]  # type: ignore[arg-type]
