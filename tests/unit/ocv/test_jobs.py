"""The background job runner (ocv.jobs): state on disk, progress, files, failures."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest
from flask import Flask

from ocv import jobs
from ocv.errors import Conflict
from ocv.jobs import Folder, Job, Run


@pytest.fixture
def folder(tmp_path: Path) -> Folder[Job]:
    return Folder(tmp_path, "test-jobs", 7, Job)


def test_a_job_reads_its_upload_reports_progress_and_leaves_files(folder: Folder[Job]) -> None:
    seen = []

    def work(run: Run[Job]) -> None:
        assert run.upload is not None
        seen.append(run.upload.read())
        run.progress(3, 4)
        assert folder.load(run.job.id).percent == 75  # type: ignore[union-attr]
        run.file(".txt", "left")

    job = jobs.start(Flask(__name__), folder, Job(), work, upload=io.BytesIO(b"data"), background=False)
    saved = folder.load(job.id)
    assert saved is not None
    assert saved.state == "done"
    assert not saved.running
    assert seen == [b"data"]
    assert folder.file(job.id, ".txt").read_text() == "left"
    assert saved.files == [".txt"]
    assert not folder.file(job.id, ".upload").exists()  # the upload is gone once it ends


def test_a_job_that_fails_says_why_and_hides_the_unexpected(folder: Folder[Job]) -> None:
    def refused(run: Run[Job]) -> None:
        raise Conflict("The station filled up.")

    def broken(run: Run[Job]) -> None:
        raise RuntimeError("secret detail")

    first = jobs.start(Flask(__name__), folder, Job(), refused, background=False)
    second = jobs.start(Flask(__name__), folder, Job(), broken, background=False)
    assert (folder.load(first.id).state, folder.load(first.id).message) == (
        "failed",
        "The station filled up.",
    )  # type: ignore[union-attr]
    assert folder.load(second.id).message == Job.FAILED  # type: ignore[union-attr]


def test_a_job_in_a_thread_ends_and_a_silent_one_is_interrupted(folder: Folder[Job]) -> None:
    job = jobs.start(Flask(__name__), folder, Job(), lambda run: run.progress(1, 1))
    deadline = time.monotonic() + 10
    while (found := folder.load(job.id)) is not None and found.running and time.monotonic() < deadline:
        time.sleep(0.01)
    assert found is not None
    assert found.state == "done"
    stale = Job(heartbeat=time.time() - 3600)
    folder.save(stale)
    assert folder.load(stale.id).interrupted  # type: ignore[union-attr]
    assert folder.load("not-a-job") is None
