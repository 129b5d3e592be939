"""Polling's public operations: the only module other packages may call.

Every operation takes the station by election and station code, and an actor; station
officials act only at their own station (`ocv.acting.authorize`). The work is split by
topic: stations (lifecycle, accounts), checkin (the desk), counting, protocol.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ocv.acting import Actor, authorize, may
from ocv.auth.permissions import Permission
from polling import checkin, counting, nist, protocol, stations
from polling.errors import OtherElectionCard
from polling.models import Mark, Movement, PollingStation, Protocol, StationState, TallySheet
from polling.stations import Place, accounts
from registration import service as registry

RUN_OUT_ALERT = 50  # papers of a style left: the presiding officer's page warns


def _at(session: Session, election: str, station: str) -> Place:
    return stations.place(session, election, station)


def open_station(
    session: Session, actor: Actor, election: str, station: str, body: dict[str, Any]
) -> PollingStation:
    where = _at(session, election, station)
    return stations.open_station(
        session,
        actor,
        where,
        body.get("ballots"),
        body.get("seals"),
        body.get("officials"),
        str(body.get("explanation") or ""),
    )


def pause_station(
    session: Session, actor: Actor, election: str, station: str, body: dict[str, Any]
) -> PollingStation:
    return stations.pause(
        session, actor, _at(session, election, station), body.get("unused"), body.get("seals")
    )


def close_station(
    session: Session, actor: Actor, election: str, station: str, body: dict[str, Any]
) -> PollingStation:
    return stations.close(
        session, actor, _at(session, election, station), body.get("unused"), body.get("seals")
    )


def resupply(session: Session, actor: Actor, election: str, station: str, body: dict[str, Any]) -> None:
    where = _at(session, election, station)
    stations.move_ballots(
        session,
        actor,
        where,
        Movement.RESUPPLIED,
        str(body.get("ballot_style")),
        body.get("count"),
        body.get("reason"),
    )


def transfer_out(session: Session, actor: Actor, election: str, station: str, body: dict[str, Any]) -> None:
    where = _at(session, election, station)
    stations.move_ballots(
        session,
        actor,
        where,
        Movement.TRANSFERRED,
        str(body.get("ballot_style")),
        body.get("count"),
        body.get("reason"),
    )


def check_in(session: Session, actor: Actor, election: str | None, station: str, reg_no: str) -> Mark:
    """`election` None: the one that holds the station (`registry.election_of_station`)."""
    return checkin.check_in(session, actor, station, reg_no, election)


def undo_check_in(
    session: Session, actor: Actor, election: str, station: str, reg_no: str, reason: str
) -> None:
    checkin.undo_check_in(session, actor, _at(session, election, station), reg_no, reason)


def spoil(session: Session, actor: Actor, election: str, station: str, reg_no: str) -> None:
    checkin.spoil(session, actor, _at(session, election, station), reg_no)


def tendered(
    session: Session, actor: Actor, election: str, station: str, ballot_style: str, claim: str
) -> int:
    return checkin.tendered(session, actor, _at(session, election, station), ballot_style, claim).id


def is_nist_report(sent: Any) -> bool:
    return nist.is_report(sent)


def add_cvrs(session: Session, actor: Actor, election: str, station: str, sent: Any) -> int:
    """`{"cvrs": [...]}` (or the list itself), or a NIST SP 1500-103 CVR report."""
    where = _at(session, election, station)
    items: Any
    if nist.is_report(sent):
        by_name = {c.name: c.code for c in where.election.contests}
        items = [
            {
                **cvr,
                "votes": {by_name.get(k, k): v for k, v in cvr["votes"].items()},
                "invalid": [by_name.get(k, k) for k in cvr["invalid"]],
            }
            for cvr in nist.cvrs_of(sent)
        ]
    else:
        items = sent.get("cvrs") if isinstance(sent, dict) else sent
    return counting.add_cvrs(session, actor, where, items)


def enter_tally_sheet(session: Session, actor: Actor, election: str, station: str, sheet: Any) -> None:
    counting.enter_tally_sheet(session, actor, _at(session, election, station), sheet)


def finish_count(session: Session, actor: Actor, election: str, station: str) -> None:
    protocol.finish_count(session, actor, _at(session, election, station))


def sign_protocol(
    session: Session, actor: Actor, election: str, station: str, password: str, explanation: str = ""
) -> Protocol:
    return protocol.sign(session, actor, _at(session, election, station), password, explanation)


def countersign_protocol(
    session: Session, actor: Actor, election: str, station: str, password: str
) -> Protocol:
    return protocol.countersign(session, actor, _at(session, election, station), password)


def submit_protocol(session: Session, actor: Actor, election: str, station: str) -> Protocol:
    return protocol.submit(session, actor, _at(session, election, station))


def station_protocol(session: Session, actor: Actor | None, election: str, station: str) -> dict[str, Any]:
    """The signed protocol with its signatures, or the figures as they stand (with the
    reason it cannot be signed yet) before signing."""
    where = _at(session, election, station)
    protocol.require_readable(actor, where)
    signed = protocol.current(session, where)
    if signed is not None:
        return {
            "state": where.polling.state.value,
            "document": signed.document,
            "sha256": signed.digest,
            "signatures": signed.signatures,
            "submitted_at": signed.submitted_at.isoformat() if signed.submitted_at else None,
        }
    document, not_ready = protocol.compute(session, where)
    return {"state": where.polling.state.value, "document": document, "not_ready": not_ready or None}


def station_status(session: Session, actor: Actor | None, election: str, station: str) -> dict[str, Any]:
    """State and figures anyone may see; the accounts per style and the stock for those who
    run or watch the station."""
    where = _at(session, election, station)
    acc = accounts(session, where)
    status: dict[str, Any] = {
        "election": where.election.code,
        "station": where.code,
        "name": where.station.name,
        "state": where.polling.state.value,
        "polling_days": where.polling.day,
        "voters_on_list": registry.list_size(session, where.station),
        "checked_in": sum(acc.checked_in.values()),
    }
    if actor is not None and (
        may(actor, Permission.CHECK_IN_VOTERS, where.code) or may(actor, Permission.OBSERVE)
    ):
        status["seals"] = list(where.polling.seals)
        status["officials"] = list(where.polling.officials)
        status["ballots"] = {
            style: {
                "received": acc.received.get(style, 0),
                "resupplied": acc.resupplied.get(style, 0),
                "transferred": acc.transferred.get(style, 0),
                "issued": acc.issued(style),
                "spoiled": acc.spoiled.get(style, 0),
                "stock": acc.stock(style),
                "last_hour": stations.last_hour_rate(session, where, style),
            }
            for style in where.styles()
        }
        status["tendered"] = sum(acc.tendered.values())
    return status


def run_out_hours(stock: int, last_hour: int) -> float | None:
    """Hours until a style runs out at the last hour's rate (None: no one voted lately)."""
    return round(stock / last_hour, 1) if last_hour else None


