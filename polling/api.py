"""Polling JSON API (bearer tokens; the station's status is public in part):
`/api/v1/stations/<station>/...`, for the election that holds the station (`?election=` to
choose when several do). Errors: 4xx with `{"error", "fields"}`, nothing changed."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, request

from ocv.acting import Actor
from ocv.db import request_session
from ocv.security import csrf
from ocv.web import api_actor, api_user
from polling import service
from registration import service as registry

bp = Blueprint("polling_api", __name__, url_prefix="/api/v1/stations")
csrf.exempt(bp)  # bearer tokens only (ocv.web.api_user)


def _election(station: str) -> str:
    return registry.election_of_station(request_session(), station, request.args.get("election"))


def _body() -> dict[str, Any]:
    """The JSON object sent, or {} (the service then names each member it misses, after it
    has checked who may act: a refusal never depends on the body)."""
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def _reader() -> Actor | None:
    user = api_user(required=False)
    return Actor.of(user) if user else None


@bp.get("/<station>")
def status(station: str) -> Response:
    return jsonify(service.station_status(request_session(), _reader(), _election(station), station))


@bp.post("/<station>/open")
def open_station(station: str) -> Response:
    actor, session = api_actor(), request_session()
    service.open_station(session, actor, _election(station), station, _body())
    return jsonify(service.station_status(session, actor, _election(station), station))


@bp.post("/<station>/close")
def close_station(station: str) -> Response:
    actor, session = api_actor(), request_session()
    service.close_station(session, actor, _election(station), station, _body())
    return jsonify(service.station_status(session, actor, _election(station), station))


@bp.post("/<station>/pause")
def pause_station(station: str) -> Response:
    actor, session = api_actor(), request_session()
    service.pause_station(session, actor, _election(station), station, _body())
    return jsonify(service.station_status(session, actor, _election(station), station))


@bp.post("/<station>/checkins")
def check_in(station: str) -> tuple[Response, int]:
    actor, body = api_actor(), _body()
    mark = service.check_in(
        request_session(), actor, _election(station), station, str(body.get("reg_no") or "")
    )
    time = mark.at.isoformat().replace("+00:00", "Z")
    return jsonify({"reg_no": mark.reg_no, "ballot_style": mark.ballot_style, "time": time}), 201


@bp.post("/<station>/checkins/undo")
def undo_check_in(station: str) -> Response:
    actor, body = api_actor(), _body()
    service.undo_check_in(
        request_session(),
        actor,
        _election(station),
        station,
        str(body.get("reg_no") or ""),
        str(body.get("reason") or ""),
    )
    return jsonify({"undone": True})


@bp.post("/<station>/spoiled")
def spoiled(station: str) -> tuple[Response, int]:
    actor, body = api_actor(), _body()
    service.spoil(request_session(), actor, _election(station), station, str(body.get("reg_no") or ""))
    return jsonify({"spoiled": True}), 201


@bp.post("/<station>/tendered")
def tendered(station: str) -> tuple[Response, int]:
    actor, body = api_actor(), _body()
    number = service.tendered(
        request_session(),
        actor,
        _election(station),
        station,
        str(body.get("ballot_style") or ""),
        str(body.get("claim") or ""),
    )
    return jsonify({"tendered": number}), 201


@bp.post("/<station>/resupply")
def resupply(station: str) -> tuple[Response, int]:
    service.resupply(request_session(), api_actor(), _election(station), station, _body())
    return jsonify({"resupplied": True}), 201


@bp.post("/<station>/transfers")
def transfer(station: str) -> tuple[Response, int]:
    service.transfer_out(request_session(), api_actor(), _election(station), station, _body())
    return jsonify({"transferred": True}), 201


@bp.post("/<station>/cvrs")
def cvrs(station: str) -> tuple[Response, int]:
    accepted = service.add_cvrs(request_session(), api_actor(), _election(station), station, _body())
    return jsonify({"accepted": accepted}), 201


@bp.post("/<station>/tally-sheet")
def tally_sheet(station: str) -> tuple[Response, int]:
    service.enter_tally_sheet(request_session(), api_actor(), _election(station), station, _body())
    return jsonify({"entered": True}), 201


@bp.post("/<station>/count/finish")
def finish_count(station: str) -> Response:
    service.finish_count(request_session(), api_actor(), _election(station), station)
    return jsonify({"state": "counted"})


@bp.get("/<station>/protocol")
def protocol(station: str) -> Response:
    return jsonify(service.station_protocol(request_session(), _reader(), _election(station), station))


@bp.post("/<station>/protocol/sign")
def sign(station: str) -> Response:
    actor, body = api_actor(), _body()
    signed = service.sign_protocol(
        request_session(),
        actor,
        _election(station),
        station,
        str(body.get("password") or ""),
        str(body.get("explanation") or ""),
    )
    return jsonify({"sha256": signed.digest, "signatures": signed.signatures})


@bp.post("/<station>/protocol/countersign")
def countersign(station: str) -> Response:
    actor, body = api_actor(), _body()
    signed = service.countersign_protocol(
        request_session(), actor, _election(station), station, str(body.get("password") or "")
    )
    return jsonify({"sha256": signed.digest, "signatures": signed.signatures})


@bp.post("/<station>/protocol/submit")
def submit(station: str) -> Response:
    signed = service.submit_protocol(request_session(), api_actor(), _election(station), station)
    return jsonify({"sha256": signed.digest, "state": "submitted"})
