"""Polling JSON API: `/api/v1/stations/<station>/...`, for the election that holds the
station (`?election=` to choose when several do). Bearer tokens; the station's state is
public in part, its protocol once submitted. Station officials act at their own station."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import msgspec
from flask import Blueprint, Response

from ocv.acting import Actor
from ocv.auth.permissions import Permission
from ocv.db import request_session
from ocv.errors import AuthenticationFailed, NotFound, ValidationError
from ocv.openapi import PUBLIC, Answer, operation
from ocv.security import csrf
from ocv.web import api_user
from polling import service
from polling.errors import AlreadyVoted, WrongStationState
from polling.forms import StationQuery
from polling.models import StationState
from registration import service as registry

bp = Blueprint("polling_api", __name__, url_prefix="/api/v1/stations")
csrf.exempt(bp)  # bearer tokens only (ocv.web.api_user)

Count = Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]
Style = Annotated[str, msgspec.Meta(max_length=32, description="A ballot style of the election.")]
RegNo = Annotated[str, msgspec.Meta(max_length=20, description="Typed, or read from the card's QR code.")]
Reason = Annotated[str, msgspec.Meta(max_length=500, description="Public: it goes into the audit log.")]
Names = Annotated[list[Annotated[str, msgspec.Meta(max_length=100)]], msgspec.Meta(max_length=50)]
Seals = Annotated[list[Annotated[str, msgspec.Meta(max_length=40)]], msgspec.Meta(max_length=50)]
Password = Annotated[str, msgspec.Meta(max_length=200, description="Opens the signer's personal key.")]
ERRORS = (NotFound, ValidationError, WrongStationState)
BATCH_BYTES = 16 * 1024 * 1024  # a station's CVRs in one batch (10,000 ballots)


T = TypeVar("T")


def _election(station: str, query: StationQuery) -> str:
    return registry.election_of_station(request_session(), station, query.election.data or None)


def _station_operation(
    summary: str, **declared: Any
) -> Callable[[Callable[..., Any]], Callable[..., Response]]:
    """`operation` for an endpoint of one station: it takes `?election=`, and refuses with the
    station's errors (ERRORS) unless `errors` says otherwise."""
    return operation(summary, query=StationQuery, **{"errors": ERRORS, **declared})


def _at_station(
    act: Callable[..., T], station: str, actor: Actor | None, query: StationQuery, *args: Any
) -> T:
    """`act`, an operation of the polling service, run on the station in the election holding it."""
    return act(request_session(), actor, _election(station, query), station, *args)


# --- the station -------------------------------------------------------------------------


class StyleAccount(msgspec.Struct):
    received: int
    resupplied: int
    transferred: int
    issued: int
    spoiled: int
    stock: int
    last_hour: Annotated[int, msgspec.Meta(description="Ballots issued in the last hour.")]


class StationStatus(msgspec.Struct, omit_defaults=True):
    """Anyone sees the state and turnout; the station's officials and observers its accounts."""

    election: str
    station: str
    name: str
    state: StationState
    polling_days: int
    voters_on_list: int
    checked_in: int
    seals: list[str] | None = None
    officials: list[str] | None = None
    ballots: dict[str, StyleAccount] | None = None
    tendered: int | None = None


STATUS = {
    "election": "GE2027",
    "station": "DE-BER-01",
    "name": "Embassy, Berlin",
    "state": "polling",
    "polling_days": 1,
    "voters_on_list": 500,
    "checked_in": 212,
}


def _reader() -> Actor | None:
    try:
        user = api_user(required=False)
    except AuthenticationFailed:
        return None
    return Actor.of(user) if user else None


@bp.get("/<station>")
@_station_operation(
    "A station's state and figures",
    access=PUBLIC,
    answers={200: Answer(StationStatus, example=STATUS)},
    errors=(NotFound,),
)
def status(station: str, query: StationQuery) -> StationStatus:
    return _status(station, query, _reader())