def turnout_by_hour(session: Session, election: str, station: str) -> list[tuple[Any, int]]:
    return stations.turnout_by_hour(session, _at(session, election, station))


def find_voters(
    session: Session, actor: Actor, election: str, station: str, query: str
) -> list[registry.ListedVoter]:
    """The desk's search: by number (or the QR code's text) first, else by name on the list."""
    where = _at(session, election, station)
    text = card_number(where.election.code, query.strip())
    # A name has no digits: a text with one is a number, mistyped if its check fails.
    if registry.looks_like_reg_no(text) or any(ch.isdigit() for ch in text):
        return [registry.voter_by_number(session, actor, where.election, text)]
    scope = where.station if where.election.voting_rule == "assigned_station" else None
    return registry.voters_by_name(session, actor, where.election, text, scope)


def card_number(election: str, text: str) -> str:
    """The registration number a voter card's QR code carries (`OCV:<election>:<number>`,
    registration/views.py), or `text` as it is when it is no card's; a card of another
    election is refused, not looked up."""
    parts = text.split(":")
    if len(parts) != 3 or parts[0].strip().upper() != "OCV":
        return text
    if parts[1].strip() != election:
        raise OtherElectionCard(f"This card is for {parts[1].strip()}, not {election}.", parts[1].strip())
    return parts[2].strip()


