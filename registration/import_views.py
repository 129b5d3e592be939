"""The bulk import page: upload a CSV, check it (dry run) or import it, see the report.

The full list of rejected rows can be long (one per bad row of a file of any size), so it
is not kept in the cookie session: it is written to the instance folder under a random
128-bit name, in a folder of the user who uploaded it, served only to that user, and
deleted after a day. It holds line numbers, column names and messages, the registration
numbers of documents registered already, and nothing else of the file.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from pathlib import Path

from flask import Blueprint, abort, current_app, flash, render_template, send_file
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from werkzeug.wrappers import Response
from wtforms import SelectChoice, SelectField, SubmitField

from ocv.auth.models import User
from ocv.auth.permissions import Permission, require
from ocv.db import mark_for_rollback, request_session
from ocv.errors import ValidationError
from ocv.web import current_settings, signed_in_user
from registration import imports, service
from registration.imports import ImportReport

bp = Blueprint("registration_import", __name__, template_folder="templates")

SHOWN_REJECTIONS = 100
KEEP_REPORTS = dt.timedelta(days=1)
REPORT_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")
MODES = {"check": (True, False), "import": (False, False), "import_valid": (False, True)}  # dry_run, skip


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class VoterImportForm(FlaskForm):
    file = FileField(
        _l("Voters file (CSV UTF-8 or XLSX)"),
        validators=[FileRequired()],
        render_kw={"accept": f".csv,.xlsx,text/csv,{XLSX_TYPE}"},
    )
    mode = SelectField(
        _l("What to do"),
        choices=[
            SelectChoice("check", _l("Check only: report the rejected rows, change nothing")),
            SelectChoice("import", _l("Import, if every row is good")),
            SelectChoice("import_valid", _l("Import the good rows, skip the rejected ones")),
        ],
    )
    submit = SubmitField(_l("Upload"))


@bp.route("/elections/<code>/import", methods=["GET", "POST"])
@login_required
def upload(code: str) -> tuple[str, int]:
    user = require(signed_in_user(), Permission.REGISTER_VOTERS)
    session = request_session()
    election = service.get_election(session, code)
    form = VoterImportForm()
    report: ImportReport | None = None
    report_id = None
    status = 200
    if form.validate_on_submit():
        dry_run, skip_invalid = MODES.get(form.mode.data or "", (True, False))
        upload = form.file.data
        try:
            # In the web process the rows are checked in-process: no worker processes per request.
            report = imports.import_voters(
                session,
                current_settings(),
                user,
                election,
                upload.stream,
                filename=upload.filename or "upload.csv",
                dry_run=dry_run,
                skip_invalid=skip_invalid,
                workers=1,
            )
        except imports.ImportRejected as rejected:
            mark_for_rollback()
            report, status = rejected.report, 422
            flash(rejected.message, "error")
        except ValidationError as error:
            mark_for_rollback()
            status = 422
            problems = "; ".join(m for messages in error.fields.values() for m in messages)
            flash(f"{error.message} {problems}".strip(), "error")
        else:
            if report.dry_run:
                flash(
                    _(
                        "Checked: %(good)d of %(rows)d rows can be imported.",
                        good=report.imported,
                        rows=report.rows,
                    ),
                    "success",
                )
            else:
                flash(_("Imported %(count)d voters.", count=report.imported), "success")
        if report is not None and report.rejected:
            report_id = _keep(user, report)
    return render_template(
        "registration/import.html",
        election=election,
        form=form,
        report=report,
        shown=report.rejected[:SHOWN_REJECTIONS] if report else [],
        report_id=report_id,
    ), status


@bp.get("/elections/<code>/import/<report_id>/rejected.csv")
@login_required
def rejected_rows(code: str, report_id: str) -> Response:
    user = require(signed_in_user(), Permission.REGISTER_VOTERS)
    path = _folder(user) / f"{report_id}.csv"
    if not REPORT_ID.match(report_id) or not path.is_file():
        abort(404)
    return send_file(
        path,
        mimetype="text/csv",
        as_attachment=True,
        download_name=f"{code.upper()}-rejected-rows.csv",
        max_age=0,
    )


def _folder(user: User) -> Path:
    return Path(current_app.instance_path) / "import-reports" / str(user.id)


def _keep(user: User, report: ImportReport) -> str:
    folder = _folder(user)
    folder.mkdir(parents=True, exist_ok=True)
    old = dt.datetime.now(dt.UTC).timestamp() - KEEP_REPORTS.total_seconds()
    for stale in folder.glob("*.csv"):
        if stale.stat().st_mtime < old:
            stale.unlink(missing_ok=True)
    report_id = secrets.token_urlsafe(16)
    (folder / f"{report_id}.csv").write_text(report.rejected_csv(), encoding="utf-8")
    return report_id
