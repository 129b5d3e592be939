"""A polling day at DE-BER-01 through the JSON API, as the station's officials and an
observer would run it: open, check in, spoil, tender, close, count, sign, countersign,
submit; and every refusal on the way, each changing nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, event, func, select, update
from sqlalchemy.orm import Session

from audit import keys, sequencer
from audit.models import Entry
from ocv.acting import Actor
from ocv.auth import service as accounts
from ocv.settings import Settings
from polling.models import CastVoteRecord, Mark
from registration import service as registry
from registration.models import Election, Voter, VoterStatus
from tests.conftest import csrf_token, login
from tests.factories import OPERATOR
from tests.integration.test_bundle_tamper import verify
from tests.integration.test_cli import run
from tests.integration.test_registration import voter

STATION = "DE-BER-01"
BALLOTS = {"BS-EU": 20, "BS-ME": 5, "BS-HOME": 5}
KEY_PASSWORD = "po's own password for the key"


def _token(db_session: Session, username: str) -> dict[str, str]:
    token = accounts.issue_token(db_session, OPERATOR, accounts.get_user(db_session, username), "desk")
    db_session.commit()
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def day(db_session: Session, settings: Settings, election: Election, officer, make_user):  # type: ignore[no-untyped-def]
    """A frozen list of three Berlin voters and one in Paris; the station's officials,
    an observer, and the keys they sign with."""
    people = [
        voter(given_name=name, family_name=family, documents=[{"type": "passport", "number": doc}])
        for name, family, doc in (
            ("Amira", "Haddad", "P1000001"),
            ("Jonas", "Berg", "P1000002"),
            ("Leila", "Nasser", "P1000003"),
        )
    ]
    people.append(
        voter(
            given_name="Claire",
            family_name="Dubois",
            city="Paris",
            host_country="FR",
            documents=[{"type": "passport", "number": "P1000004"}],
        )
    )
    voters = [registry.enrol(db_session, settings, officer, election, p) for p in people]
    registry.advance(db_session, OPERATOR, election, "exhibition")
    registry.advance(db_session, OPERATOR, election, "frozen")
    make_user("po", "presiding_officer", STATION)
    make_user("clerk", "clerk", STATION)
    make_user("clerk.paris", "clerk", "FR-PAR-01")
    make_user("olivia", "observer")
    keys.create_personal_key(
        db_session, OPERATOR, owner="po", role="presiding_officer", password=KEY_PASSWORD, name="po-ber"
    )
    keys.create_personal_key(
        db_session, OPERATOR, owner="olivia", role="observer", password=KEY_PASSWORD, name="olivia-1"
    )
    db_session.commit()
    return {
        "voters": [v.reg_no for v in voters],
        "po": _token(db_session, "po"),
        "clerk": _token(db_session, "clerk"),
        "paris": _token(db_session, "clerk.paris"),
        "observer": _token(db_session, "olivia"),
    }


def _post(client: FlaskClient, path: str, headers: dict[str, str], body: object):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/stations/{STATION}{path}", json=body, headers=headers)


def _open(client: FlaskClient, day) -> None:  # type: ignore[no-untyped-def]
    body = {"ballots": BALLOTS, "seals": ["S-001", "S-002"], "officials": ["Petra Oster", "Carl Lerk"]}
    response = _post(client, "/open", day["po"], body)
    assert response.status_code == 200, response.json
    assert response.json["state"] == "polling"


def _entries(db_session: Session, kind: str) -> list[dict]:  # type: ignore[type-arg]
    sequencer.integrate(db_session)
    return [json.loads(leaf) for leaf in db_session.scalars(select(Entry.leaf).where(Entry.type == kind))]


def test_opening_takes_every_style_seals_and_officials_from_the_presiding_officer(
    client: FlaskClient, day
) -> None:  # type: ignore[no-untyped-def]
    good = {"ballots": BALLOTS, "seals": ["S-001"], "officials": ["Petra Oster"]}
    assert _post(client, "/open", day["clerk"], good).status_code == 403
    missing = _post(client, "/open", day["po"], {**good, "ballots": {"BS-EU": 20}})
    assert missing.status_code == 422
    assert "Give the count for BS-ME." in missing.json["fields"]["ballots"]
    assert _post(client, "/open", day["po"], {**good, "seals": []}).status_code == 422
    assert _post(client, "/open", day["po"], {**good, "ballots": {**BALLOTS, "BS-EU": -1}}).status_code == 422
    assert client.get(f"/api/v1/stations/{STATION}").json["state"] == "setup"
    _open(client, day)
    assert _post(client, "/open", day["po"], good).status_code == 409  # it is open already


def test_a_voter_is_checked_in_once_and_the_desk_is_told_where_and_when(
    client: FlaskClient, day, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    amira, jonas, _, claire = day["voters"]
    assert _post(client, "/checkins", day["clerk"], {"reg_no": amira}).status_code == 409  # not open yet
    _open(client, day)
    first = _post(client, "/checkins", day["clerk"], {"reg_no": amira})
    assert first.status_code == 201, first.json
    assert first.json["ballot_style"] == "BS-EU"
    again = _post(client, "/checkins", day["po"], {"reg_no": amira})
    assert again.status_code == 409
    assert again.json["station"] == STATION
    shown = f"{amira[:3]}-{amira[3:6]}-{amira[6:]}"
    assert again.json["error"].startswith(f"{shown} already voted at {STATION} at ")
    typo = amira[:-1] + ("A" if amira[-1] != "A" else "B")
    assert _post(client, "/checkins", day["clerk"], {"reg_no": typo}).status_code == 422
    elsewhere = _post(client, "/checkins", day["clerk"], {"reg_no": claire})
    assert elsewhere.status_code == 422
    assert "FR-PAR-01" in elsewhere.json["error"]
    # Another station's clerk cannot act here, whatever the voter.
    assert _post(client, "/checkins", day["paris"], {"reg_no": jonas}).status_code == 403
    assert db_session.scalar(select(func.count()).select_from(Mark)) == 1
    assert len(_entries(db_session, "polling.voter_checked_in")) == 1


def test_a_check_in_needs_a_paper_of_the_voters_style_in_stock(
    client: FlaskClient, day, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    """The marking statement's stock condition: received + resupplied − transferred −
    issued − spoiled must leave a paper of the voter's style; a refusal marks nobody."""
    amira, jonas, leila, _ = day["voters"]
    _open(client, day)
    gone = {"ballot_style": "BS-EU", "count": BALLOTS["BS-EU"] - 1, "reason": "to DE-MUC-01"}
    assert _post(client, "/transfers", day["po"], gone).status_code == 201
    assert _post(client, "/checkins", day["clerk"], {"reg_no": amira}).status_code == 201  # the last one
    out = _post(client, "/checkins", day["clerk"], {"reg_no": jonas})
    assert out.status_code == 422, out.json
    assert out.json["error"] == "No ballot papers of style BS-EU left: resupply first."
    more = {"ballot_style": "BS-EU", "count": 2, "reason": "from the embassy"}
    assert _post(client, "/resupply", day["po"], more).status_code == 201
    assert _post(client, "/spoiled", day["clerk"], {"reg_no": amira}).status_code == 201  # takes one
    assert _post(client, "/checkins", day["clerk"], {"reg_no": jonas}).status_code == 201
    assert _post(client, "/checkins", day["clerk"], {"reg_no": leila}).status_code == 422
    marked = set(db_session.scalars(select(Mark.reg_no)))
    assert marked == {amira, jonas}
    assert len(_entries(db_session, "polling.voter_checked_in")) == 2


