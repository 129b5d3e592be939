"""A polled election for the tally's pages and API: the demo's polling day (DE-BER-01
polled, counted, signed, countersigned and submitted) in an election whose home polls
closed in the past (`TL2027`) or close far ahead (`TE2027`, under embargo), and two tally
officers."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy.orm import Session

from audit import checkpoints
from audit import keys as audit_keys
from ocv import demo
from ocv.acting import Actor
from ocv.auth import service as accounts
from ocv.settings import Settings
from registration import service as registration
from tests.conftest import PASSWORD
from tests.factories import OPERATOR

PAST = "2026-01-01T00:00:00Z"
FUTURE = "2099-01-01T00:00:00Z"


def definition(code: str, close: str, **tally: Any) -> dict[str, Any]:
    found = json.loads(demo.ELECTION_FILE.read_text(encoding="utf-8"))
    return {**found, "code": code, "tally": {**found.get("tally", {}), "home_polls_close": close, **tally}}


def polled(
    session: Session, settings: Settings, code: str = "TL2027", close: str = PAST, **tally: Any
) -> str:
    """The election polled at DE-BER-01, its protocol submitted (not yet taken in)."""
    try:
        audit_keys.create_log(session, settings)
    except Exception:  # noqa: BLE001 (the log exists already)
        session.rollback()
    demo._officials(session, settings, OPERATOR, definition(code, close))  # noqa: SLF001
    election = registration.load_election(session, OPERATOR, definition(code, close, **tally))
    registration.advance(session, OPERATOR, election, "registration_open")
    for raw in demo.sample_voters(definition(code, close), 60):
        registration.enrol(session, settings, OPERATOR, election, raw)
    registration.advance(session, OPERATOR, election, "exhibition")
    registration.advance(session, OPERATOR, election, "frozen")
    demo.polling_day(session, OPERATOR, code)
    checkpoints.issue(session, settings, "demand")
    session.commit()
    return code


def tally_officer(session: Session, settings: Settings, username: str) -> Actor:
    user = accounts.create_user(
        session, settings, OPERATOR, username=username, role="tally_officer", password=PASSWORD
    )
    user.must_change_password = False
    audit_keys.create_personal_key(
        session,
        OPERATOR,
        owner=username,
        role="tally_officer",
        password=PASSWORD,
        name=f"{username}-2027",
    )
    session.commit()
    return Actor.of(user)
