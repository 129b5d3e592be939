"""Registration through the service, the JSON API and the CLI."""

from __future__ import annotations

import copy
import json
import re
import threading
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from audit import sequencer
from audit.models import Entry
from ocv.acting import Actor
from ocv.auth import service as accounts
from ocv.errors import PermissionDenied, ValidationError
from ocv.settings import Settings
from registration import regno, service
from registration.errors import DuplicateDocument, StationFull, WrongPhase
from registration.models import DuplicateReview, Election, Station, Voter, VoterDocument
from tests.conftest import csrf_token, login
from tests.factories import OPERATOR
from tests.integration.test_cli import run

DEMO = Path(__file__).resolve().parents[2] / "registration" / "demo" / "election.json"


def demo_definition(**changes: object) -> dict[str, object]:
    data = json.loads(DEMO.read_text(encoding="utf-8"))
    data.update(changes)
    return data


def voter(**changes: object) -> dict[str, object]:
    raw: dict[str, object] = {
        "given_name": "Amira",
        "family_name": "Haddad",
        "date_of_birth": "1990-05-17",
        "constituency": "OV-EU",
        "host_country": "DE",
        "city": "Berlin",
        "documents": [{"type": "passport", "number": "P1234567"}],
        "names_original_script": "أميرة حداد",
    }
    raw.update(changes)
    return raw


def _types(session: Session) -> list[str]:
    sequencer.integrate(session)
    return list(session.scalars(select(Entry.type).order_by(Entry.seq)))


# --- election definition ---------------------------------------------------------------------


def test_loading_the_demo_election(db_session: Session) -> None:
    e = service.load_election(db_session, OPERATOR, demo_definition())
    assert (len(e.constituencies), len(e.contests), len(e.countries), len(e.stations)) == (5, 4, 4, 6)
    assert {c.code: c.ballot_style.code for c in e.constituencies}["OV-EU"] == "BS-EU"
    assert e.status == "setup"
    assert _types(db_session)[-1] == "registration.election_loaded"


def test_a_bad_election_file_names_every_problem_and_loads_nothing(db_session: Session) -> None:
    data = demo_definition(polling_day="18/04/2027")
    data["stations"] = copy.deepcopy(data["stations"])
    data["stations"][0]["time_zone"] = "Mars/Olympus"
    data["stations"][1]["country"] = "ZZ"
    data["contests"][0]["votes_allowed"] = 9
    with pytest.raises(ValidationError) as caught:
        service.load_election(db_session, OPERATOR, data)
    assert set(caught.value.fields) == {
        "polling_day",
        "stations[0].time_zone",
        "stations[1].country",
        "contests[0].votes_allowed",
    }
    assert db_session.scalar(select(Election).where(Election.code == "GE2027")) is None


def test_definition_is_editable_until_registration_opens(db_session: Session) -> None:
    e = service.load_election(db_session, OPERATOR, demo_definition())
    renamed = demo_definition(name="General Election 2027 (revised)")
    assert service.load_election(db_session, OPERATOR, renamed).name.endswith("(revised)")
    service.advance(db_session, OPERATOR, e, "registration_open")
    with pytest.raises(WrongPhase):
        service.load_election(db_session, OPERATOR, renamed)
    with pytest.raises(WrongPhase):
        service.advance(db_session, OPERATOR, e, "frozen")  # phases are not skipped


def test_cli_load_reports_problems(app: Flask, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(demo_definition(home_country="Ruritania")))
    result = run(app, "election", "load", str(bad))
    assert result.exit_code == 65
    assert "home_country" in result.output
    good = run(app, "election", "load", str(DEMO))
    assert good.exit_code == 0, good.output
    assert "6 stations" in good.output
    assert run(app, "election", "advance", "GE2027", "open").exit_code == 0


# --- enrolment -----------------------------------------------------------------------------


