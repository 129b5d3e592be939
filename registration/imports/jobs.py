"""Imports uploaded on the web page run as background jobs (ocv.jobs): in a thread of the
web process, in a transaction of their own, followed by the page until their report is ready.

A job leaves, beside its state, the full list of rejected rows as CSV (line numbers, column
names, messages, and the registration numbers of documents registered already; nothing
else of the file). Its state holds the counts, digests and the first problems.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

from flask import Flask

from ocv import jobs
from ocv.acting import Actor, authorize
from ocv.auth.permissions import Permission
from ocv.db import database
from ocv.settings import Settings
from registration import service
from registration.imports import service as imports
from registration.imports.service import ImportReport
from registration.models import Election, ElectionStatus
from registration.setup import require_status

MODES = {"check": (True, False), "import": (False, False), "import_valid": (False, True)}  # dry_run, skip
SHOWN_PROBLEMS = 100
AREA = "import-reports"  # the instance folder's subfolder of import jobs
REJECTED = ".csv"


@dataclass(kw_only=True)
class Job(jobs.Job):
    FAILED: ClassVar[str] = "The import failed: nothing was imported."

    election: str
    filename: str
    mode: str
    report: dict[str, Any] | None = None  # see `summary`

    @property
    def rows(self) -> int:
        return self.done

    @property
    def has_rejected_csv(self) -> bool:
        return REJECTED in self.files


def summary(report: ImportReport) -> dict[str, Any]:
    """What the page shows of a report: the counts, digests and the first problems."""
    return {
        "filename": report.filename,
        "file_sha256": report.file_sha256,
        "dry_run": report.dry_run,
        "committed": report.committed,
        "rows": report.rows,
        "imported": report.imported,
        "rejected_rows": report.rejected_rows,
        "problems": len(report.rejected),
        "shown": [list(problem) for problem in report.rejected[:SHOWN_PROBLEMS]],
        "flagged": report.flagged,
        "by_station": dict(sorted(report.by_station.items())),
        "records_root": report.records_root,
    }


def folder(instance_path: str | Path, user_id: int) -> jobs.Folder[Job]:
    return jobs.Folder(instance_path, AREA, user_id, Job)


def folder_of(instance_path: str | Path, actor: Actor) -> jobs.Folder[Job]:
    """The actor's import jobs: web imports belong to a signed-in account."""
    return jobs.folder_of(instance_path, AREA, actor, Job)


def start(
    app: Flask,
    settings: Settings,
    user: Actor,
    election: Election,
    stream: BinaryIO,
    *,
    filename: str,
    mode: str,
) -> Job:
    """Spool the upload and import it: in a thread, or at once if background imports are off.
    Who may import, and when, is checked here too, so that a refusal is an answer, not a job."""
    authorize(user, Permission.REGISTER_VOTERS)
    require_status(election, ElectionStatus.REGISTRATION_OPEN)
    if mode not in MODES:
        raise ValueError(f"unknown import mode {mode!r}")
    job = Job(election=election.code, filename=Path(filename).name or "upload", mode=mode)

    def work(run: jobs.Run[Job]) -> None:
        _import(run, settings)

    return jobs.start(
        app,
        folder_of(app.instance_path, user),
        job,
        work,
        upload=stream,
        background=settings.background_imports,
    )


def _import(run: jobs.Run[Job], settings: Settings) -> None:
    """Import the spooled upload in a transaction of its own; the report goes into the job."""
    job = run.job
    assert run.upload is not None
    dry_run, skip_invalid = MODES[job.mode]
    try:
        with database(run.app).transaction() as session:
            report = imports.import_voters(
                session,
                settings,
                run.actor(session),
                service.get_election(session, job.election),
                run.upload,
                filename=job.filename,
                dry_run=dry_run,
                skip_invalid=skip_invalid,
                progress=run.progress,
                workers=1,  # no process pool inside the web server
            )
    except imports.ImportRejected as rejected:
        report, job.message = rejected.report, rejected.message
    job.report = summary(report)
    job.done = report.rows
    if report.rejected:
        run.file(REJECTED, report.rejected_csv())
