"""Background jobs: work longer than a request, in a thread of the web process, followed by
a page until it ends (the voter import now, the tally's later).

A job may take minutes, longer than any request may (gunicorn stops a worker after 30
seconds), and whoever started it wants to see it move. An upload is spooled to the instance
folder; the job's state lives beside it as a small JSON file that the thread updates on
progress and the page reads. The work runs in a transaction of its own: if the process
dies half-way, the transaction rolls back and the page reports the job as interrupted once
its heartbeat is old.

Everything a job leaves is in a folder of the account that started it, under a random
128-bit name, served only to that account, and deleted after a day: the job file and the
files the work writes beside it (`Run.file`). The upload is deleted as soon as the work ends.
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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, ClassVar, Generic, TypeVar

from flask import Flask
from sqlalchemy.orm import Session

from ocv.acting import Actor
from ocv.auth.models import User
from ocv.errors import OCVError, PermissionDenied, ValidationError

log = logging.getLogger(__name__)

KEEP = dt.timedelta(days=1)
# Progress is written every few seconds at most apart; a job silent for this long has died.
STALE_SECONDS = 300
JOB_ID = re.compile(r"^[A-Za-z0-9_-]{22}$")


@dataclass(kw_only=True)
class Job:
    """A job's state, as its page reads it. Subclasses add what their work needs and shows."""

    FAILED: ClassVar[str] = "The job failed: nothing was changed."  # an unexpected error's message

    id: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    state: str = "running"  # running, done (the work's result says what happened), failed
    done: int = 0  # units of work done (rows, protocols, ...) of about `expected`
    expected: int = 0
    heartbeat: float = field(default_factory=time.time)  # time.time() of the last progress
    message: str = ""  # when it has ended: the outcome in a sentence, or what went wrong
    files: list[str] = field(default_factory=list)  # suffixes of the files the work left

    @property
    def running(self) -> bool:
        return self.state == "running" and time.time() - self.heartbeat < STALE_SECONDS

    @property
    def interrupted(self) -> bool:
        return self.state == "running" and not self.running

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.done / self.expected)) if self.expected else 0


J = TypeVar("J", bound=Job)


class Folder(Generic[J]):
    """One account's jobs of one kind: <id>.json (the job), <id>.upload (while it runs), and
    <id><suffix> for each file the work leaves."""

    def __init__(self, instance_path: str | Path, area: str, user_id: int, kind: type[J]) -> None:
        self.user_id = user_id
        self.kind = kind
        self.path = Path(instance_path) / area / str(user_id)

    def file(self, job_id: str, suffix: str) -> Path:
        if not JOB_ID.match(job_id):
            raise ValueError("not a job id")
        return self.path / f"{job_id}{suffix}"

    def load(self, job_id: str) -> J | None:
        try:
            data = json.loads(self.file(job_id, ".json").read_text(encoding="utf-8"))
            return self.kind(**data)
        except (ValueError, OSError, TypeError):
            return None

    def save(self, job: J) -> None:
        target = self.file(job.id, ".json")
        partial = target.with_suffix(".json.partial")
        partial.write_text(json.dumps(dataclasses.asdict(job)), encoding="utf-8")
        os.replace(partial, target)  # the page never reads a half-written job

    def clean(self) -> None:
        old = time.time() - KEEP.total_seconds()
        for stale in self.path.glob("*"):
            if stale.stat().st_mtime < old:
                stale.unlink(missing_ok=True)


def folder_of(instance_path: str | Path, area: str, actor: Actor, kind: type[J]) -> Folder[J]:
    """The actor's jobs of a kind: jobs belong to a signed-in account."""
    if actor.user is None:
        raise PermissionDenied("Jobs belong to a signed-in account.")
    return Folder(instance_path, area, actor.user.id, kind)


@dataclass
class Run(Generic[J]):
    """What the work is given: its job, the app, the upload (None without one), and ways to
    report progress, leave a file and act as the account that started the job."""

    job: J
    app: Flask
    folder: Folder[J]
    upload: BinaryIO | None

    def progress(self, done: int, expected: int) -> None:
        self.job.done, self.job.expected, self.job.heartbeat = done, expected, time.time()
        self.folder.save(self.job)

    def file(self, suffix: str, text: str) -> None:
        self.folder.file(self.job.id, suffix).write_text(text, encoding="utf-8")
        self.job.files.append(suffix)

    def actor(self, session: Session) -> Actor:
        """The account that started the job, if it may still act."""
        user = session.get(User, self.folder.user_id)
        if user is None or not user.is_active:
            raise PermissionDenied("The account that started the job is no longer active.")
        return Actor.of(user)


Work = Callable[[Run[J]], None]


def start(
    app: Flask,
    folder: Folder[J],
    job: J,
    work: Work[J],
    *,
    upload: BinaryIO | None = None,
    background: bool = True,
) -> J:
    """Save the job (and spool its upload), then run `work` in a thread, or at once if not
    `background`. Refusals that need no work belong before this call, so they are answers."""
    folder.path.mkdir(parents=True, exist_ok=True)
    folder.clean()
    if upload is not None:
        with folder.file(job.id, ".upload").open("wb") as spool:
            shutil.copyfileobj(upload, spool, 1 << 20)
    job.heartbeat = time.time()
    folder.save(job)
    if background:
        worker = threading.Thread(target=run, args=(app, folder, job, work, upload is not None), daemon=True)
        worker.name = f"job-{job.id[:8]}"
        worker.start()
    else:
        run(app, folder, job, work, upload is not None)
    return job


def run(app: Flask, folder: Folder[J], job: J, work: Work[J], spooled: bool = False) -> None:
    """Run `work` in an app context; it ends `done` unless it raises: then `failed`, with the
    error's message (a domain error's own, any other's logged and told as `job.FAILED`)."""
    try:
        with app.app_context(), _upload(folder, job, spooled) as stream:
            work(Run(job, app, folder, stream))
        job.state = "done"
    except ValidationError as error:
        problems = "; ".join(m for messages in error.fields.values() for m in messages)
        job.state, job.message = "failed", f"{error.message} {problems}".strip()
    except OCVError as error:  # the election moved on meanwhile, a station filled up, ...
        job.state, job.message = "failed", error.message
    except Exception:
        log.exception("job %s failed", job.id)
        job.state, job.message = "failed", job.FAILED
    job.heartbeat = time.time()
    folder.save(job)


@contextmanager
def _upload(folder: Folder[J], job: J, spooled: bool) -> Iterator[BinaryIO | None]:
    """The spooled upload, open for reading; deleted when the work ends, however it ends."""
    if not spooled:
        yield None
        return
    path = folder.file(job.id, ".upload")
    try:
        with path.open("rb") as stream:
            yield stream
    finally:
        path.unlink(missing_ok=True)