def test_enrolment_assigns_a_checked_number_and_a_station_by_city(
    db_session: Session, settings: Settings, election: Election, officer
) -> None:
    v = service.enrol(db_session, settings, officer, election, voter(city="Munich"))
    assert regno.is_valid(v.reg_no)
    assert v.station.code == "DE-MUC-01"
    assert v.status == "registered"
    assert [h.kind for h in v.history] == ["enrolled"]
    sequencer.integrate(db_session)
    leaf = db_session.scalars(select(Entry.leaf).order_by(Entry.seq.desc())).first()
    assert leaf is not None
    assert b"registration.voter_enrolled" in leaf
    assert b"P1234567" not in leaf and b"Haddad" not in leaf  # noqa: PT018 (privacy: neither)
    stored = db_session.scalars(select(VoterDocument.number_sealed)).all()
    assert all("P1234567" not in s for s in stored)


def test_enrolment_rules(db_session: Session, settings: Settings, election: Election, officer) -> None:
    cases = {
        "date_of_birth": voter(date_of_birth="2015-01-01"),
        "constituency": voter(constituency="NOWHERE"),
        "documents": voter(documents=[{"type": "library_card", "number": "123456"}]),
        "station": voter(station="FR-PAR-01"),  # not in Germany
        "given_name": voter(given_name="  "),
        "email": voter(email="not an address"),
    }
    for field, raw in cases.items():
        with pytest.raises(ValidationError) as caught:
            service.enrol(db_session, settings, officer, election, raw)
        assert field in caught.value.fields, field


def test_same_document_is_refused(
    db_session: Session, settings: Settings, election: Election, officer
) -> None:
    first = service.enrol(db_session, settings, officer, election, voter())
    with pytest.raises(DuplicateDocument) as caught:
        service.enrol(
            db_session,
            settings,
            officer,
            election,
            voter(given_name="Other", documents=[{"type": "passport", "number": "p 123-4567"}]),
        )
    assert caught.value.duplicate_of == first.reg_no
    db_session.expire_all()
    assert first.station.assigned == 1  # the refused enrolment took no seat


# The enrolment page's fields, as an officer fills them in.
ENROL_FORM = {
    "family_name": "Haddad",
    "given_name": "Amira",
    "date_of_birth": "1990-05-17",
    "constituency": "OV-EU",
    "host_country": "DE",
    "city": "Berlin",
    "doc1_type": "passport",
    "doc1_number": "P1234567",
}


def test_enrolment_page_enrols_and_wants_its_csrf_token(
    client: FlaskClient, db_session: Session, election: Election, officer
) -> None:
    assert login(client, "reggie").status_code == 302
    form = {**ENROL_FORM, "city": "munich"}
    token = csrf_token(client, "/elections/GE2027/enrol")
    enrolled = client.post("/elections/GE2027/enrol", data={**form, "csrf_token": token})
    assert enrolled.status_code == 302
    amira = db_session.scalars(select(Voter)).one()
    assert enrolled.location.endswith(f"/elections/GE2027/enrol?last={amira.reg_no}")
    page = client.get(enrolled.location).get_data(as_text=True)
    assert f"Enrolled Amira Haddad: {regno.format(amira.reg_no)} at DE-MUC-01." in page

    assert client.post("/elections/GE2027/enrol", data=form).status_code == 400  # no CSRF token
    assert db_session.scalar(select(func.count()).select_from(Voter)) == 1


def test_phases_are_named_in_the_readers_language(
    client: FlaskClient, db_session: Session, election: Election, make_user
) -> None:
    make_user("chief", "admin")
    assert login(client, "chief").status_code == 302
    assert "<td>inscriptions ouvertes</td>" in client.get("/elections?lang=fr").get_data(as_text=True)
    token = csrf_token(client, "/elections/GE2027")
    advanced = client.post("/elections/GE2027/advance/exhibition?lang=ar", data={"csrf_token": token})
    assert advanced.status_code == 302
    page = client.get("/elections/GE2027?lang=ar").get_data(as_text=True)
    assert "الانتخابات الآن في مرحلة «عرض القوائم»." in page
    assert "المرحلة: عرض القوائم." in page
    english = client.get("/elections/GE2027/stations/DE-BER-01/list?lang=en").get_data(as_text=True)
    assert "phase: exhibition" in english