def marks_of(
    session: Session, actor: Actor, election: str, station: str, reg_nos: list[str]
) -> dict[str, Mark]:
    """Which of these voters are marked already, at any station: the desk shows where and
    when before anyone presses Check in (the marked register, not a ballot)."""
    where = _at(session, election, station)
    authorize(actor, Permission.CHECK_IN_VOTERS, where.code)
    if not reg_nos:
        return {}
    marks = session.scalars(
        select(Mark).where(Mark.election_code == where.election.code, Mark.reg_no.in_(reg_nos))
    )
    return {m.reg_no: m for m in marks}


def tally_sheets(session: Session, actor: Actor, election: str, station: str) -> dict[str, Any]:
    """The clerks' entries of the hand count, by clerk (station officials only)."""
    where = _at(session, election, station)
    authorize(actor, Permission.CHECK_IN_VOTERS, where.code)
    sheets = session.scalars(
        select(TallySheet).where(TallySheet.polling_station_id == where.polling.id).order_by(TallySheet.id)
    )
    return {s.clerk: s.figures for s in sheets}


def marked_register(session: Session) -> dict[str, dict[str, int]]:
    """Check-ins per election and station: what state digests commit to (counts only)."""
    counts: dict[str, dict[str, int]] = {}
    for election, station, n in session.execute(
        select(Mark.election_code, Mark.station_code, func.count()).group_by(
            Mark.election_code, Mark.station_code
        )
    ):
        counts.setdefault(election, {})[station] = n
    return counts


def station_states(session: Session) -> dict[str, dict[str, str]]:
    """The stations that have left setup, each with its state and polling days (the state
    digest's `polling_stations`): a station's row may exist before anything is recorded of
    it, since reading a station creates it."""
    return {
        f"{p.election_code}/{p.station_code}": {"state": p.state.value, "day": str(p.day)}
        for p in session.scalars(
            select(PollingStation)
            .where(PollingStation.state != StationState.SETUP)
            .order_by(PollingStation.election_code, PollingStation.station_code)
        )
    }


# --- for the tally -----------------------------------------------------------------------


def submitted_protocol(session: Session, election: str, station: str) -> dict[str, Any] | None:
    """The submitted protocol {document, sha256, signatures, submitted_at}, or None."""
    where = _at(session, election, station)
    signed = protocol.current(session, where)
    if signed is None or signed.submitted_at is None:
        return None
    return {
        "document": signed.document,
        "sha256": signed.digest,
        "signatures": list(signed.signatures),
        "submitted_at": signed.submitted_at,
    }


def submitted_stations(session: Session, election: str) -> list[str]:
    return list(
        session.scalars(
            select(PollingStation.station_code)
            .where(PollingStation.election_code == election, PollingStation.state == StationState.SUBMITTED)
            .order_by(PollingStation.station_code)
        )
    )


def recompute_protocol(session: Session, election: str, station: str) -> dict[str, Any]:
    """The protocol's document recomputed now from the stored CVRs (or the agreed tally
    sheet) and the station's accounts: what the tally compares the signed one with."""
    document, _ = protocol.compute(session, _at(session, election, station))
    return document


def cvr_figures(
    session: Session, election: str, station: str | None = None
) -> list[tuple[str, str, str, str, int]]:
    """Counted figures by station and ballot style, in SQL (polling.counting.cvr_figures)."""
    return counting.cvr_figures(session, election, station)


def cvr_figures_sql(dialect: str) -> str:
    """The statement behind `cvr_figures` for a whole election (benchmarks compare it)."""
    return counting.figures_sql(dialect, False)


def double_votes(session: Session, election: str, station: str) -> int:
    """Voters marked at this station and at another. Online, the marked register's unique
    constraint makes this 0; station packages imported from offline stations report theirs
    here once that import lands (docs/architecture.md, "Offline stations")."""
    return 0


def checked_in_by_style(session: Session, election: str, station: str) -> dict[str, int]:
    return dict(accounts(session, _at(session, election, station)).checked_in)


def tendered_ballots(session: Session, election: str, station: str) -> int:
    return sum(accounts(session, _at(session, election, station)).tendered.values())