class Opening(msgspec.Struct, forbid_unknown_fields=True):
    """The opening record: papers received per style (first day) or counted this morning."""

    ballots: dict[Style, Count]
    seals: Seals
    officials: Names
    explanation: Annotated[str, msgspec.Meta(max_length=2000)] = ""


class Closing(msgspec.Struct, forbid_unknown_fields=True):
    unused: dict[Style, Count]
    seals: Seals


OPENING = {
    "ballots": {"BS-EU": 400, "BS-ME": 50, "BS-HOME": 50},
    "seals": ["S-001"],
    "officials": ["P. Oster"],
}


STATUS_AFTER = {200: Answer(StationStatus, example=STATUS)}


def _status(station: str, query: StationQuery, actor: Actor | None) -> StationStatus:
    return msgspec.convert(_at_station(service.station_status, station, actor, query), StationStatus)


def _changed_state(
    change: Callable[..., object], station: str, actor: Actor, query: StationQuery, record: msgspec.Struct
) -> StationStatus:
    """Open, close or pause the station (`change`) with its `record`; answer its status after."""
    _at_station(change, station, actor, query, msgspec.to_builtins(record))
    return _status(station, query, actor)


@bp.post("/<station>/open")
@_station_operation(
    "Open the station for a polling day",
    access=Permission.RUN_STATION,
    body=Opening,
    example=OPENING,
    answers=STATUS_AFTER,
)
def open_station(station: str, actor: Actor, query: StationQuery, body: Opening) -> StationStatus:
    return _changed_state(service.open_station, station, actor, query, body)


@bp.post("/<station>/close")
@_station_operation(
    "Close polling",
    access=Permission.RUN_STATION,
    body=Closing,
    example={"unused": {"BS-EU": 188, "BS-ME": 50, "BS-HOME": 50}, "seals": ["S-101", "S-102"]},
    answers=STATUS_AFTER,
)
def close_station(station: str, actor: Actor, query: StationQuery, body: Closing) -> StationStatus:
    return _changed_state(service.close_station, station, actor, query, body)


@bp.post("/<station>/pause")
@_station_operation(
    "Close for the night (more polling days follow)",
    access=Permission.RUN_STATION,
    body=Closing,
    example={"unused": {"BS-EU": 301, "BS-ME": 50, "BS-HOME": 50}, "seals": ["S-051"]},
    answers=STATUS_AFTER,
)
def pause_station(station: str, actor: Actor, query: StationQuery, body: Closing) -> StationStatus:
    return _changed_state(service.pause_station, station, actor, query, body)


class Movement(msgspec.Struct, forbid_unknown_fields=True):
    ballot_style: Style
    count: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)]
    reason: Reason


class Recorded(msgspec.Struct):
    recorded: bool = True


RECORDED = Answer(Recorded, example={"recorded": True})


@bp.post("/<station>/resupply")
@_station_operation(
    "Ballot papers received",
    access=Permission.RUN_STATION,
    body=Movement,
    example={"ballot_style": "BS-EU", "count": 200, "reason": "second delivery from the embassy"},
    answers={201: RECORDED},
)
def resupply(station: str, actor: Actor, query: StationQuery, body: Movement) -> tuple[Recorded, int]:
    _at_station(service.resupply, station, actor, query, msgspec.to_builtins(body))
    return Recorded(), 201


@bp.post("/<station>/transfers")
@_station_operation(
    "Ballot papers sent to another station",
    access=Permission.RUN_STATION,
    body=Movement,
    example={"ballot_style": "BS-EU", "count": 100, "reason": "DE-MUC-01 ran short"},
    answers={201: RECORDED},
)
def transfer(station: str, actor: Actor, query: StationQuery, body: Movement) -> tuple[Recorded, int]:
    _at_station(service.transfer_out, station, actor, query, msgspec.to_builtins(body))
    return Recorded(), 201


# --- the desk ----------------------------------------------------------------------------


class CheckIn(msgspec.Struct, forbid_unknown_fields=True):
    reg_no: RegNo


class CheckedIn(msgspec.Struct):
    reg_no: str
    ballot_style: Annotated[str, msgspec.Meta(description="The ballot to hand out.")]
    time: dt.datetime


