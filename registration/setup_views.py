"""The election editor: administrators change a definition while it is in setup.

Two forms on one page, both ending in the checks of `ocv election load`: the common
edits (name, polling day, minimum age, the stations' details), and the whole definition
as JSON for the rest. A refused edit changes nothing and names each problem by its path.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response
from wtforms import (
    Field,
)

from ocv.acting import authorize
from ocv.auth.permissions import Permission
from ocv.db import request_session
from ocv.errors import ValidationError
from ocv.web import parse_json, signed_in_actor
from registration import service
from registration.forms import DefinitionForm, ElectionEditForm

bp = Blueprint("registration_setup", __name__, template_folder="templates")

STATION_FIELDS = ("name", "city", "address", "time_zone", "capacity")


@bp.route("/elections/<code>/edit", methods=["GET", "POST"])
@login_required
def edit(code: str) -> Response | tuple[str, int]:
    user = authorize(signed_in_actor(), Permission.MANAGE_ELECTION)
    session = request_session()
    election = service.get_election(session, code)
    service.check_editable(user, election)
    current = service.definition_of(election)
    # Only the form that was sent reads the request; the other shows the stored definition.
    sent = request.form if request.method == "POST" else None
    which = next((name for name in ("edit", "json") if sent and f"{name}-submit" in sent), None)
    form = ElectionEditForm(
        prefix="edit", formdata=sent if which == "edit" else None, data=_form_data(current)
    )
    advanced = DefinitionForm(
        prefix="json",
        formdata=sent if which == "json" else None,
        data={"definition": json.dumps(current, indent=2, ensure_ascii=False)},
    )
    problems: dict[str, list[str]] = {}
    data: Any = None
    if which == "edit" and form.validate():
        data = _edited(current, form)
    elif which == "json" and advanced.validate():
        try:
            data = parse_json(advanced.definition.data or "")
        except json.JSONDecodeError as error:
            problems[""] = [
                _(
                    "This is not JSON: %(reason)s (line %(line)d, column %(column)d).",
                    reason=error.msg,
                    line=error.lineno,
                    column=error.colno,
                )
            ]
    if data is not None:
        try:
            changed = service.edit_election(session, user, election, data)
        except ValidationError as error:
            problems = error.fields or {"": [error.message]}
            if which == "edit":
                _show_on_fields(form, data, problems)
        else:
            if changed:
                flash(_("Saved: %(members)s.", members=", ".join(changed)), "success")
            else:
                flash(_("Nothing changed."), "success")
            return redirect(url_for("registration.election", code=election.code))
    refused = bool(problems or form.errors or advanced.errors)
    page = render_template(
        "registration/edit_election.html",
        election=election,
        form=form,
        advanced=advanced,
        problems=problems,
        refused=refused,
        open_advanced=which == "json",
    )
    return page, 422 if refused else 200


def _form_data(definition: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": definition["name"],
        "polling_day": dt.date.fromisoformat(definition["polling_day"]),
        "minimum_age": definition["eligibility"]["minimum_age"],
        "stations": [
            {"code": s["code"], **{k: s.get(k) for k in STATION_FIELDS}} for s in definition["stations"]
        ],
    }


def _edited(definition: dict[str, Any], form: ElectionEditForm) -> dict[str, Any]:
    """The definition with the form's values; a station's code and country stay as they are."""
    data = json.loads(json.dumps(definition))  # a deep copy
    data["name"] = form.name.data
    data["polling_day"] = form.polling_day.data.isoformat() if form.polling_day.data else None
    data["eligibility"]["minimum_age"] = form.minimum_age.data
    stations = {s["code"]: s for s in data["stations"]}
    for entry in form.stations:
        station = stations.get(entry.form.code.data)
        if station is not None:  # a row for no station changes nothing
            station.update({k: getattr(entry.form, k).data for k in STATION_FIELDS})
    return data


def _show_on_fields(
    form: ElectionEditForm, definition: dict[str, Any], problems: dict[str, list[str]]
) -> None:
    """Put each problem on the form field it names, where there is one."""
    fields: dict[str, Field] = {
        "name": form.name,
        "polling_day": form.polling_day,
        "eligibility.minimum_age": form.minimum_age,
    }
    rows = {entry.form.code.data: entry.form for entry in form.stations}
    for i, station in enumerate(definition["stations"]):
        if row := rows.get(station["code"]):
            fields.update({f"stations[{i}].{k}": getattr(row, k) for k in STATION_FIELDS})
    for path, messages in problems.items():
        if path in fields:
            fields[path].errors = [*fields[path].errors, *messages]