def test_whoever_may_register_voters_is_offered_the_enrolment_page(
    client: FlaskClient, db_session: Session, settings: Settings, election: Election, officer, make_user
) -> None:
    make_user("chief", "admin")
    for username in ("reggie", "chief"):
        assert login(client, username).status_code == 302
        page = client.get("/elections/GE2027").get_data(as_text=True)
        assert 'href="/elections/GE2027/enrol"' in page, username
        client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    service.advance(db_session, OPERATOR, election, "exhibition")
    db_session.commit()
    assert login(client, "chief").status_code == 302
    assert 'href="/elections/GE2027/enrol"' not in client.get("/elections/GE2027").get_data(as_text=True)


def test_only_who_may_manage_elections_is_offered_the_file_form(
    client: FlaskClient, election: Election, officer, make_user
) -> None:
    make_user("chief", "admin")
    for username, offered in (("reggie", False), ("chief", True)):
        assert login(client, username).status_code == 302
        page = client.get("/elections").get_data(as_text=True)
        assert ('action="/elections/load"' in page) is offered, username
        client.post("/logout", data={"csrf_token": csrf_token(client, "/")})


def test_capacity_is_never_exceeded(
    db_session: Session, settings: Settings, election: Election, officer
) -> None:
    for station in db_session.scalars(select(Station).where(Station.election_id == election.id)):
        if station.country.code == "AE":
            station.capacity = 1
    db_session.flush()
    a = service.enrol(
        db_session,
        settings,
        officer,
        election,
        voter(
            host_country="AE",
            city="Dubai",
            constituency="OV-ME",
            documents=[{"type": "passport", "number": "AE000001"}],
        ),
    )
    b = service.enrol(
        db_session,
        settings,
        officer,
        election,
        voter(
            given_name="Leila",
            host_country="AE",
            city="Dubai",
            constituency="OV-ME",
            documents=[{"type": "passport", "number": "AE000002"}],
        ),
    )
    assert {a.station.code, b.station.code} == {"AE-DXB-01", "AE-AUH-01"}
    with pytest.raises(StationFull):
        service.enrol(
            db_session,
            settings,
            officer,
            election,
            voter(
                given_name="Nadia",
                host_country="AE",
                city=None,
                constituency="OV-ME",
                documents=[{"type": "passport", "number": "AE000003"}],
            ),
        )


def test_likely_duplicates_across_countries_go_to_review(
    db_session: Session, settings: Settings, election: Election, officer
) -> None:
    first = service.enrol(
        db_session,
        settings,
        officer,
        election,
        voter(given_name="Mohammed", family_name="Al-Hassan", names_original_script="محمد الحسن"),
    )
    second = service.enrol(
        db_session,
        settings,
        officer,
        election,
        voter(
            given_name="Muhammad",
            family_name="Alhasan",
            host_country="FR",
            city="Paris",
            documents=[{"type": "national_id", "number": "ID998877"}],
            names_original_script="محمد الحسن",
        ),
    )
    reviews = service.open_reviews(db_session, officer, election)
    assert [(r.voter.reg_no, r.candidate.reg_no) for r in reviews] == [(second.reg_no, first.reg_no)]
    with pytest.raises(WrongPhase):
        service.advance(db_session, OPERATOR, election, "exhibition") and service.advance(
            db_session, None, election, "frozen"
        )
    service.resolve_review(db_session, officer, reviews[0].id, "same_person", "same passport photo")
    assert second.status == "cancelled"
    assert service.open_reviews(db_session, officer, election) == []


def test_corrections_transfers_and_cancellations_keep_history(
    db_session: Session, settings: Settings, election: Election, officer
) -> None:
    v = service.enrol(db_session, settings, officer, election, voter())
    with pytest.raises(ValidationError, match="reason"):
        service.correct(db_session, settings, officer, v, {"given_name": "Amina"}, "")
    service.correct(db_session, settings, officer, v, {"given_name": "Amina"}, "typo at enrolment")
    assert v.given_name == "Amina"
    service.transfer(db_session, officer, v, "FR-PAR-01", "moved to Paris")
    assert (v.station.code, v.country.code) == ("FR-PAR-01", "FR")
    service.cancel(db_session, officer, v, "deceased")
    service.reinstate(db_session, officer, v, "cancelled in error")
    assert [h.kind for h in v.history] == ["enrolled", "corrected", "transferred", "cancelled", "reinstated"]
    assert v.history[1].changes == {"given_name": "Amira"}
    assert _types(db_session)[-4:] == [
        "registration.voter_corrected",
        "registration.voter_transferred",
        "registration.voter_cancelled",
        "registration.voter_reinstated",
    ]