@bp.post("/<station>/checkins")
@_station_operation(
    "Check a voter in",
    description="Marks the voter as voted, once ever: a second attempt, at any station, gets 409 "
    "with where and when. 422 for a mistyped number or a voter of another station.",
    access=Permission.CHECK_IN_VOTERS,
    body=CheckIn,
    example={"reg_no": "AQF-WHM-X8P"},
    answers={
        201: Answer(
            CheckedIn,
            example={"reg_no": "AQFWHMX8P", "ballot_style": "BS-EU", "time": "2027-04-17T09:12:03Z"},
        )
    },
    errors=(*ERRORS, AlreadyVoted),
    examples={
        409: {
            "error": "AQF-WHM-X8P already voted at DE-BER-01 at 2027-04-17 09:12 UTC.",
            "station": "DE-BER-01",
            "time": "2027-04-17 09:12 UTC",
        }
    },
)
def check_in(station: str, actor: Actor, query: StationQuery, body: CheckIn) -> tuple[CheckedIn, int]:
    # The station's election is found by the check-in's own look-up: one query fewer.
    mark = service.check_in(request_session(), actor, query.election.data or None, station, body.reg_no)
    return CheckedIn(reg_no=mark.reg_no, ballot_style=mark.ballot_style, time=mark.at), 201


class Undo(msgspec.Struct, forbid_unknown_fields=True):
    reg_no: RegNo
    reason: Reason


@bp.post("/<station>/checkins/undo")
@_station_operation(
    "Undo a check-in entered by mistake",
    access=Permission.RUN_STATION,
    body=Undo,
    example={"reg_no": "AQF-WHM-X8P", "reason": "the clerk scanned the wrong card"},
    answers={200: RECORDED},
)
def undo_check_in(station: str, actor: Actor, query: StationQuery, body: Undo) -> Recorded:
    _at_station(service.undo_check_in, station, actor, query, body.reg_no, body.reason)
    return Recorded()


@bp.post("/<station>/spoiled")
@_station_operation(
    "Replace a voter's spoiled ballot (once)",
    access=Permission.CHECK_IN_VOTERS,
    body=CheckIn,
    example={"reg_no": "AQF-WHM-X8P"},
    answers={201: RECORDED},
)
def spoiled(station: str, actor: Actor, query: StationQuery, body: CheckIn) -> tuple[Recorded, int]:
    _at_station(service.spoil, station, actor, query, body.reg_no)
    return Recorded(), 201


class TenderedBallot(msgspec.Struct, forbid_unknown_fields=True):
    ballot_style: Style
    claim: Annotated[str, msgspec.Meta(max_length=500, description="Kept at the station, not logged.")]


class TenderedIssued(msgspec.Struct):
    tendered: Annotated[int, msgspec.Meta(description="The envelope's number.")]


@bp.post("/<station>/tendered")
@_station_operation(
    "Issue a tendered ballot to someone not on the list",
    access=Permission.CHECK_IN_VOTERS,
    body=TenderedBallot,
    example={"ballot_style": "BS-EU", "claim": "Says she enrolled in Hamburg"},
    answers={201: Answer(TenderedIssued, example={"tendered": 3})},
)
def tendered(
    station: str, actor: Actor, query: StationQuery, body: TenderedBallot
) -> tuple[TenderedIssued, int]:
    number = _at_station(service.tendered, station, actor, query, body.ballot_style, body.claim)
    return TenderedIssued(tendered=number), 201


# --- counting ----------------------------------------------------------------------------


class CastVote(msgspec.Struct, forbid_unknown_fields=True):
    """One ballot: per contest the choices marked (by name); overvoted or unreadable contests
    in `invalid`; a contest in neither was left blank."""

    ballot_style: Style
    votes: dict[str, list[str]] = {}
    invalid: list[str] = []


class Ballots(msgspec.Struct, forbid_unknown_fields=True):
    cvrs: Annotated[list[CastVote], msgspec.Meta(min_length=1, max_length=10_000)]


class Accepted(msgspec.Struct):
    accepted: int


