"""The `ocv` command: in-process against the test database, and as a real process."""

from __future__ import annotations

import getpass
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from flask import Flask
from flask.cli import ScriptInfo
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit import sequencer
from audit.models import Entry
from ocv.auth import service as accounts
from ocv.cli import cli
from tests.conftest import PASSWORD

OCV = [sys.executable, "-m", "ocv"]


def run(app: Flask, *args: str, input: str | None = None):  # type: ignore[no-untyped-def]
    return app.test_cli_runner().invoke(cli, list(args), input=input, obj=ScriptInfo(create_app=lambda: app))


def test_users_create_with_password_from_stdin(app: Flask, db_session: Session) -> None:
    result = run(
        app,
        "users",
        "create",
        "Pat",
        "--role",
        "clerk",
        "--station",
        "de-ber-01",
        "--password-stdin",
        input="a long temporary password\n",
    )
    assert result.exit_code == 0, result.output
    assert "created pat (clerk, station DE-BER-01)" in result.output
    user = accounts.get_user(db_session, "pat")
    assert user.must_change_password


def _last_entry(db_session: Session) -> dict:  # type: ignore[type-arg]
    sequencer.integrate(db_session)
    return json.loads(db_session.scalars(select(Entry.leaf).order_by(Entry.seq.desc()).limit(1)).one())


