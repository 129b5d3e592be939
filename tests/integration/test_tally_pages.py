"""The tally's pages through the test client, CSRF on: the public results site (embargo,
levels, station protocols) and the tally officers' dashboard (intake, a quarantined
station resolved by two officers, certification)."""

from __future__ import annotations

import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from ocv.settings import Settings
from tally import service as tally
from tests.conftest import PASSWORD, login
from tests.integration import tally_site


@pytest.fixture
def csrf_app(app: Flask) -> Flask:
    app.config["WTF_CSRF_ENABLED"] = True
    return app


def _officers(db_session: Session, settings: Settings) -> None:
    tally_site.tally_officer(db_session, settings, "alice")
    tally_site.tally_officer(db_session, settings, "bob")


def _as(app: Flask, username: str) -> FlaskClient:
    client = app.test_client()
    assert login(client, username).status_code in (302, 303)
    return client


def _form_token(page: str, action: str) -> str:
    form = page[page.index(f'action="{action}"') :]
    match = re.search(r'name="[^"]*csrf_token" type="hidden" value="([^"]+)"', form)
    assert match, action
    return match.group(1)


def test_the_public_site_waits_for_the_embargo(
    csrf_app: Flask, db_session: Session, settings: Settings
) -> None:
    code = tally_site.polled(db_session, settings, code="TE2027", close=tally_site.FUTURE)
    _officers(db_session, settings)
    tally.intake_all(db_session, tally_site.tally_officer(db_session, settings, "carol"), code)
    db_session.commit()
    client = csrf_app.test_client()
    page = client.get(f"/results/{code}").get_data(as_text=True)
    assert "2099-01-01 00:00 UTC" in page
    assert "Jonas Berg" not in page
    assert "Jonas Berg" not in client.get(f"/results/{code}/stations/DE-BER-01").get_data(as_text=True)
    # A tally officer sees the figures, marked internal.
    inside = _as(csrf_app, "alice").get(f"/results/{code}").get_data(as_text=True)
    assert "Jonas Berg" in inside
    assert "internal" in inside


def test_the_public_site_after_the_embargo(csrf_app: Flask, db_session: Session, settings: Settings) -> None:
    code = tally_site.polled(db_session, settings)
    tally.intake_all(db_session, tally_site.tally_officer(db_session, settings, "alice"), code)
    db_session.commit()
    client = csrf_app.test_client()
    page = client.get(f"/results/{code}")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for expected in ('<svg class="chart"', "Jonas Berg", "/results.csv"):
        assert expected in text
    for path in ("constituencies/OV-EU", "countries/DE", "stations/DE-BER-01", "stations/DE-MUC-01"):
        assert client.get(f"/results/{code}/{path}").status_code == 200, path
    station = client.get(f"/results/{code}/stations/DE-BER-01").get_data(as_text=True)
    assert "po.deber01-2027" in station
    assert "RFC 8785" in station
    assert client.get(f"/results/{code}/countries/ZZ").status_code == 404
    french = client.get(f"/results/{code}?lang=fr", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Résultats" in french


def test_two_officers_resolve_a_quarantined_station_and_certify(
    csrf_app: Flask, db_session: Session, settings: Settings
) -> None:
    # A turnout flag at 50% quarantines DE-BER-01 (its turnout is above).
    code = tally_site.polled(db_session, settings, turnout_above=0.5)
    _officers(db_session, settings)
    alice, bob = _as(csrf_app, "alice"), _as(csrf_app, "bob")
    board = f"/tally/{code}"
    page = alice.get(board).get_data(as_text=True)
    sent = alice.post(f"{board}/intake", data={"csrf_token": _form_token(page, f"{board}/intake")})
    assert sent.status_code == 303
    page = alice.get(board).get_data(as_text=True)
    assert 'id="q-DE-BER-01"' in page
    assert "turnout" in page
    # Without a CSRF token, nothing happens.
    assert (
        alice.post(f"{board}/stations/DE-BER-01/propose", data={"s-de-ber-01-action": "accept"}).status_code
        == 400
    )
    sent = alice.post(
        f"{board}/stations/DE-BER-01/propose",
        data={
            "s-de-ber-01-csrf_token": _form_token(page, f"{board}/stations/DE-BER-01/propose"),
            "s-de-ber-01-action": "accept",
            "s-de-ber-01-reason": "Turnout checked against the marked register: it is right.",
        },
    )
    assert sent.status_code == 303, re.findall(r"<p class=\"flash.*", sent.get_data(as_text=True))
    (proposal,) = [
        p for p in tally.proposals(db_session, _actor(db_session, "bob"), code) if p.station == "DE-BER-01"
    ]
    decide = f"{board}/proposals/{proposal.id}/decide"
    # The proposer may not approve their own proposal.
    page = alice.get(board).get_data(as_text=True)
    refused = alice.post(
        decide, data={f"p{proposal.id}-csrf_token": _form_token(page, decide), f"p{proposal.id}-approve": "1"}
    )
    assert refused.status_code == 403
    page = bob.get(board).get_data(as_text=True)
    approved = bob.post(
        decide, data={f"p{proposal.id}-csrf_token": _form_token(page, decide), f"p{proposal.id}-approve": "1"}
    )
    assert approved.status_code == 303
    assert "DE-BER-01" not in {
        q.station for q in tally.quarantine(db_session, _actor(db_session, "bob"), code)
    }
    # The other stations the flag caught, resolved the same way (through the service).
    for item in tally.quarantine(db_session, _actor(db_session, "alice"), code):
        other = tally.propose(
            db_session, _actor(db_session, "alice"), code, item.station, "accept", "Checked."
        )
        tally.approve(db_session, _actor(db_session, "bob"), other.id, "", settings)
    db_session.commit()
    page = bob.get(board).get_data(as_text=True)
    assert "Quarantine (0)" in page
    certified = bob.post(
        f"{board}/certify", data={"csrf_token": _form_token(page, f"{board}/certify"), "password": PASSWORD}
    )
    assert certified.status_code == 303, certified.get_data(as_text=True)[:3000]
    assert tally.certification_status(db_session, code).certified
    assert "Certified" in csrf_app.test_client().get(f"/results/{code}").get_data(as_text=True)


def _actor(db_session: Session, username: str):  # type: ignore[no-untyped-def]
    from ocv.acting import Actor
    from ocv.auth import service as accounts

    return Actor.of(accounts.get_user(db_session, username))


def test_the_dashboard_is_for_tally_officers_and_observers(
    csrf_app: Flask, db_session: Session, settings: Settings, make_user
) -> None:  # type: ignore[no-untyped-def]
    code = tally_site.polled(db_session, settings)
    make_user("reggie", "registration_officer")
    assert _as(csrf_app, "reggie").get(f"/tally/{code}").status_code == 403
    assert csrf_app.test_client().get(f"/tally/{code}").status_code in (302, 401)