def test_the_desk_tells_the_stations_state_first_and_reads_the_election_asked_for(
    client: FlaskClient, day, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    amira, jonas, _, claire = day["voters"]
    typo = amira[:-1] + ("A" if amira[-1] != "A" else "B")
    for number in (typo, claire, "not a number", amira):  # before opening: the state, whatever
        refused = _post(client, "/checkins", day["clerk"], {"reg_no": number})
        assert refused.status_code == 409, (number, refused.json)
        assert "is setup" in refused.json["error"]
    _open(client, day)
    assert _post(client, "/checkins", day["clerk"], {"reg_no": "not a number"}).status_code == 422
    unknown = client.post(
        "/api/v1/stations/XX-NOPE-01/checkins", json={"reg_no": amira}, headers=day["clerk"]
    )
    assert unknown.status_code == 404
    other = client.post(
        f"/api/v1/stations/{STATION}/checkins?election=NOPE", json={"reg_no": amira}, headers=day["clerk"]
    )
    assert other.status_code == 404
    db_session.execute(update(Voter).where(Voter.reg_no == jonas).values(status=VoterStatus.CANCELLED.value))
    db_session.commit()
    cancelled = _post(client, "/checkins", day["clerk"], {"reg_no": jonas})
    assert cancelled.status_code == 404
    assert "cancelled" in cancelled.json["error"]
    chosen = client.post(
        f"/api/v1/stations/{STATION}/checkins?election=ge2027", json={"reg_no": amira}, headers=day["clerk"]
    )
    assert chosen.status_code == 201, chosen.json
    assert db_session.scalar(select(func.count()).select_from(Mark)) == 1


def test_a_check_in_is_the_token_the_desk_look_up_and_one_insert(
    client: FlaskClient, day, connection: Connection
) -> None:  # type: ignore[no-untyped-def]
    """The hot path's statements (before the audit entry, which writes through its own
    cursor): the benchmark's figures depend on it staying this short."""
    amira = day["voters"][0]
    _open(client, day)
    statements: list[str] = []

    def seen(_conn, _cursor, statement, _params, _context, _many):  # type: ignore[no-untyped-def]
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            statements.append(statement.split()[0] + " " + statement.split("FROM")[1].split()[0])

    event.listen(connection, "before_cursor_execute", seen)
    try:
        assert _post(client, "/checkins", day["clerk"], {"reg_no": amira}).status_code == 201
    finally:
        event.remove(connection, "before_cursor_execute", seen)
    # The token's user; station, election and voter; the mark, from the polling station row.
    assert statements == ["SELECT users", "SELECT stations", "INSERT polling_stations"]


def test_spoiled_once_tendered_apart_and_an_undo_with_a_reason(
    client: FlaskClient, day, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    amira, jonas, leila, _ = day["voters"]
    _open(client, day)
    for reg_no in (amira, jonas):
        assert _post(client, "/checkins", day["clerk"], {"reg_no": reg_no}).status_code == 201
    assert _post(client, "/spoiled", day["clerk"], {"reg_no": amira}).status_code == 201
    assert _post(client, "/spoiled", day["clerk"], {"reg_no": amira}).status_code == 422  # once at most
    assert _post(client, "/spoiled", day["clerk"], {"reg_no": leila}).status_code == 404  # not checked in
    assert (
        _post(client, "/tendered", day["clerk"], {"ballot_style": "BS-HOME", "claim": ""}).status_code == 422
    )
    tendered = _post(
        client,
        "/tendered",
        day["clerk"],
        {"ballot_style": "BS-HOME", "claim": "Says she enrolled in Hamburg"},
    )
    assert tendered.status_code == 201
    assert (
        _post(client, "/checkins/undo", day["clerk"], {"reg_no": jonas, "reason": "wrong card"}).status_code
        == 403
    )
    assert _post(client, "/checkins/undo", day["po"], {"reg_no": jonas, "reason": ""}).status_code == 422
    assert (
        _post(client, "/checkins/undo", day["po"], {"reg_no": amira, "reason": "x"}).status_code == 422
    )  # spoiled
    assert (
        _post(
            client, "/checkins/undo", day["po"], {"reg_no": jonas, "reason": "typed the wrong card"}
        ).status_code
        == 200
    )
    status = client.get(f"/api/v1/stations/{STATION}", headers=day["po"]).json
    assert status["ballots"]["BS-EU"] == {
        "received": 20,
        "resupplied": 0,
        "transferred": 0,
        "issued": 1,
        "spoiled": 1,
        "stock": 18,
        "last_hour": 1,
    }
    assert status["tendered"] == 1
    public = client.get(f"/api/v1/stations/{STATION}").json
    assert "ballots" not in public  # accounts are for those who run or watch the station
    [tender] = _entries(db_session, "polling.tendered_ballot_issued")
    assert "Hamburg" not in json.dumps(tender)  # the claim stays at the station


def _count_and_sign(client: FlaskClient, day, cvrs: list[dict], explanation: str = ""):  # type: ignore[no-untyped-def, type-arg]
    amira, jonas, leila, _ = day["voters"]
    _open(client, day)
    for reg_no in (amira, jonas, leila):
        assert _post(client, "/checkins", day["clerk"], {"reg_no": reg_no}).status_code == 201
    close = {"unused": {"BS-EU": 17, "BS-ME": 5, "BS-HOME": 5}, "seals": ["S-101", "S-102"]}
    assert _post(client, "/close", day["po"], close).status_code == 200
    assert _post(client, "/cvrs", day["clerk"], {"cvrs": cvrs}).status_code == 201
    assert _post(client, "/count/finish", day["po"], {}).status_code == 200
    return _post(client, "/protocol/sign", day["po"], {"password": KEY_PASSWORD, "explanation": explanation})


EU = "BS-EU"
BALLOTS_CAST = [
    {
        "ballot_style": EU,
        "votes": {"PRES": ["Amira Haddad"], "REF-1": ["Yes"], "PARL-EU": ["Sara Lind", "Omar Farouk"]},
    },
    {"ballot_style": EU, "votes": {"PRES": ["Jonas Berg"], "REF-1": ["No"]}, "invalid": ["PARL-EU"]},
    {"ballot_style": EU, "votes": {"PRES": ["Amira Haddad"]}},
]


def test_cvrs_are_checked_one_by_one_and_a_bad_batch_stores_nothing(
    client: FlaskClient, day, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    _open(client, day)
    close = {"unused": {"BS-EU": 20, "BS-ME": 5, "BS-HOME": 5}, "seals": ["S-101"]}
    assert _post(client, "/close", day["po"], close).status_code == 200
    overvote = {"ballot_style": EU, "votes": {"PRES": ["Amira Haddad", "Jonas Berg"]}}
    for bad, message in (
        (overvote, "record it as invalid"),
        ({"ballot_style": EU, "votes": {"PARL-ME": ["Hassan Ali"]}}, "not on ballot style BS-EU"),
        ({"ballot_style": EU, "votes": {"PRES": ["Nobody"]}}, "is not a choice"),
        ({"ballot_style": "BS-XX"}, "not a ballot style"),
    ):
        response = _post(client, "/cvrs", day["clerk"], {"cvrs": [BALLOTS_CAST[0], bad]})
        assert response.status_code == 422
        assert message in response.json["error"]
    assert db_session.scalar(select(func.count()).select_from(CastVoteRecord)) == 0


def test_a_balanced_protocol_is_signed_countersigned_submitted_and_public(  # type: ignore[no-untyped-def]
    app: Flask, client: FlaskClient, day, db_session: Session, tmp_path: Path
) -> None:
    assert client.get(f"/api/v1/stations/{STATION}/protocol").status_code == 409  # not public yet
    signed = _count_and_sign(client, day, BALLOTS_CAST)
    assert signed.status_code == 200, signed.json
    protocol = client.get(f"/api/v1/stations/{STATION}/protocol", headers=day["po"]).json
    document = protocol["document"]
    assert all(check["holds"] for check in document["checks"]), document["checks"]
    assert document["figures"]["checked_in"] == 3
    assert document["figures"]["in_box"] == 3
    assert document["contests"]["PRES"] == {
        "choices": {"Amira Haddad": 2, "Jonas Berg": 1, "Leila Nasser": 0, "Tomás Ruiz": 0},
        "blank": 0,
        "invalid": 0,
    }
    assert document["contests"]["PARL-EU"]["invalid"] == 1
    assert document["contests"]["PARL-EU"]["blank"] == 1
    wrong = _post(client, "/protocol/countersign", day["observer"], {"password": "not it"})
    assert wrong.status_code == 401
    countersigned = _post(client, "/protocol/countersign", day["observer"], {"password": KEY_PASSWORD})
    assert countersigned.status_code == 200
    assert [s["key"] for s in countersigned.json["signatures"]] == ["po-ber", "olivia-1"]
    assert _post(client, "/protocol/submit", day["clerk"], {}).status_code == 403
    assert _post(client, "/protocol/submit", day["po"], {}).status_code == 200
    public = client.get(f"/api/v1/stations/{STATION}/protocol")
    assert public.status_code == 200
    assert public.json["sha256"] == signed.json["sha256"]
    # The log carries the signed document, and the verifier checks its signatures.
    result = run(app, "audit", "export", str(tmp_path / "bundle"))
    assert result.exit_code == 0, result.output
    report = verify(tmp_path / "bundle", keys.log_key(db_session).vkey, "--json")
    assert report.returncode == 0, report.stdout + report.stderr
    assert json.loads(report.stdout)["signatures"] >= 2


def test_an_unbalanced_protocol_needs_a_written_explanation(client: FlaskClient, day) -> None:  # type: ignore[no-untyped-def]
    refused = _count_and_sign(client, day, BALLOTS_CAST[:2])  # a ballot short in the box
    assert refused.status_code == 422
    assert "ballots in the box = check-ins" in refused.json["fields"]["explanation"]
    explained = _post(
        client,
        "/protocol/sign",
        day["po"],
        {"password": KEY_PASSWORD, "explanation": "One voter left with the ballot."},
    )
    assert explained.status_code == 200
    document = client.get(f"/api/v1/stations/{STATION}/protocol", headers=day["po"]).json["document"]
    assert document["explanation"] == "One voter left with the ballot."
    assert not next(c for c in document["checks"] if c["check"] == "ballots in the box = check-ins")["holds"]


def test_the_station_list_is_searched_by_name_across_scripts(db_session: Session, day) -> None:  # type: ignore[no-untyped-def]
    from polling import service as polling

    clerk = Actor.of(accounts.get_user(db_session, "clerk"))
    found = polling.find_voters(db_session, clerk, "GE2027", STATION, "أميرة حداد")
    assert [v.given_name for v in found][:1] == ["Amira"]
    assert [v.family_name for v in polling.find_voters(db_session, clerk, "GE2027", STATION, "Jonas Berk")][
        :1
    ] == ["Berg"]
    assert [
        v.reg_no for v in polling.find_voters(db_session, clerk, "GE2027", STATION, day["voters"][2])
    ] == [day["voters"][2]]


# --- the pages ---------------------------------------------------------------------------


def _form_post(client: FlaskClient, path: str, data: dict[str, object]):  # type: ignore[no-untyped-def]
    data = {"csrf_token": csrf_token(client, f"/stations/{STATION}"), **data}
    return client.post(f"/stations/{STATION}{path}", data=data)


def test_the_desk_page_opens_finds_and_checks_voters_in(
    client: FlaskClient, day, db_session: Session
) -> None:  # type: ignore[no-untyped-def]
    amira = day["voters"][0]
    assert login(client, "po").status_code == 302
    page = client.get(f"/stations/{STATION}")
    assert page.status_code == 200
    assert "Ballot papers received: BS-EU" in page.get_data(as_text=True)
    opening = {f"style_{s}": n for s, n in BALLOTS.items()} | {
        "seals": "S-1\nS-2",
        "officials": "Petra Oster",
    }
    refused = _form_post(client, "/open", {**opening, "seals": ""})
    assert refused.status_code == 422
    assert _form_post(client, "/open", opening).status_code == 303
    found = client.get(f"/stations/{STATION}?q=Amira+Hadad").get_data(as_text=True)
    assert "Haddad, Amira" in found
    assert _form_post(client, "/checkin", {"reg_no": amira}).status_code == 303
    again = _form_post(client, "/checkin", {"reg_no": amira})
    assert again.status_code == 409
    assert "already voted at DE-BER-01" in again.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(Mark)) == 1


NIST_REPORT = Path(__file__).parents[1] / "polling_data" / "nist_cvr_report.json"


def test_a_scanners_nist_cvr_report_is_imported_by_the_cli(  # type: ignore[no-untyped-def]
    app: Flask, client: FlaskClient, day, db_session: Session, tmp_path: Path
) -> None:
    _open(client, day)
    close = {"unused": {"BS-EU": 20, "BS-ME": 5, "BS-HOME": 5}, "seals": ["S-101"]}
    assert _post(client, "/close", day["po"], close).status_code == 200
    broken = tmp_path / "broken.json"
    report = json.loads(NIST_REPORT.read_text(encoding="utf-8"))
    broken.write_text(json.dumps({k: v for k, v in report.items() if k != "Version"}), encoding="utf-8")
    refused = run(app, "station", "cvrs", STATION, str(broken))
    assert refused.exit_code == 65
    assert "Not a NIST SP 1500-103 CVR report" in refused.output
    result = run(app, "--as", "Petra Oster", "station", "cvrs", STATION, str(NIST_REPORT))
    assert result.exit_code == 0, result.output
    assert "1 cast-vote records stored" in result.output
    [cvr] = db_session.scalars(select(CastVoteRecord)).all()
    assert (cvr.ballot_style, cvr.selections, cvr.invalid) == ("BS-EU", {"PRES": ["Amira Haddad"]}, ["REF-1"])
    [counted] = _entries(db_session, "polling.ballots_counted")
    assert counted["actor"] == {"user": "Petra Oster", "role": "operator"}
    assert counted["payload"]["count"] == 1


def test_nothing_links_a_check_in_to_a_ballot(client: FlaskClient, day, db_session: Session) -> None:  # type: ignore[no-untyped-def]
    """docs/ballot-secrecy.md, point by point."""
    _open(client, day)
    amira = day["voters"][0]
    assert _post(client, "/checkins", day["clerk"], {"reg_no": amira}).status_code == 201
    assert (
        _post(client, "/cvrs", day["clerk"], {"cvrs": BALLOTS_CAST[:1]}).status_code == 409
    )  # not while polling
    close = {"unused": {"BS-EU": 19, "BS-ME": 5, "BS-HOME": 5}, "seals": ["S-101"]}
    assert _post(client, "/close", day["po"], close).status_code == 200
    assert _post(client, "/cvrs", day["clerk"], {"cvrs": BALLOTS_CAST[:1]}).status_code == 201
    assert {c.name for c in CastVoteRecord.__table__.columns} == {
        "id",
        "polling_station_id",
        "ballot_style",
        "selections",
        "invalid",
    }
    [cvr] = db_session.scalars(select(CastVoteRecord)).all()
    assert len(cvr.id) == 32
    assert int(cvr.id, 16)  # random hex, not a sequence number
    sequencer.integrate(db_session)
    entries = [json.loads(leaf) for leaf in db_session.scalars(select(Entry.leaf).order_by(Entry.seq))]
    closed = next(e["seq"] for e in entries if e["type"] == "polling.station_closed")
    counted = [e for e in entries if e["type"] == "polling.ballots_counted"]
    assert counted
    assert all(e["seq"] > closed for e in counted)
    assert all(set(e["payload"]) == {"station", "count", "root"} for e in counted)
    ballot_entries = [
        e for e in entries if e["type"] in ("polling.ballots_counted", "polling.protocol_signed")
    ]
    assert all(amira not in json.dumps(e) for e in ballot_entries)