def test_the_cli_acts_as_a_named_operator(app: Flask, db_session: Session, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    create = ["users", "create", "--role", "observer", "--password-stdin"]
    password = "a long temporary password\n"
    assert run(app, "--as", "Amal Nasser", *create[:2], "olive", *create[2:], input=password).exit_code == 0
    assert _last_entry(db_session)["actor"] == {"user": "Amal Nasser", "role": "operator"}
    monkeypatch.setenv("OCV_OPERATOR", "ops-desk")
    assert run(app, *create[:2], "oscar", *create[2:], input=password).exit_code == 0
    assert _last_entry(db_session)["actor"] == {"user": "ops-desk", "role": "operator"}
    monkeypatch.delenv("OCV_OPERATOR")
    monkeypatch.setattr(getpass, "getuser", lambda: "console-user")
    assert run(app, "users", "unlock", "oscar").exit_code == 0
    assert _last_entry(db_session)["actor"] == {"user": "console-user", "role": "operator"}
    blank = run(app, "--as", " ", "users", "unlock", "oscar")
    assert blank.exit_code == 2
    assert "give a name" in blank.output


def test_users_create_bad_input_names_the_problem(app: Flask, db_session: Session) -> None:
    cases = [
        (["--role", "king"], "Unknown role 'king'"),
        (["--role", "clerk"], "must be assigned to a station"),
        (["--role", "observer", "--station", "X1"], "is not assigned to a station"),
    ]
    for options, message in cases:
        result = run(
            app, "users", "create", "sam", *options, "--password-stdin", input="a long temporary password\n"
        )
        assert result.exit_code == 65, result.output
        assert message in result.output
    weak = run(app, "users", "create", "sam", "--role", "observer", "--password-stdin", input="short\n")
    assert weak.exit_code == 65
    assert "Use at least 12 characters." in weak.output
    assert [u.username for u in accounts.all_users(db_session)] == []


def test_duplicate_user_is_a_conflict(app: Flask, make_user) -> None:
    make_user("sam", "observer")
    result = run(
        app,
        "users",
        "create",
        "sam",
        "--role",
        "observer",
        "--password-stdin",
        input="a long temporary password\n",
    )
    assert result.exit_code == 65
    assert "taken" in result.output


def test_users_token_prints_a_working_token(app: Flask, make_user) -> None:
    make_user("obs", "observer")
    result = run(app, "users", "token", "obs")
    assert result.exit_code == 0, result.output
    token = result.output.strip()
    response = app.test_client().get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.get_json()["username"] == "obs"


def test_users_token_for_unknown_user(app: Flask) -> None:
    result = run(app, "users", "token", "ghost")
    assert result.exit_code == 66
    assert "No user named 'ghost'" in result.output


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_for(url: str, seconds: float = 60) -> int:
    """The first answer's status, 0 if none came in time (a loaded machine starts slowly)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 (our own server)
                return int(response.status)
        except OSError:
            time.sleep(0.1)
    return 0


def test_real_process_upgrade_demo_and_login(tmp_path: Path) -> None:
    env = {**os.environ, "OCV_ENV": "development", "OCV_INSTANCE_PATH": str(tmp_path)}
    env.pop("OCV_DATABASE_URL", None)

    def ocv(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*OCV, *args], env=env, input=stdin, capture_output=True, text=True, timeout=120, check=False
        )

    upgraded = ocv("db", "upgrade")
    assert upgraded.returncode == 0, upgraded.stderr
    assert "audit log created" in upgraded.stdout
    assert "audit log created" not in ocv("db", "upgrade").stdout  # idempotent
    demo = ocv("demo", "--voters", "60")
    assert demo.returncode == 0, demo.stderr
    assert "po.deber01" in demo.stdout
    assert ocv("demo", "--voters", "60").returncode == 0  # loading twice changes nothing
    listed = ocv("users", "list").stdout
    assert listed.count("presiding_officer") == 6
    assert (tmp_path / "ocv.sqlite").exists()

    port = _free_port()
    server = subprocess.Popen(
        [*OCV, "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert _wait_for(f"http://127.0.0.1:{port}/check") == 200
    finally:
        server.terminate()
        server.wait(timeout=10)
        assert server.stdout is not None
        server.stdout.close()

    production = subprocess.run(
        [*OCV, "users", "list"],
        env={**env, "OCV_ENV": "production"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert production.returncode == 78
    assert "OCV_SECRET_KEY" in production.stderr


def test_keys_lifecycle_through_the_cli(app: Flask, make_user, db_session: Session) -> None:
    make_user("tess", "tally_officer")
    created = run(
        app,
        "keys",
        "create",
        "tess-2027",
        "--owner",
        "tess",
        "--role",
        "tally_officer",
        "--password-stdin",
        input=PASSWORD + "\n",
    )
    assert created.exit_code == 0, created.output
    assert created.output.startswith("tess-2027+")
    wrong = run(
        app,
        "keys",
        "create",
        "tess-x",
        "--owner",
        "tess",
        "--role",
        "tally_officer",
        "--password-stdin",
        input="not her password\n",
    )
    assert wrong.exit_code == 77
    assert "Wrong password" in wrong.output
    again = run(
        app,
        "keys",
        "create",
        "tess-2027",
        "--owner",
        "tess",
        "--role",
        "tally_officer",
        "--password-stdin",
        input=PASSWORD + "\n",
    )
    assert again.exit_code == 65
    assert "never reused" in again.output
    rotated = run(
        app,
        "keys",
        "rotate",
        "tess-2027",
        "--new-name",
        "tess-2027b",
        "--password-stdin",
        input=PASSWORD + "\n",
    )
    assert rotated.exit_code == 0, rotated.output
    listed = run(app, "keys", "list").output
    assert "tess-2027b" in listed
    assert "revoked at" in listed
    assert run(app, "keys", "vkey", "tess-2027b").output.startswith("tess-2027b+")
    revoked = run(app, "keys", "revoke", "tess-2027b", "--reason", "left the commission")
    assert revoked.exit_code == 0
    assert run(app, "keys", "revoke", "tess-2027b", "--reason", "again").exit_code == 65
    assert run(app, "keys", "vkey", "nobody").exit_code == 66
    log_key = run(app, "audit", "log-key").output.strip()
    assert run(app, "keys", "revoke", log_key.split("+")[0], "--reason", "x").exit_code == 65


def test_scheduled_checkpoints(app: Flask) -> None:
    result = run(app, "audit", "schedule", "--every", "1", "--count", "1")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("checkpoint ")
    shown = run(app, "audit", "checkpoint")
    assert shown.output.splitlines()[0] == "test.ocv.example/audit"


def _ocv(env: dict[str, str], cwd: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*OCV, *args], env=env, cwd=cwd, input=stdin, capture_output=True, text=True, timeout=120, check=False
    )


def test_help_without_a_configuration_lists_the_commands_without_a_traceback(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OCV_")}
    shown = _ocv(env, tmp_path, "--help")
    assert shown.returncode == 0
    assert "Traceback" not in shown.stdout + shown.stderr
    assert "election" in shown.stdout
    refused = _ocv(env, tmp_path, "db", "upgrade")
    assert refused.returncode == 78  # EX_CONFIG, one line naming what is missing
    assert "Traceback" not in refused.stderr
    assert "OCV_SECRET_KEY" in refused.stderr


def test_the_readmes_first_election_works_after_the_demo(tmp_path: Path) -> None:
    """README.md, "A first election, step by step", as written, on the database `make run` leaves."""
    env = {**os.environ, "OCV_ENV": "development", "OCV_INSTANCE_PATH": str(tmp_path)}
    env.pop("OCV_DATABASE_URL", None)
    root = Path(__file__).resolve().parents[2]

    def ocv(*args: str, stdin: str = "") -> str:
        done = _ocv(env, root, *args, stdin=stdin)
        assert done.returncode == 0, (args, done.stdout, done.stderr)
        return done.stdout

    ocv("db", "upgrade")
    ocv("demo", "--voters", "5")  # what `make run` loads: GE2027, open for registration
    assert "loaded FIRST2027" in ocv(
        "election", "load", "registration/demo/election.json", "--code", "FIRST2027"
    )
    ocv(
        "users",
        "create",
        "reggie",
        "--role",
        "registration_officer",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    opened = ocv("election", "advance", "FIRST2027", "open")
    assert "FIRST2027 is now in its registration open phase" in opened
    rows = tmp_path / "voters.csv"
    rows.write_text(
        "given_name,family_name,date_of_birth,constituency,host_country,city,doc1_type,doc1_number\n"
        "Amira,Haddad,1990-05-17,OV-EU,DE,Berlin,passport,P1234567\n",
        encoding="utf-8",
    )
    ocv("voters", "import", str(rows), "--election", "FIRST2027")
    ocv("election", "advance", "FIRST2027", "exhibit")
    assert "digest" in ocv("election", "advance", "FIRST2027", "freeze")
    assert "Haddad" in ocv("voters", "list", "FIRST2027", "--station", "DE-BER-01")
