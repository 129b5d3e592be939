"""The bulk import page: upload a CSV or XLSX file, check it (dry run) or import it, follow
the job (registration.imports.jobs) until its report is ready."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, redirect, render_template, send_file, url_for
from flask_babel import gettext as _
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

bp = Blueprint("registration_import", __name__, template_folder="../templates")

REFRESH_SECONDS = 2


@bp.route("/elections/<code>/import", methods=["GET", "POST"])
@login_required
def upload(code: str) -> Response | tuple[str, int]:
    user = authorize(signed_in_actor(), Permission.REGISTER_VOTERS)
    election = service.get_election(request_session(), code)
    form = VoterImportForm()
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
    return render_template("registration/import.html", election=election, form=form, job=None), status


@bp.get("/elections/<code>/import/<job_id>")
@login_required
def job(code: str, job_id: str) -> str:
    user = authorize(signed_in_actor(), Permission.REGISTER_VOTERS)
    election = service.get_election(request_session(), code)
    found = _job(user, election.code, job_id)
    return render_template(
        "registration/import.html",
        election=election,
        form=VoterImportForm(),
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
        return "success", _("Checked: %(good)d of %(rows)d rows can be imported.", good=good, rows=rows)
    if report["committed"]:
        return "success", _("Imported %(count)d voters.", count=report["imported"])
    return "error", _(
        "%(bad)d of %(rows)d rows were rejected; nothing was imported.",
        bad=report["rejected_rows"],
        rows=report["rows"],
    )
