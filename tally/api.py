"""Tally JSON API: an election's results (JSON, CSV, NIST SP 1500-100) and each station's
protocol. Public after the embargo (the home country's polls closing): until then anyone
is answered 403 with the embargo's end, while a tally officer's or observer's token reads
the figures as they stand. A station's protocol follows the election's rule (public on
submission, or with the results)."""

from __future__ import annotations

from typing import Any

import msgspec
from flask import Blueprint, Response

from ocv.acting import Actor, may
from ocv.auth.permissions import Permission
from ocv.db import request_session
from ocv.errors import AuthenticationFailed, InvalidState, NotFound, PermissionDenied
from ocv.openapi import PUBLIC, Answer, operation
from ocv.security import csrf
from ocv.web import api_user
from polling import service as polling
from registration import service as registry
from tally import exports, nist
from tally import service as tally
from tally.errors import Embargoed

bp = Blueprint("tally_api", __name__, url_prefix="/api/v1/elections")
csrf.exempt(bp)  # reads only

RESULTS = {
    "election": "GE2027",
    "name": "General Election 2027",
    "progress": {"expected": 6, "received": 5, "accepted": 4, "quarantined": 1, "excluded": 0, "missing": 1},
    "certification": {"certified": False, "stale": False, "number": None, "signers": []},
    "total": {
        "code": "GE2027",
        "registered": 1200,
        "ballots": 640,
        "turnout": 0.61,
        "contests": [{"contest": "PRES", "choices": {"Amira Haddad": 300, "Jonas Berg": 310}, "blank": 20}],
    },
    "constituencies": [],
    "countries": [],
    "stations": [],
}


def _reader() -> Actor | None:
    try:
        user = api_user(required=False)
    except AuthenticationFailed:
        return None
    return Actor.of(user) if user else None


def insider(actor: Actor | None) -> bool:
    """Who reads the results before the embargo ends: tally officers and observers."""
    return actor is not None and (may(actor, Permission.TALLY) or may(actor, Permission.OBSERVE))


def results_for(actor: Actor | None, election: str) -> tally.Results:
    """The results this reader may see now: Embargoed for the public until polls close."""
    session = request_session()
    registry.get_election(session, election)  # NotFound first
    if insider(actor):
        assert actor is not None
        return tally.results(session, actor, election)
    return tally.public_results(session, election)


@bp.get("/<code>/results")
@operation(
    "The election's results at every level",
    description=(
        "The election, each constituency, each host country and each station; accepted "
        "stations only carry figures. 403 with `ends_at` until the embargo ends."
    ),
    access=PUBLIC,
    answers={200: Answer(dict[str, Any], example=RESULTS)},
    errors=(NotFound, Embargoed),
)
def results(code: str) -> dict[str, Any]:
    return exports.to_json(results_for(_reader(), code.upper()))


@bp.get("/<code>/results.csv")
@operation(
    "The election's results as CSV",
    description="One row per level, area, contest and choice (blank and invalid ballots as choices).",
    access=PUBLIC,
    answers={
        200: Answer(
            media_type="text/csv",
            example=(
                "level,constituency,country,station,contest,choice,votes\r\n"
                "election,,,,PRES,Jonas Berg,310\r\n"
            ),
        )
    },
    errors=(NotFound, Embargoed),
)
def results_csv(code: str) -> Response:
    found = results_for(_reader(), code.upper())
    return Response(
        exports.to_csv(found),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{found.election}-results.csv"'},
    )


@bp.get("/<code>/results/nist")
@operation(
    "The election's results in the NIST SP 1500-100 format",
    description="An election results report (JSON) that validates against NIST's schema, version 2.",
    access=PUBLIC,
    answers={
        200: Answer(
            dict[str, Any], example={"@type": "ElectionResults.ElectionReport", "Status": "certified"}
        )
    },
    errors=(NotFound, Embargoed),
)
def results_nist(code: str) -> dict[str, Any]:
    found = results_for(_reader(), code.upper())
    described = registry.describe(registry.get_election(request_session(), found.election))
    return nist.document(found, described)


class Signature(msgspec.Struct):
    key: str
    sig: str


class StationProtocol(msgspec.Struct, omit_defaults=True):
    """The station's signed protocol, its tally status, and how to check it."""

    election: str
    station: str
    status: str  # the tally's: missing, quarantined, accepted, excluded
    state: str  # the station's polling state
    document: dict[str, Any]
    sha256: str | None = None
    signatures: list[Signature] | None = None
    submitted_at: str | None = None
    verify: str = ""


VERIFY = (
    "Compute SHA-256 over the RFC 8785 (JCS) bytes of `document`: it is `sha256`. Each "
    "signature is Ed25519 over those bytes by the named key, published in the audit log "
    "(/api/v1/audit/entries); `ocv-verify` checks both and the protocol's log entry."
)


PROTOCOL_EXAMPLE = {
    "election": "GE2027",
    "station": "DE-BER-01",
    "status": "accepted",
    "state": "submitted",
    "document": {"kind": "ocv.station_protocol", "election": "GE2027", "station": "DE-BER-01"},
    "sha256": "80d67b58b6536351c247562a7635f5874a8c283e82526db06ed5426f1af1005c",
    "signatures": [{"key": "po.deber01-2027", "sig": "bWFkZSB1cCBmb3IgdGhlIGV4YW1wbGU="}],
    "submitted_at": "2027-06-06T18:42:10Z",
    "verify": VERIFY,
}


def station_protocol_of(actor: Actor | None, election: str, station: str) -> dict[str, Any]:
    """The protocol as anyone may read it now, by the election's rule."""
    session = request_session()
    registry.get_election(session, election)
    if not insider(actor) and not tally.protocol_is_public(session, election, station):
        embargo = tally.embargo_of(session, election)
        if embargo.in_force:
            raise Embargoed(embargo.ends_at)
        raise PermissionDenied("This station's protocol is not public yet.")
    found = polling.station_protocol(session, actor, election, station)
    status = next(
        (s.status.value for s in _stations(session, actor, election) if s.station == station), "missing"
    )
    return {"election": election, "station": station, "status": status, **found, "verify": VERIFY}


def _stations(session: Any, actor: Actor | None, election: str) -> list[tally.StationResult]:
    if insider(actor):
        assert actor is not None
        return tally.results(session, actor, election).stations
    try:
        return tally.public_results(session, election).stations
    except Embargoed:
        return []


@bp.get("/<code>/stations/<station>/protocol")
@operation(
    "A station's signed protocol and its tally status",
    description="Public by the election's rule: on submission, or once the embargo ends.",
    access=PUBLIC,
    answers={200: Answer(StationProtocol, example=PROTOCOL_EXAMPLE)},
    errors=(NotFound, Embargoed, InvalidState),
)
def station_protocol(code: str, station: str) -> StationProtocol:
    found = station_protocol_of(_reader(), code.upper(), station.upper())
    found.pop("not_ready", None)
    return msgspec.convert(found, StationProtocol)
