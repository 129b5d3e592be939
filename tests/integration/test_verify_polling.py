"""`ocv-verify` replays polling day from the log alone: each rule of the spec's "Polling
replay", broken by one entry written behind polling's back, fails the bundle at that entry."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit import keys, sequencer, service, signing
from audit.models import Entry
from ocv.acting import Actor
from ocv.auth import service as accounts
from tests.integration.test_bundle_tamper import verify
from tests.integration.test_cli import run
from tests.integration.test_polling import (
    BALLOTS_CAST,
    KEY_PASSWORD,
    STATION,
    _count_and_sign,
    day,  # noqa: F401 (the fixture)
)

SCOPE = {"election": "GE2027", "station": STATION}


def _export(app: Flask, db_session: Session, tmp_path: Path):  # type: ignore[no-untyped-def]
    db_session.commit()
    target = tmp_path / "bundle"
    assert run(app, "audit", "export", str(target)).exit_code == 0
    return verify(target, keys.log_key(db_session).vkey, "--json")


def _as(db_session: Session, username: str) -> dict[str, str]:
    user = accounts.get_user(db_session, username)
    return {"user": user.username, "role": user.role}


def _signed_document(db_session: Session) -> dict:  # type: ignore[type-arg]
    leaf = db_session.scalars(select(Entry.leaf).where(Entry.type == "polling.protocol_signed")).one()
    return json.loads(leaf)["payload"]["document"]


def _sign(db_session: Session, username: str, role: str, document: dict) -> None:  # type: ignore[type-arg]
    """A protocol_signed entry with a valid signature over `document`, written directly."""
    signer = Actor.of(accounts.get_user(db_session, username))
    signature = signing.sign(db_session, signer, role, KEY_PASSWORD, document)
    payload = {"station": STATION, "sha256": signing.digest(document), "document": document}
    service.append(
        db_session,
        "polling.protocol_signed",
        _as(db_session, username),
        SCOPE,
        {**payload, "signatures": [signature]},
    )


def _checked_in_twice(db_session: Session, voters: list[str]) -> str:
    amira = voters[0]
    payload = {"reg_no": amira, "station": "FR-PAR-01", "ballot_style": "BS-EU"}
    service.append(db_session, "polling.voter_checked_in", _as(db_session, "clerk.paris"), SCOPE, payload)
    return f"voter {amira} is marked twice"


def _figures_changed(db_session: Session, voters: list[str]) -> str:
    document = _signed_document(db_session)
    document["figures"]["checked_in"] += 1
    _sign(db_session, "po", "presiding_officer", document)
    return "differs from its entries: checked_in 4 ≠ 3"


def _unbalanced_without_a_word(db_session: Session, voters: list[str]) -> str:
    document = _signed_document(db_session)
    document["figures"]["in_box"] = 2
    _sign(db_session, "po", "presiding_officer", document)
    return "does not balance and says not why: ballots in the box 2 ≠ check-ins 3"


def _signed_by_an_observer(db_session: Session, voters: list[str]) -> str:
    _sign(db_session, "olivia", "observer", _signed_document(db_session))
    return "signed by 'olivia', not its presiding officer"


@pytest.mark.parametrize(
    "tamper", [_checked_in_twice, _figures_changed, _unbalanced_without_a_word, _signed_by_an_observer]
)
def test_a_broken_polling_rule_fails_the_bundle_at_its_entry(  # type: ignore[no-untyped-def]
    app: Flask,
    client: FlaskClient,
    day,  # noqa: F811 (the fixture)
    db_session: Session,
    tmp_path: Path,
    tamper: Callable[[Session, list[str]], str],
) -> None:
    assert _count_and_sign(client, day, BALLOTS_CAST).status_code == 200
    honest = _export(app, db_session, tmp_path / "honest")
    assert honest.returncode == 0, honest.stdout
    report = json.loads(honest.stdout)
    assert (report["voters_marked"], report["protocols"]) == (3, 1)
    message = tamper(db_session, day["voters"])
    sequencer.integrate(db_session)
    seq = service.size(db_session) - 1
    result = _export(app, db_session, tmp_path / "tampered")
    assert result.returncode == 1, result.stdout
    failure = json.loads(result.stdout)["failure"]
    assert failure["seq"] == seq
    assert message in failure["reason"]