ACCEPTED = {201: Answer(Accepted, example={"accepted": 212})}


@bp.post("/<station>/cvrs")
@_station_operation(
    "Record cast-vote records (after close)",
    access=Permission.CHECK_IN_VOTERS,
    body=Ballots,
    max_bytes=BATCH_BYTES,
    example={"cvrs": [{"ballot_style": "BS-EU", "votes": {"PRES": ["Amira Haddad"]}, "invalid": ["REF-1"]}]},
    answers=ACCEPTED,
)
def cvrs(station: str, actor: Actor, query: StationQuery, body: Ballots) -> tuple[Accepted, int]:
    batch = msgspec.to_builtins(body)
    accepted = _at_station(service.add_cvrs, station, actor, query, batch)
    return Accepted(accepted=accepted), 201


NIST_EXAMPLE = {
    "@type": "CVR.CastVoteRecordReport",
    "Version": "1.0.0",
    "GeneratedDate": "2027-04-18T19:30:00Z",
    "ReportGeneratingDeviceIds": ["scanner-1"],
    "ReportingDevice": [{"@id": "scanner-1", "@type": "CVR.ReportingDevice"}],
    "GpUnit": [{"@id": "DE-BER-01", "@type": "CVR.GpUnit", "Type": "polling-place"}],
    "Election": [
        {
            "@id": "GE2027",
            "@type": "CVR.Election",
            "ElectionScopeId": "DE-BER-01",
            "Contest": [
                {
                    "@id": "k2",
                    "@type": "CVR.BallotMeasureContest",
                    "Name": "REF-1",
                    "ContestSelection": [
                        {"@id": "y", "@type": "CVR.BallotMeasureSelection", "Selection": "Yes"}
                    ],
                }
            ],
        }
    ],
}


@bp.post("/<station>/cvrs/nist")
@_station_operation(
    "Import a scanner's NIST SP 1500-103 CVR report (after close)",
    description="A CastVoteRecordReport valid by NIST's schema (polling/schemas/); contests by name, "
    "choices by candidate name or ballot measure selection.",
    access=Permission.CHECK_IN_VOTERS,
    body=dict[str, Any],
    example=NIST_EXAMPLE,
    answers=ACCEPTED,
)
def cvrs_nist(station: str, actor: Actor, query: StationQuery, body: dict[str, Any]) -> tuple[Accepted, int]:
    if not service.is_nist_report(body):
        raise ValidationError(
            "Send a NIST SP 1500-103 CastVoteRecordReport.", {"@type": ["CVR.CastVoteRecordReport"]}
        )
    accepted = _at_station(service.add_cvrs, station, actor, query, body)
    return Accepted(accepted=accepted), 201


TALLY_EXAMPLE = {
    "ballots_in_box": 212,
    "contests": {"REF-1": {"choices": {"Yes": 120, "No": 85}, "blank": 4, "invalid": 3}},
}


class ContestCount(msgspec.Struct, forbid_unknown_fields=True):
    choices: dict[str, Count]
    blank: Count
    invalid: Count


class TallySheet(msgspec.Struct, forbid_unknown_fields=True):
    """One clerk's entry of the hand count; a second clerk enters it too, and both must agree."""

    ballots_in_box: Count
    contests: dict[str, ContestCount]


@bp.post("/<station>/tally-sheet")
@_station_operation(
    "Enter the hand count (tally-sheet elections)",
    access=Permission.CHECK_IN_VOTERS,
    body=TallySheet,
    example=TALLY_EXAMPLE,
    answers={201: RECORDED},
)
def tally_sheet(station: str, actor: Actor, query: StationQuery, body: TallySheet) -> tuple[Recorded, int]:
    _at_station(service.enter_tally_sheet, station, actor, query, msgspec.to_builtins(body))
    return Recorded(), 201


class Counted(msgspec.Struct):
    state: StationState