def test_objection_workflow_and_freeze(
    db_session: Session, settings: Settings, election: Election, officer, make_user
) -> None:
    v = service.enrol(db_session, settings, officer, election, voter())
    keep = service.enrol(
        db_session,
        settings,
        officer,
        election,
        voter(given_name="Jonas", family_name="Berg", documents=[{"type": "passport", "number": "X7654321"}]),
    )
    with pytest.raises(WrongPhase):
        service.file_objection(db_session, officer, v, "not a citizen")
    service.advance(db_session, OPERATOR, election, "exhibition")
    o = service.file_objection(db_session, officer, v, "not a citizen", "party agent 7")
    with pytest.raises(WrongPhase):
        service.decide_objection(db_session, officer, o, "upheld", "no reply")
    service.notify_objection(db_session, officer, o, "SMS and e-mail on 2027-03-01")
    service.reply_to_objection(db_session, officer, o, "I hold citizenship; certificate attached")
    with pytest.raises(WrongPhase, match="still open"):
        service.advance(db_session, OPERATOR, election, "frozen")
    service.decide_objection(db_session, officer, o, "upheld", "certificate not valid")
    assert v.status == "cancelled"
    frozen = service.advance(db_session, OPERATOR, election, "frozen")
    assert frozen.frozen_digest is not None
    sequencer.integrate(db_session)
    published = [
        json.loads(leaf)
        for leaf in db_session.scalars(
            select(Entry.leaf).where(Entry.type == "registration.list_published").order_by(Entry.seq)
        )
    ]
    assert [p["payload"]["phase"] for p in published] == ["exhibition", "final"]
    assert published[-1]["payload"]["digest"] == frozen.frozen_digest
    assert published[-1]["payload"]["voters"] == 1
    station = service.get_station(db_session, election, keep.station.code)
    assert [x.reg_no for x in service.station_list(db_session, officer, station)] == [keep.reg_no]
    # The station's own officials read it too; another station's may not.
    own_clerk = Actor.of(make_user("clerk.own", "clerk", station.code))
    assert len(service.station_list(db_session, own_clerk, station)) == 1
    other_clerk = Actor.of(make_user("clerk.other", "clerk", "FR-PAR-01"))
    with pytest.raises(PermissionDenied):
        service.station_list(db_session, other_clerk, station)
    with pytest.raises(WrongPhase):
        service.enrol(
            db_session,
            settings,
            officer,
            election,
            voter(documents=[{"type": "passport", "number": "LATE0001"}]),
        )


def test_a_document_refused_in_the_enrolment_form_takes_no_seat(
    client: FlaskClient, db_session: Session, election: Election, officer
) -> None:
    assert login(client, "reggie").status_code == 302
    form = ENROL_FORM

    def enrol(**changes: str):  # type: ignore[no-untyped-def]
        token = csrf_token(client, "/elections/GE2027/enrol")
        return client.post("/elections/GE2027/enrol", data={**form, **changes, "csrf_token": token})

    logged = _types(db_session).count("registration.voter_enrolled")
    assert enrol().status_code == 302
    refused = enrol(given_name="Other", doc1_number="p 123-4567")
    assert "This document is registered already" in refused.get_data(as_text=True)
    invalid = enrol(doc1_number="DE0000001", date_of_birth="2020-01-01")
    assert "Must be at least 18" in invalid.get_data(as_text=True)
    db_session.expire_all()
    berlin = db_session.scalar(
        select(Station).where(Station.election_id == election.id, Station.code == "DE-BER-01")
    )
    assert berlin is not None
    assert db_session.scalar(select(func.count()).where(Voter.election_id == election.id)) == 1
    assert berlin.assigned == 1
    assert _types(db_session).count("registration.voter_enrolled") == logged + 1


