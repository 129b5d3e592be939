"""The tally's JSON API: results (JSON, CSV, NIST) and station protocols, the embargo for
the public, insiders reading before it ends."""

from __future__ import annotations

import csv
import hashlib
import io

import rfc8785
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from ocv.acting import Actor
from ocv.auth import service as accounts
from ocv.settings import Settings
from tally import nist
from tally import service as tally
from tests.integration import tally_site


def _token(db_session: Session, username: str) -> dict[str, str]:
    user = accounts.get_user(db_session, username)
    token = accounts.issue_token(db_session, Actor.of(user), user, "test")
    db_session.commit()
    return {"Authorization": f"Bearer {token}"}


def _taken_in(db_session: Session, settings: Settings, **kw) -> str:  # type: ignore[no-untyped-def]
    code = tally_site.polled(db_session, settings, **kw)
    alice = tally_site.tally_officer(db_session, settings, "alice")
    tally.intake_all(db_session, alice, code)
    db_session.commit()
    return code


def test_results_after_the_embargo_in_json_csv_and_nist(
    client: FlaskClient, db_session: Session, settings: Settings
) -> None:
    code = _taken_in(db_session, settings)
    found = client.get(f"/api/v1/elections/{code}/results")
    assert found.status_code == 200, found.json
    body = found.json
    assert body["progress"]["accepted"] >= 1
    pres = next(c for c in body["total"]["contests"] if c["contest"] == "PRES")
    station = next(s for s in body["stations"] if s["station"] == "DE-BER-01")
    assert station["status"] == "accepted"
    assert sum(pres["choices"].values()) + pres["blank"] + pres["invalid"] == pres["ballots"]

    text = client.get(f"/api/v1/elections/{code}/results.csv")
    assert text.status_code == 200
    assert text.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(text.get_data(as_text=True))))
    at_station = [r for r in rows if r["level"] == "station" and r["contest"] == "PRES"]
    assert {"OV-EU", "C-02+N-01+S-03"} <= {r["constituency"] for r in at_station}
    assert sum(int(r["votes"]) for r in at_station) == pres["ballots"]  # the stations add up to the total

    report = client.get(f"/api/v1/elections/{code}/results/nist")
    assert report.status_code == 200
    assert nist.problems(report.json) == []
    assert report.json["Status"] == "unofficial-partial"


def test_the_public_is_told_when_the_embargo_ends(
    client: FlaskClient, db_session: Session, settings: Settings
) -> None:
    code = _taken_in(db_session, settings, code="TE2027", close=tally_site.FUTURE)
    for path in ("results", "results.csv", "results/nist"):
        refused = client.get(f"/api/v1/elections/{code}/{path}")
        assert refused.status_code == 403
        assert refused.json["ends_at"].startswith("2099-01-01T00:00:00")
        assert "embargo" in refused.json["error"]
    # A tally officer or an observer reads the figures as they stand.
    inside = client.get(f"/api/v1/elections/{code}/results", headers=_token(db_session, "alice"))
    assert inside.status_code == 200
    assert inside.json["progress"]["accepted"] >= 1
    observer = client.get(f"/api/v1/elections/{code}/results.csv", headers=_token(db_session, "observer"))
    assert observer.status_code == 200
    # Protocols are public on submission in this election, embargo or not.
    assert client.get(f"/api/v1/elections/{code}/stations/DE-BER-01/protocol").status_code == 200


def test_protocols_with_the_results_wait_for_the_embargo(
    client: FlaskClient, db_session: Session, settings: Settings
) -> None:
    code = _taken_in(
        db_session, settings, code="TW2027", close=tally_site.FUTURE, protocols_public="with_results"
    )
    refused = client.get(f"/api/v1/elections/{code}/stations/DE-BER-01/protocol")
    assert refused.status_code == 403
    assert refused.json["ends_at"].startswith("2099")
    inside = client.get(
        f"/api/v1/elections/{code}/stations/DE-BER-01/protocol", headers=_token(db_session, "alice")
    )
    assert inside.status_code == 200


def test_a_station_protocol_carries_what_checks_it(
    client: FlaskClient, db_session: Session, settings: Settings
) -> None:
    code = _taken_in(db_session, settings)
    found = client.get(f"/api/v1/elections/{code}/stations/DE-BER-01/protocol").json
    assert found["status"] == "accepted"
    assert hashlib.sha256(rfc8785.dumps(found["document"])).hexdigest() == found["sha256"]
    assert {s["key"] for s in found["signatures"]} == {"po.deber01-2027", "observer-2027"}
    assert "JCS" in found["verify"]
    # A station that has not submitted: its protocol is not public.
    assert client.get(f"/api/v1/elections/{code}/stations/DE-MUC-01/protocol").status_code == 409
    assert client.get("/api/v1/elections/NOPE/results").status_code == 404
