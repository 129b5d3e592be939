"""`kill -9` of `ocv voters import` takes its worker processes with it."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

from sqlalchemy import Engine

from ocv.app import create_app
from ocv.db import database
from ocv.settings import Settings
from registration import service
from tests.factories import OPERATOR
from tests.integration.test_cli import OCV
from tests.integration.test_import import csv_file, person
from tests.integration.test_registration import demo_definition


def _children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # ended meanwhile
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    return children


def _descendants(pid: int) -> set[int]:
    children, found, todo = _children(), set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_worker_processes_die_with_a_killed_import(
    own_database: Engine, settings: Settings, tmp_path: Path
) -> None:
    url = own_database.url.render_as_string(hide_password=False)
    app = create_app(settings.with_overrides(database_url=url))
    with database(app).transaction() as session:
        election = service.load_election(session, OPERATOR, demo_definition())
        service.advance(session, OPERATOR, election, "registration_open")
    database(app).engine.dispose()
    big = tmp_path / "big.csv"
    big.write_bytes(csv_file([person(i) for i in range(25_000)]))  # enough for worker processes
    env = {**os.environ, "OCV_ENV": "test", "OCV_DATABASE_URL": url, "OCV_INSTANCE_PATH": str(tmp_path)}
    cli = subprocess.Popen(
        [*OCV, "voters", "import", str(big), "--election", "GE2027", "--dry-run"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        workers: set[int] = set()
        for _ in range(300):
            workers = _descendants(cli.pid)
            if len(workers) >= 3:  # the forkserver and its workers (and the resource tracker)
                break
            time.sleep(0.1)
        assert len(workers) >= 3, "the import started no worker processes"
        time.sleep(0.5)  # the workers are busy with their chunks
        os.kill(cli.pid, signal.SIGKILL)
        cli.wait(timeout=10)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and any(_alive(pid) for pid in workers):
            time.sleep(0.1)
        assert [pid for pid in workers if _alive(pid)] == []
    finally:
        cli.kill()
        for pid in _descendants(cli.pid) | workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
