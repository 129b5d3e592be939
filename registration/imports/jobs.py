"""Imports uploaded on the web page run as jobs: in a thread of the web process, in a
transaction of their own, followed by the page until their report is ready.

A large file takes minutes, longer than any request may (gunicorn stops a worker after 30
seconds), and the officer wants to see it move. The upload is spooled to the instance
folder; the job's state lives beside it as a small JSON file that the thread updates after
every chunk and the page reads. If the process dies half-way, the transaction rolls back,
nothing is imported, and the page reports the job as interrupted once its heartbeat is old.

Everything a job leaves is in a folder of the user who uploaded it, under a random 128-bit
name, served only to that user, and deleted after a day: the job file (counts, digests,
the first problems) and the full list of rejected rows as CSV (line numbers, column names,
messages, and the registration numbers of documents registered already; nothing else of
the file). The upload itself is deleted as soon as the import ends.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
import re
import secrets
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from flask import Flask

from ocv.acting import Actor, authorize
from ocv.auth.models import User
from ocv.auth.permissions import Permission
from ocv.db import database
from ocv.errors import OCVError, PermissionDenied, ValidationError
from ocv.settings import Settings
from registration import service
from registration.imports import service as imports
from registration.imports.service import ImportReport
from registration.models import Election, ElectionStatus
from registration.setup import require_status

log = logging.getLogger(__name__)

MODES = {"check": (True, False), "import": (False, False), "import_valid": (False, True)}  # dry_run, skip
SHOWN_PROBLEMS = 100
KEEP = dt.timedelta(days=1)
# Progress is written after every chunk (seconds apart); a job silent for this long has died.
STALE_SECONDS = 300
JOB_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")


@dataclass
class Job:
    id: str
    election: str
    filename: str
    mode: str
    state: str = "running"  # running, done (the report holds what happened), failed
    rows: int = 0
    expected: int = 0
    heartbeat: float = 0.0  # time.time() of the last progress
    message: str = ""  # when it has ended: the outcome in a sentence, or what went wrong
    report: dict[str, Any] | None = None  # see `summary`
    has_rejected_csv: bool = False

    @property
    def running(self) -> bool:
        return self.state == "running" and time.time() - self.heartbeat < STALE_SECONDS

    @property
    def interrupted(self) -> bool:
        return self.state == "running" and not self.running

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.rows / self.expected)) if self.expected else 0


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


class Folder:
    """One user's jobs: <id>.json (the job), <id>.upload (while it runs), <id>.csv (rejections)."""

    def __init__(self, instance_path: str | Path, user_id: int) -> None:
        self.user_id = user_id
        self.path = Path(instance_path) / "import-reports" / str(user_id)

    def file(self, job_id: str, suffix: str) -> Path:
        if not JOB_ID.match(job_id):
            raise ValueError("not a job id")
        return self.path / f"{job_id}{suffix}"

    def load(self, job_id: str) -> Job | None:
        try:
            data = json.loads(self.file(job_id, ".json").read_text(encoding="utf-8"))
        except (ValueError, OSError):
            return None
        return Job(**data)

    def save(self, job: Job) -> None:
        target = self.file(job.id, ".json")
        partial = target.with_suffix(".json.partial")
        partial.write_text(json.dumps(dataclasses.asdict(job)), encoding="utf-8")
        os.replace(partial, target)  # the page never reads a half-written job

    def clean(self) -> None:
        old = time.time() - KEEP.total_seconds()
        for stale in self.path.glob("*"):
            if stale.stat().st_mtime < old:
                stale.unlink(missing_ok=True)


def folder_of(instance_path: str | Path, actor: Actor) -> Folder:
    """The actor's jobs: web imports belong to a signed-in account."""
    if actor.user is None:
        raise PermissionDenied("Imports on the web page belong to a signed-in account.")
    return Folder(instance_path, actor.user.id)


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
    folder = folder_of(app.instance_path, user)
    account = folder.user_id
    folder.path.mkdir(parents=True, exist_ok=True)
    folder.clean()
    job = Job(secrets.token_urlsafe(16), election.code, Path(filename).name or "upload", mode)
    job.heartbeat = time.time()
    with folder.file(job.id, ".upload").open("wb") as spool:
        shutil.copyfileobj(stream, spool, 1 << 20)
    folder.save(job)
    if settings.background_imports:
        worker = threading.Thread(target=run, args=(app, settings, account, job, folder), daemon=True)
        worker.name = f"import-{job.id[:8]}"
        worker.start()
    else:
        run(app, settings, account, job, folder)
    return job


def run(app: Flask, settings: Settings, user_id: int, job: Job, folder: Folder) -> None:
    """Import the spooled upload in a transaction of its own; record the outcome in the job."""
    dry_run, skip_invalid = MODES[job.mode]
    report: ImportReport | None = None

    def progress(done: int, expected: int) -> None:
        job.rows, job.expected, job.heartbeat = done, expected, time.time()
        folder.save(job)

    try:
        with app.app_context(), _upload(folder, job) as stream, database(app).transaction() as session:
            user = session.get(User, user_id)
            if user is None or not user.is_active:
                raise PermissionDenied("The account that uploaded the file is no longer active.")
            report = imports.import_voters(
                session,
                settings,
                Actor.of(user),
                service.get_election(session, job.election),
                stream,
                filename=job.filename,
                dry_run=dry_run,
                skip_invalid=skip_invalid,
                progress=progress,
                workers=1,  # no process pool inside the web server
            )
        job.state, job.message = "done", ""
    except imports.ImportRejected as rejected:
        report = rejected.report
        job.state, job.message = "done", rejected.message
    except ValidationError as error:
        problems = "; ".join(m for messages in error.fields.values() for m in messages)
        job.state, job.message = "failed", f"{error.message} {problems}".strip()
    except OCVError as error:  # the election moved on meanwhile, a station filled up, ...
        job.state, job.message = "failed", error.message
    except Exception:
        log.exception("import job %s failed", job.id)
        job.state, job.message = "failed", "The import failed: nothing was imported."
    if report is not None:
        job.report = summary(report)
        job.rows = report.rows
        if report.rejected:
            folder.file(job.id, ".csv").write_text(report.rejected_csv(), encoding="utf-8")
            job.has_rejected_csv = True
    job.heartbeat = time.time()
    folder.save(job)


@contextmanager
def _upload(folder: Folder, job: Job) -> Iterator[BinaryIO]:
    """The spooled upload, open for reading; deleted when the import ends, however it ends."""
    path = folder.file(job.id, ".upload")
    try:
        with path.open("rb") as stream:
            yield stream
    finally:
        path.unlink(missing_ok=True)
