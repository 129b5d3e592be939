"""Registration JSON API: elections (public), enrolment (token), the voter self-check (public)."""

from __future__ import annotations

import datetime as dt

from flask import Blueprint, Response, jsonify, request

from ocv.db import request_session
from ocv.errors import ValidationError
from ocv.security import csrf
from ocv.web import api_user, current_settings, json_body
from registration import self_check_limits, service
from registration.forms import SelfCheckForm

bp = Blueprint("registration_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # bearer tokens only (ocv.web.api_user)


@bp.get("/elections")
def elections() -> Response:
    return jsonify(
        [
            {"code": e.code, "name": e.name, "status": e.status, "polling_day": e.polling_day.isoformat()}
            for e in service.list_elections(request_session())
        ]
    )


@bp.get("/elections/<code>")
def election(code: str) -> Response:
    return jsonify(service.describe(service.get_election(request_session(), code)))


@bp.post("/elections/<code>/voters")
def enrol(code: str) -> tuple[Response, int]:
    officer = api_user()
    body = json_body()
    session = request_session()
    voter = service.enrol(session, current_settings(), officer, service.get_election(session, code), body)
    return jsonify({"reg_no": voter.reg_no, "status": voter.status, "station": voter.station.code}), 201


@bp.get("/public/registration")
@self_check_limits.limited()
def self_check() -> Response:
    form = SelfCheckForm(formdata=request.args, meta={"csrf": False})
    if not form.validate():
        raise ValidationError(
            "Give the registration number and the date of birth.",
            {k: list(v) for k, v in form.errors.items()},
        )
    born: dt.date = form.date_of_birth.data
    return jsonify(service.self_check(request_session(), form.reg_no.data or "", born))
