"""Editing an election's definition during setup: the service and the page."""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit import sequencer
from audit.models import Entry
from ocv.acting import Actor
from ocv.errors import PermissionDenied
from registration import election_file, service
from registration.errors import ElectionFileError, WrongPhase
from registration.models import Election, Station
from tests.conftest import csrf_token, login
from tests.factories import OPERATOR
from tests.integration.test_registration import demo_definition

URL = "/elections/GE2027/edit"
STATION_FIELDS = ("name", "city", "address", "time_zone", "capacity")


@pytest.fixture
def in_setup(db_session: Session) -> Election:
    election = service.load_election(db_session, OPERATOR, demo_definition())
    db_session.commit()
    return election


@pytest.fixture
def admin(client: FlaskClient, make_user) -> FlaskClient:  # type: ignore[no-untyped-def]
    make_user("chief", "admin")
    assert login(client, "chief").status_code == 302
    return client


def _logged(session: Session, type_: str) -> list[dict[str, object]]:
    sequencer.integrate(session)
    leaves = session.scalars(select(Entry.leaf).where(Entry.type == type_).order_by(Entry.seq))
    return [json.loads(leaf)["payload"] for leaf in leaves]


def _form(client: FlaskClient, session: Session, **stations: dict[str, object]) -> dict[str, object]:
    """The edit form as the page sends it, with the stored values and the changes given."""
    definition = service.definition_of(session.scalars(select(Election)).one())
    data: dict[str, object] = {
        "edit-csrf_token": csrf_token(client, URL),
        "edit-submit": "Save",
        "edit-name": definition["name"],
        "edit-polling_day": definition["polling_day"],
        "edit-minimum_age": definition["eligibility"]["minimum_age"],
    }
    for i, station in enumerate(definition["stations"]):
        data[f"edit-stations-{i}-code"] = station["code"]
        for key in STATION_FIELDS:
            data[f"edit-stations-{i}-{key}"] = stations.get(station["code"], {}).get(key, station[key])
    return data


def _send_json(client: FlaskClient, text: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client, URL)
    return client.post(URL, data={"json-csrf_token": token, "json-submit": "Save", "json-definition": text})


def _stored(session: Session) -> dict[str, object]:
    session.expire_all()
    return service.definition_of(session.scalars(select(Election)).one())


# --- the service -------------------------------------------------------------------------------


def test_the_definition_round_trips(db_session: Session, in_setup: Election) -> None:
    definition = service.definition_of(in_setup)
    assert election_file.parse(definition) == election_file.parse(demo_definition())


def test_the_service_edits_only_in_setup_and_only_for_administrators(
    db_session: Session, in_setup: Election, make_user
) -> None:
    data = service.definition_of(in_setup)
    data["contests"][0]["choices"].append("Yara Saleh")
    officer = Actor.of(make_user("reggie", "registration_officer"))
    with pytest.raises(PermissionDenied):
        service.edit_election(db_session, officer, in_setup, data)
    assert service.edit_election(db_session, OPERATOR, in_setup, data) == ["contests"]
    assert in_setup.contests[0].choices[-1] == "Yara Saleh"
    assert service.edit_election(db_session, OPERATOR, in_setup, data) == []  # nothing to log
    [edited] = _logged(db_session, "registration.election_edited")
    assert edited["changed"] == ["contests"]
    # The digests chain: the definition edited is the one loaded.
    [loaded] = _logged(db_session, "registration.election_loaded")
    assert edited["previous_sha256"] == loaded["definition_sha256"] != edited["definition_sha256"]
    with pytest.raises(ElectionFileError) as caught:
        service.edit_election(db_session, OPERATOR, in_setup, {**data, "code": "OTHER"})
    assert list(caught.value.fields) == ["code"]
    service.advance(db_session, OPERATOR, in_setup, "registration_open")
    with pytest.raises(WrongPhase):
        service.edit_election(db_session, OPERATOR, in_setup, data)


# --- the page ----------------------------------------------------------------------------------


