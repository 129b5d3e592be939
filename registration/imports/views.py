"""The bulk import page: upload a CSV or XLSX file, check it (dry run) or import it, follow
the job (registration.imports.jobs) until its report is ready."""

from __future__ import annotations

import csv
import io

from flask import Blueprint, abort, current_app, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_login import login_required
from werkzeug.wrappers import Response

from ocv.acting import Actor, authorize
from ocv.auth.permissions import Permission
from ocv.db import request_session
from ocv.web import current_settings, signed_in_actor
from registration import service
from registration.forms import VoterImportForm
from registration.imports import jobs as import_jobs
from registration.imports.jobs import Job
from registration.imports.rows import COLUMNS, REQUIRED_COLUMNS
from registration.models import Election, ElectionStatus
from registration.vocabulary import closed_notice

bp = Blueprint("registration_import", __name__, template_folder="../templates")

REFRESH_SECONDS = 2

# The file's columns as the page explains them (docs/voter-import.md says the same at length).
COLUMN_HELP = {
    "given_name": _l("at most 100 characters"),
    "family_name": _l("at most 100 characters"),
    "date_of_birth": _l("YYYY-MM-DD; old enough on polling day"),
    "constituency": _l("a constituency code of the election"),
    "host_country": _l("a host country code of the election"),
    "city": _l("places the voter at a station of that city; a city without a station is refused"),
    "station": _l("a station code in the host country (else chosen by city)"),
    "father_name": _l("at most 100 characters"),
    "grandfather_name": _l("at most 100 characters"),
    "names_original_script": _l("the full name in its own script"),
    "sex": _l("F, M or X"),
    "phone": _l("a phone number"),
    "email": _l("an e-mail address"),
    "doc1_type": _l("an accepted document type"),
    "doc1_number": _l("its number"),
    "doc2_type": _l("a second document (optional)"),
    "doc2_number": _l("its number"),
}


def _page(election: Election, form: VoterImportForm, **extra: object) -> str:
    closed = closed_notice(election, ElectionStatus.REGISTRATION_OPEN)
    return render_template(
        "registration/import.html",
        election=election,
        form=form,
        closed=closed,
        columns=[(name, name in REQUIRED_COLUMNS, COLUMN_HELP[name]) for name in COLUMNS],
        accepted=election.accepted_documents,
        **extra,
    )


@bp.route("/elections/<code>/import", methods=["GET", "POST"])
@login_required
def upload(code: str) -> Response | tuple[str, int]:
    user = authorize(signed_in_actor(), Permission.REGISTER_VOTERS)
    election = service.get_election(request_session(), code)
    form = VoterImportForm()
    if election.status != ElectionStatus.REGISTRATION_OPEN.value:
        # Said before anyone chooses a file; a form posted anyway is answered the same way.
        return _page(election, form, job=None), 409 if form.is_submitted() else 200
    if form.validate_on_submit():
        upload = form.file.data
        job = import_jobs.start(
            current_app._get_current_object(),  # type: ignore[attr-defined]
            current_settings(),
            user,
            election,
            upload.stream,
            filename=upload.filename or "upload.csv",
            mode=form.mode.data or "check",
        )
        return redirect(url_for("registration_import.job", code=election.code, job_id=job.id), 303)
    status = 422 if form.errors else 200
    return _page(election, form, job=None), status


@bp.get("/elections/<code>/import/<job_id>")
@login_required
def job(code: str, job_id: str) -> str:
    user = authorize(signed_in_actor(), Permission.REGISTER_VOTERS)
    election = service.get_election(request_session(), code)
    found = _job(user, election.code, job_id)
    return _page(
        election,
        VoterImportForm(),
        job=found,
        outcome=_outcome(found),
        refresh=REFRESH_SECONDS if found.running else None,
    )


@bp.get("/elections/<code>/import/<job_id>/rejected.csv")
@login_required
def rejected_rows(code: str, job_id: str) -> Response:
    user = authorize(signed_in_actor(), Permission.REGISTER_VOTERS)
    found = _job(user, code.upper(), job_id)
    if not found.has_rejected_csv:
        abort(404)
    return send_file(
        import_jobs.folder_of(current_app.instance_path, user).file(found.id, import_jobs.REJECTED),
        mimetype="text/csv",
        as_attachment=True,
        download_name=f"{code.upper()}-rejected-rows.csv",
        max_age=0,
    )


@bp.get("/elections/<code>/import/template.csv")
@login_required
def template(code: str) -> Response:
    """An empty file with every column, and one example row to overwrite."""
    authorize(signed_in_actor(), Permission.REGISTER_VOTERS)
    election = service.get_election(request_session(), code)
    station = election.stations[0] if election.stations else None
    example = {
        "given_name": "Amira",
        "family_name": "Haddad",
        "date_of_birth": "1990-05-17",
        "constituency": election.constituencies[0].code if election.constituencies else "",
        "host_country": station.country.code if station else "",
        "city": station.city if station else "",
        "sex": "F",
        "doc1_type": election.accepted_documents[0] if election.accepted_documents else "",
        "doc1_number": "P1234567",
    }
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    writer.writerow([example.get(name, "") for name in COLUMNS])
    return send_file(
        io.BytesIO(out.getvalue().encode("utf-8")),
        mimetype="text/csv",
        as_attachment=True,
        download_name=f"{election.code}-voters-template.csv",
        max_age=0,
    )


def _job(user: Actor, election: str, job_id: str) -> Job:
    """The user's own job of this election, or 404: other people's jobs do not exist."""
    found = import_jobs.folder_of(current_app.instance_path, user).load(job_id)
    if found is None or found.election != election:
        abort(404)
    return found


def _outcome(job: Job) -> tuple[str, str] | None:
    """(category, sentence) for a job that has ended."""
    if job.running:
        return None
    if job.interrupted:
        return "error", _("The import stopped before it ended: nothing was imported. Upload the file again.")
    if job.state == "failed" or job.report is None:
        return "error", job.message
    report = job.report
    if report["dry_run"]:
        good, rows = report["imported"], report["rows"]
        return "success", ngettext(
            "Checked: %(good)d of %(num)d row can be imported.",
            "Checked: %(good)d of %(num)d rows can be imported.",
            rows,
            good=good,
        )
    if report["committed"]:
        return "success", ngettext("Imported %(num)d voter.", "Imported %(num)d voters.", report["imported"])
    return "error", ngettext(
        "%(bad)d of %(num)d row was rejected; nothing was imported.",
        "%(bad)d of %(num)d rows were rejected; nothing was imported.",
        report["rows"],
        bad=report["rejected_rows"],
    )