def test_a_voters_page_speaks_the_readers_language(
    client: FlaskClient, db_session: Session, settings: Settings, election: Election, officer
) -> None:
    v = service.enrol(db_session, settings, officer, election, voter())
    db_session.commit()
    assert login(client, "reggie").status_code == 302
    url = f"/elections/GE2027/voters/{v.reg_no}"
    english = client.get(url).get_data(as_text=True)
    assert "· registered</small>" in english
    assert "<dd>passport</dd>" in english
    french = client.get(url, headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "· inscrit</small>" in french
    assert "<dd>passeport</dd>" in french
    assert " · <bdi>inscrit</bdi> · <bdi>reggie</bdi>" in french  # the history's "enrolled"
    arabic = client.get(url, headers={"Accept-Language": "ar"}).get_data(as_text=True)
    assert "<dd>جواز سفر</dd>" in arabic


def test_the_forms_of_a_voters_page_have_labels_of_their_own(
    client: FlaskClient, db_session: Session, settings: Settings, election: Election, officer
) -> None:
    v = service.enrol(db_session, settings, officer, election, voter())
    service.advance(db_session, OPERATOR, election, "exhibition")
    db_session.commit()
    assert login(client, "reggie").status_code == 302
    url = f"/elections/GE2027/voters/{v.reg_no}"
    _assert_ids_unique_and_labels_bound(client.get(url).get_data(as_text=True))

    def post(action: str, **fields: str):  # type: ignore[no-untyped-def]
        token = csrf_token(client, url)
        return client.post(f"{url}/{action}", data={"csrf_token": token, **fields}, follow_redirects=True)

    assert "Recorded." in post("object", **{"objection-grounds": "Not resident"}).get_data(as_text=True)
    moved = post("transfer", **{"transfer-station": "DE-MUC-01", "transfer-reason": "Moved to Munich"})
    assert "Recorded." in moved.get_data(as_text=True)
    refused = post("cancel", **{"change-reason": ""})
    assert "Give a reason." in refused.get_data(as_text=True)
    assert "Recorded." in post("cancel", **{"change-reason": "Asked to be removed"}).get_data(as_text=True)
    db_session.expire_all()
    assert (v.status, v.station.code) == ("cancelled", "DE-MUC-01")
    assert [o.grounds for o in service.objections_of(db_session, officer, election)] == ["Not resident"]


def _assert_ids_unique_and_labels_bound(page: str) -> None:
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert [i for i in set(ids) if ids.count(i) > 1] == []
    labels = re.findall(r'<label for="([^"]+)"', page)
    assert labels
    assert [target for target in labels if target not in ids] == []


def _item_csrf_token(page: str, prefix: str) -> str:
    match = re.search(rf'name="{prefix}-csrf_token" type="hidden" value="([^"]+)"', page)
    assert match, f"no CSRF token for {prefix}"
    return match.group(1)


def test_each_open_review_has_a_form_of_its_own(
    client: FlaskClient, db_session: Session, settings: Settings, election: Election, officer
) -> None:
    service.enrol(db_session, settings, officer, election, voter())
    for n, given_name in enumerate(("Amirah", "Ameera"), start=1):
        service.enrol(
            db_session,
            settings,
            officer,
            election,
            voter(
                given_name=given_name,
                host_country="FR",
                city="Paris",
                documents=[{"type": "national_id", "number": f"ID00000{n}"}],
            ),
        )
    db_session.commit()
    reviews = service.open_reviews(db_session, officer, election)
    assert len(reviews) >= 2
    assert login(client, "reggie").status_code == 302
    url = "/elections/GE2027/reviews"
    page = client.get(url).get_data(as_text=True)
    _assert_ids_unique_and_labels_bound(page)
    for r in reviews:
        assert f'<label for="review-{r.id}-reason">' in page
        assert f'<code dir="ltr">{regno.format(r.voter.reg_no)}</code>' in page
    first, second = reviews[0], reviews[1]

    def resolve(review_id: int, reason: str, **extra: str):  # type: ignore[no-untyped-def]
        prefix = f"review-{review_id}"
        token = _item_csrf_token(client.get(url).get_data(as_text=True), prefix)
        fields = {
            f"{prefix}-csrf_token": token,
            f"{prefix}-decision": "different",
            f"{prefix}-reason": reason,
        }
        return client.post(url, data={"review": str(review_id), **fields, **extra})

    # A refused decision shows its error on its own item only, and the page stays well formed.
    refused = resolve(second.id, "")
    assert refused.status_code == 200
    refused_page = refused.get_data(as_text=True)
    _assert_ids_unique_and_labels_bound(refused_page)
    assert re.findall(r'<ul class="errors" id="([^"]+)"', refused_page) == [
        f"review-{second.id}-reason-errors"
    ]

    resolved = resolve(first.id, "Different fathers' names on the documents")
    assert resolved.status_code == 302
    assert "Resolved." in client.get(resolved.location).get_data(as_text=True)
    db_session.expire_all()
    assert first.id not in {r.id for r in service.open_reviews(db_session, officer, election)}
    assert second.id in {r.id for r in service.open_reviews(db_session, officer, election)}
    assert db_session.get(DuplicateReview, first.id).status == "different"  # type: ignore[union-attr]


def test_each_open_objection_has_a_form_of_its_own(
    client: FlaskClient, db_session: Session, settings: Settings, election: Election, officer
) -> None:
    amira = service.enrol(db_session, settings, officer, election, voter())
    jonas = service.enrol(
        db_session,
        settings,
        officer,
        election,
        voter(
            given_name="Jonas",
            family_name="Berg",
            date_of_birth="1979-11-02",
            names_original_script=None,
            documents=[{"type": "passport", "number": "X7654321"}],
        ),
    )
    service.advance(db_session, OPERATOR, election, "exhibition")
    replied = service.file_objection(db_session, officer, amira, "Not resident", "party agent 7")
    service.notify_objection(db_session, officer, replied, "Registered letter")
    service.reply_to_objection(db_session, officer, replied, "I live in Berlin")
    filed = service.file_objection(db_session, officer, jonas, "Moved back home")
    db_session.commit()
    assert login(client, "reggie").status_code == 302
    url = "/elections/GE2027/objections"
    page = client.get(url).get_data(as_text=True)
    _assert_ids_unique_and_labels_bound(page)
    assert f'<label for="objection-{replied.id}-decision">' in page
    assert f'<label for="objection-{replied.id}-text">Reason for the decision</label>' in page
    assert f'<label for="objection-{filed.id}-text">How the voter was notified</label>' in page
    assert f'<code class="code" dir="ltr">{regno.format(jonas.reg_no)}</code>' in page

    prefix = f"objection-{replied.id}"
    decided = client.post(
        url,
        data={
            "objection": str(replied.id),
            "step": "decide",
            f"{prefix}-csrf_token": _item_csrf_token(page, prefix),
            f"{prefix}-decision": "dismissed",
            f"{prefix}-text": "Proof of residence in Berlin",
        },
    )
    assert decided.status_code == 302
    assert "Recorded." in client.get(decided.location).get_data(as_text=True)
    db_session.expire_all()
    assert (replied.status, replied.decision, amira.status) == ("decided", "dismissed", "registered")
    assert filed.status == "filed"


# --- API -------------------------------------------------------------------------------------


def _token(db_session: Session, user) -> dict[str, str]:  # type: ignore[no-untyped-def]
    token = accounts.issue_token(db_session, OPERATOR, user, "api")
    db_session.commit()
    return {"Authorization": f"Bearer {token}"}


def test_api_enrolment(
    client: FlaskClient, db_session: Session, election: Election, officer, make_user
) -> None:
    headers = _token(db_session, officer.user)
    created = client.post("/api/v1/elections/GE2027/voters", json=voter(), headers=headers)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert set(body) == {"reg_no", "status", "station", "duplicate_reviews"}
    assert body["duplicate_reviews"] == []
    assert body["station"] == "DE-BER-01"

    invalid = client.post(
        "/api/v1/elections/GE2027/voters", json=voter(date_of_birth="1990-13-45"), headers=headers
    )
    assert invalid.status_code == 422
    assert set(invalid.get_json()) == {"error", "fields"}
    assert "date_of_birth" in invalid.get_json()["fields"]

    duplicate = client.post("/api/v1/elections/GE2027/voters", json=voter(given_name="X"), headers=headers)
    assert duplicate.status_code == 409
    assert duplicate.get_json()["duplicate_of"] == body["reg_no"]

    assert client.post("/api/v1/elections/GE2027/voters", json=voter()).status_code == 401
    observer = _token(db_session, make_user("obs", "observer"))
    assert client.post("/api/v1/elections/GE2027/voters", json=voter(), headers=observer).status_code == 403
    not_json = client.post("/api/v1/elections/GE2027/voters", data="x", headers=headers)
    assert not_json.status_code == 422


def test_api_describes_elections(client: FlaskClient, election: Election) -> None:
    listed = client.get("/api/v1/elections").get_json()
    assert [e["code"] for e in listed] == ["GE2027"]
    described = client.get("/api/v1/elections/GE2027").get_json()
    assert {s["code"] for s in described["stations"]} >= {"DE-BER-01", "US-NYC-01"}
    assert client.get("/api/v1/elections/NOPE").status_code == 404


def test_self_check(
    client: FlaskClient, db_session: Session, settings: Settings, election: Election, officer
) -> None:
    v = service.enrol(db_session, settings, officer, election, voter())
    db_session.commit()
    found = client.get(f"/api/v1/public/registration?reg_no={v.reg_no.lower()}&date_of_birth=1990-05-17")
    assert found.status_code == 200
    body = found.get_json()
    assert body["status"] == "registered"
    assert body["station"]["code"] == "DE-BER-01"
    assert body["polling_days"][0] == {
        "date": "2027-04-17",
        "opens": "08:00",
        "closes": "18:00",
        "time_zone": "Europe/Berlin",
        "utc_offset": "+0200",
        "opens_utc": "2027-04-17T06:00:00Z",
        "closes_utc": "2027-04-17T16:00:00Z",
    }
    assert "Haddad" not in found.get_data(as_text=True)  # nothing personal beyond what was asked

    wrong_dob = client.get(f"/api/v1/public/registration?reg_no={v.reg_no}&date_of_birth=1990-05-18")
    other = regno.generate()
    unknown = client.get(f"/api/v1/public/registration?reg_no={other}&date_of_birth=1990-05-17")
    assert wrong_dob.status_code == unknown.status_code == 404
    assert wrong_dob.get_json() == unknown.get_json()

    broken = v.reg_no[:-1] + next(c for c in regno.ALPHABET if c != v.reg_no[-1])
    typo = client.get(f"/api/v1/public/registration?reg_no={broken}&date_of_birth=1990-05-17")
    assert typo.status_code == 422
    assert "check" in typo.get_json()["error"].lower()


def test_self_check_is_rate_limited(client: FlaskClient, election: Election) -> None:
    statuses = [
        client.get("/api/v1/public/registration?reg_no=AAAA&date_of_birth=1990-01-01").status_code
        for _ in range(12)
    ]
    assert statuses[-1] == 429


def test_two_officers_enrol_the_same_document_at_once(own_database: Engine, settings: Settings) -> None:
    """Real concurrent transactions: exactly one enrolment of the document succeeds.

    On PostgreSQL both transactions run at once and the unique constraint decides; SQLite
    admits one writer at a time, so there the two meet at the door instead."""
    meet_inside = own_database.dialect.name != "sqlite"
    factory = sessionmaker(bind=own_database)
    with factory() as session, session.begin():
        code = f"RACE{len(service.list_elections(session))}"
        e = service.load_election(session, OPERATOR, demo_definition(code=code))
        service.advance(session, OPERATOR, e, "registration_open")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def officer_enrols(name: str) -> None:
        with factory() as session:
            if not meet_inside:
                barrier.wait(timeout=10)
            try:
                with session.begin():
                    election = service.get_election(session, code)
                    if meet_inside:
                        barrier.wait(timeout=10)
                    service.enrol(
                        session,
                        settings,
                        OPERATOR,
                        election,
                        voter(given_name=name, documents=[{"type": "passport", "number": "RACE0001"}]),
                    )
                outcomes.append("enrolled")
            except DuplicateDocument:
                outcomes.append("duplicate")

    threads = [threading.Thread(target=officer_enrols, args=(n,)) for n in ("Ana", "Ben")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["duplicate", "enrolled"]
    with factory() as session:
        election = service.get_election(session, code)
        assert session.scalar(select(Voter).where(Voter.election_id == election.id)) is not None
        assert len(session.scalars(select(Voter.id).where(Voter.election_id == election.id)).all()) == 1