def test_an_administrator_edits_a_name_and_a_capacity(
    admin: FlaskClient, db_session: Session, in_setup: Election
) -> None:
    page = admin.get("/elections/GE2027")
    assert URL in page.get_data(as_text=True)  # the "Edit" link
    form = _form(admin, db_session, **{"DE-MUC-01": {"name": "Munich Consulate", "capacity": "3500"}})
    form["edit-name"] = "General Election 2027 (revised)"
    saved = admin.post(URL, data=form)
    assert saved.status_code == 302, saved.get_data(as_text=True)
    stored = _stored(db_session)
    assert stored["name"] == "General Election 2027 (revised)"
    munich = next(s for s in stored["stations"] if s["code"] == "DE-MUC-01")  # type: ignore[union-attr]
    assert (munich["name"], munich["capacity"], munich["country"]) == ("Munich Consulate", 3500, "DE")
    [edited] = _logged(db_session, "registration.election_edited")
    assert edited["changed"] == ["name", "stations"]
    assert "Saved" in admin.get("/elections/GE2027").get_data(as_text=True)


def test_an_administrator_edits_the_whole_definition(
    admin: FlaskClient, db_session: Session, in_setup: Election
) -> None:
    page = admin.get(URL).get_data(as_text=True)
    assert "Overseas: Europe" in page  # the textarea holds the whole definition
    data = _stored(db_session)
    data["host_countries"][0]["polling_days"][0]["closes"] = "20:00"  # type: ignore[index]
    assert _send_json(admin, json.dumps(data)).status_code == 302
    assert _stored(db_session)["host_countries"][0]["polling_days"][0]["closes"] == "20:00"  # type: ignore[index]
    [edited] = _logged(db_session, "registration.election_edited")
    assert edited["changed"] == ["host_countries"]


@pytest.mark.parametrize(
    ("change", "path"),
    [
        ({"capacity": "0"}, "stations[1].capacity"),
        ({"time_zone": "Mars/Olympus"}, "stations[1].time_zone"),
    ],
)
def test_a_bad_value_in_the_form_changes_nothing(
    admin: FlaskClient, db_session: Session, in_setup: Election, change: dict[str, str], path: str
) -> None:
    before = _stored(db_session)
    response = admin.post(URL, data=_form(admin, db_session, **{"DE-MUC-01": change}))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert path in page and "Nothing was saved" in page  # noqa: PT018 (both)
    assert 'aria-invalid="true"' in page  # on the field itself too
    assert _stored(db_session) == before
    assert _logged(db_session, "registration.election_edited") == []


def test_bad_json_and_a_problem_deep_in_it_change_nothing(
    admin: FlaskClient, db_session: Session, in_setup: Election
) -> None:
    before = _stored(db_session)
    not_json = _send_json(admin, '{"code": "GE2027",\n  "name": }')
    assert not_json.status_code == 422
    assert "line 2, column 11" in not_json.get_data(as_text=True)
    deep = json.loads(json.dumps(before))
    deep["host_countries"][0]["polling_days"][1]["opens"] = "25:00"
    deep["contests"][2]["votes_allowed"] = 9
    refused = _send_json(admin, json.dumps(deep))
    assert refused.status_code == 422
    page = refused.get_data(as_text=True)
    assert "host_countries[0].polling_days[1].opens" in page
    assert "contests[2].votes_allowed" in page
    assert "25:00" in page  # what was sent stays in the textarea, to be fixed
    assert _stored(db_session) == before
    assert db_session.scalar(select(Station.capacity).where(Station.code == "DE-MUC-01")) == 3000
    assert _logged(db_session, "registration.election_edited") == []


def test_the_form_is_refused_without_its_csrf_token(
    admin: FlaskClient, db_session: Session, in_setup: Election
) -> None:
    form = _form(admin, db_session)
    del form["edit-csrf_token"]
    assert admin.post(URL, data=form).status_code == 400


@pytest.mark.parametrize("role", ["registration_officer", "observer"])
def test_only_administrators_edit(
    client: FlaskClient, make_user, db_session: Session, in_setup: Election, role: str
) -> None:
    make_user("someone", role)
    login(client, "someone")
    assert client.get(URL).status_code == 403
    token = csrf_token(client, "/")
    sent = client.post(URL, data={"json-csrf_token": token, "json-submit": "Save", "json-definition": "{}"})
    assert sent.status_code == 403
    if role == "registration_officer":
        assert URL not in client.get("/elections/GE2027").get_data(as_text=True)


def test_the_page_refuses_once_registration_opens(
    admin: FlaskClient, db_session: Session, in_setup: Election
) -> None:
    form = _form(admin, db_session)
    service.advance(db_session, OPERATOR, in_setup, "registration_open")
    db_session.commit()
    assert admin.get(URL).status_code == 409
    assert admin.post(URL, data=form).status_code == 409
    assert URL not in admin.get("/elections/GE2027").get_data(as_text=True)