@bp.post("/<station>/count/finish")
@_station_operation(
    "End the count",
    access=Permission.RUN_STATION,
    answers={200: Answer(Counted, example={"state": "counted"})},
)
def finish_count(station: str, actor: Actor, query: StationQuery) -> Counted:
    _at_station(service.finish_count, station, actor, query)
    return Counted(state=StationState.COUNTED)


# --- the protocol ------------------------------------------------------------------------


class Signature(msgspec.Struct):
    key: str
    sig: Annotated[str, msgspec.Meta(description="Base64 Ed25519 over the document's JCS bytes.")]


class Protocol(msgspec.Struct, omit_defaults=True):
    """The signed protocol (document, digest, signatures), or before signing the figures as
    they stand and why it cannot be signed yet."""

    state: StationState
    document: dict[str, Any]
    sha256: str | None = None
    signatures: list[Signature] | None = None
    submitted_at: str | None = None
    not_ready: str | None = None


SHA256 = "9f2c" * 16
SIGNED = {
    "sha256": SHA256,
    "signatures": [{"key": "po.deber01-2027", "sig": "V2hhdCBhIHNpZ25hdHVyZSBsb29rcyBsaWtl"}],
}
PROTOCOL = {
    "state": "submitted",
    "document": {"kind": "ocv.station_protocol", "election": "GE2027", "station": "DE-BER-01"},
    "sha256": SHA256,
    "signatures": [{"key": "po.deber01-2027", "sig": "V2hhdCBhIHNpZ25hdHVyZSBsb29rcyBsaWtl"}],
    "submitted_at": "2027-04-18T20:05:00+00:00",
}


@bp.get("/<station>/protocol")
@_station_operation(
    "The station's results protocol",
    description="Public once submitted; before, for the station's officials and observers.",
    access=PUBLIC,
    answers={200: Answer(Protocol, example=PROTOCOL)},
    errors=(NotFound, WrongStationState),
)
def protocol(station: str, query: StationQuery) -> Protocol:
    found = _at_station(service.station_protocol, station, _reader(), query)
    return msgspec.convert(found, Protocol)


class Signing(msgspec.Struct, forbid_unknown_fields=True):
    password: Password
    explanation: Annotated[str, msgspec.Meta(max_length=2000, description="Of any check that fails.")] = ""


class Countersigning(msgspec.Struct, forbid_unknown_fields=True):
    password: Password


class Signed(msgspec.Struct):
    sha256: str
    signatures: list[Signature]


def _signed(done: Any) -> Signed:
    return msgspec.convert({"sha256": done.digest, "signatures": done.signatures}, Signed)


@bp.post("/<station>/protocol/sign")
@_station_operation(
    "Sign the protocol (presiding officer)",
    access=Permission.RUN_STATION,
    body=Signing,
    example={"password": "my own password", "explanation": ""},
    answers={200: Answer(Signed, example=SIGNED)},
    errors=(*ERRORS, AuthenticationFailed),
)
def sign(station: str, actor: Actor, query: StationQuery, body: Signing) -> Signed:
    return _signed(_at_station(service.sign_protocol, station, actor, query, body.password, body.explanation))


@bp.post("/<station>/protocol/countersign")
@_station_operation(
    "Countersign the protocol (observers, party agents)",
    access=Permission.OBSERVE,
    body=Countersigning,
    example={"password": "my own password"},
    answers={200: Answer(Signed, example=SIGNED)},
    errors=(*ERRORS, AuthenticationFailed),
)
def countersign(station: str, actor: Actor, query: StationQuery, body: Countersigning) -> Signed:
    return _signed(_at_station(service.countersign_protocol, station, actor, query, body.password))


class Submitted(msgspec.Struct):
    sha256: str
    state: StationState


@bp.post("/<station>/protocol/submit")
@_station_operation(
    "Submit the signed protocol to the tally centre",
    access=Permission.RUN_STATION,
    answers={200: Answer(Submitted, example={"sha256": SHA256, "state": "submitted"})},
)
def submit(station: str, actor: Actor, query: StationQuery) -> Submitted:
    done = _at_station(service.submit_protocol, station, actor, query)
    return Submitted(sha256=done.digest, state=StationState.SUBMITTED)
