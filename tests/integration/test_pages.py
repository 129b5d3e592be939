"""Every route has its page in tests/pages.py, and every page is light: under 100 KB as sent
(gzipped) with the demo's data, and a station of 5,000 voters is read page by page.

The budget walks the pages an administrator, a registration officer or anyone opens with a
GET; the few reached otherwise (a form's answer, the second-factor step) hold no list and
are weighed by the browser sweep (tests/e2e/test_accessibility.py) as it passes them."""

from __future__ import annotations

import csv
import gzip
import io
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import make_url, select

from audit import checkpoints
from audit import keys as audit_keys
from audit.models import Entry
from ocv import demo, migrate
from ocv.app import create_app
from ocv.db import database
from ocv.settings import Settings
from registration import service as registration
from registration.imports import service as imports
from registration.lists import LIST_PAGE_SIZE, list_digest
from registration.models import Voter
from tests.conftest import csrf_token
from tests.factories import OPERATOR
from tests.pages import ADMIN, ANYONE, NOT_PAGES, OFFICER, PAGES, PRESIDING, TALLY
from tests.scratch import drop_database, fresh_database

BUDGET = 100 * 1024
BIG_STATION = "DE-BER-01"
BIG_STATION_VOTERS = 5000
IMPORT_COLUMNS = [
    "given_name",
    "family_name",
    "father_name",
    "names_original_script",
    "date_of_birth",
    "sex",
    "constituency",
    "host_country",
    "city",
    "station",
    "doc1_type",
    "doc1_number",
]


def _get_routes(app: Flask) -> set[str]:
    return {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in (rule.methods or set())}


def test_every_route_has_a_page(app: Flask) -> None:
    routes = _get_routes(app)
    listed = {page.endpoint for page in PAGES if page.endpoint is not None}
    assert routes - listed - set(NOT_PAGES) == set(), "add these routes' pages to tests/pages.py"
    assert (listed | set(NOT_PAGES)) - routes == set(), "tests/pages.py names routes that are gone"
    assert listed & set(NOT_PAGES) == set()


# --- the demo's data, committed in a database of its own --------------------------------------


def _demo_file(definition: dict[str, Any]) -> io.BytesIO:
    """The demo's voters, and as many more at the big station as fill it to 5,000: imported
    in one file rather than enrolled one by one (the same voters, in seconds, not a minute)."""
    sample = list(demo.sample_voters(definition, demo.VOTERS))
    at_big = sum(1 for v in sample if v["city"] == "Berlin")
    extra = list(demo.sample_voters(definition, (BIG_STATION_VOTERS - at_big) * 6, seed=16))
    sample += [v for v in extra if v["city"] == "Berlin"][: BIG_STATION_VOTERS - at_big]
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(IMPORT_COLUMNS)
    for i, v in enumerate(sample):
        doc = v["documents"][0]
        row = {**v, "station": BIG_STATION if v["city"] == "Berlin" else "", "doc1_type": doc["type"]}
        row["doc1_number"] = f"W{i:08d}"
        writer.writerow([row.get(column, "") for column in IMPORT_COLUMNS])
    return io.BytesIO(out.getvalue().encode())


def _load_demo(app: Flask, settings: Settings) -> dict[str, str]:
    definition = json.loads(demo.ELECTION_FILE.read_text(encoding="utf-8"))
    with database(app).transaction() as session:
        audit_keys.create_log(session, settings)
        demo.load(session, settings, OPERATOR, voters=0, poll=False)
        election = registration.get_election(session, definition["code"])
        imports.import_voters(
            session, settings, OPERATOR, election, _demo_file(definition), filename="demo.csv"
        )
        # A likely duplicate, for the review page.
        twin = {
            **next(demo.sample_voters(definition, 1)),
            "documents": [{"type": "passport", "number": "WTWIN0001"}],
        }
        registration.enrol(session, settings, OPERATOR, election, twin)
        voter = session.scalars(select(Voter).where(Voter.election_id == election.id).limit(1)).one()
        # An election in its exhibition period, with an objection, and one not yet open.
        exhibited = registration.load_election(session, OPERATOR, {**definition, "code": "EX2027"})
        registration.advance(session, OPERATOR, exhibited, "registration_open")
        objected = registration.enrol(
            session,
            settings,
            OPERATOR,
            exhibited,
            {**twin, "documents": [{"type": "passport", "number": "WEX000001"}]},
        )
        registration.advance(session, OPERATOR, exhibited, "exhibition")
        registration.file_objection(session, OPERATOR, objected, "Lives at home since 2026", "A neighbour")
        registration.load_election(session, OPERATOR, {**definition, "code": "SU2027"})
        # A polling day: its list frozen, one station polled and submitted, one polling.
        polled = registration.load_election(session, OPERATOR, {**definition, "code": "PD2027"})
        registration.advance(session, OPERATOR, polled, "registration_open")
        for raw in demo.sample_voters(definition, 60):
            registration.enrol(session, settings, OPERATOR, polled, raw)
        registration.advance(session, OPERATOR, polled, "exhibition")
        registration.advance(session, OPERATOR, polled, "frozen")
        demo.polling_day(session, OPERATOR, polled.code)
        checkpoints.issue(session, settings, "demand")
        seq = session.scalar(select(Entry.seq).where(Entry.type == "registration.list_published"))
        return {
            "election": election.code,
            "setup": "SU2027",
            "exhibited": exhibited.code,
            "station": BIG_STATION,
            "reg_no": voter.reg_no,
            "exhibited_reg_no": objected.reg_no,
            "family_name": voter.family_name,
            "date_of_birth": voter.date_of_birth.isoformat(),
            "seq": str(seq),
            "username": "observer",
            "polled": polled.code,
        }


@pytest.fixture(scope="module")
def demo_site(
    database_url: str, base_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Flask, dict[str, str]]]:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        own_url = f"sqlite:///{tmp_path_factory.mktemp('weight') / 'demo.sqlite'}"
    else:
        own_url = fresh_database(database_url, f"{url.database}_weight")
    # Imports run as jobs beside the request, as in production: this database is its own.
    settings = base_settings.with_overrides(database_url=own_url, background_imports=True)
    app = create_app(settings)
    migrate.upgrade(database(app).engine)
    data = _load_demo(app, settings)
    yield app, data
    database(app).engine.dispose()
    drop_database(own_url)


def _signed_in(app: Flask, who: str | None) -> FlaskClient:
    client = app.test_client()
    if who is not None:
        username = {ADMIN: "admin", OFFICER: "registrar", PRESIDING: "po.demuc01", TALLY: "tally"}[who]
        token = csrf_token(client, "/login")
        answer = client.post(
            "/login", data={"username": username, "password": demo.DEMO_PASSWORD, "csrf_token": token}
        )
        assert answer.status_code == 302, answer.get_data(as_text=True)
    return client


def _import_job(client: FlaskClient, election: str, tmp: Path) -> str:
    """A check of a small file through the import page: the job page to weigh."""
    path = tmp / "check.csv"
    path.write_text("given_name,family_name,date_of_birth\nAmira,Haddad,1990-13-01\n", encoding="utf-8")
    token = csrf_token(client, f"/elections/{election}/import")
    with path.open("rb") as upload:
        answer = client.post(
            f"/elections/{election}/import",
            data={"csrf_token": token, "file": (upload, "check.csv"), "mode": "check"},
        )
    match = re.search(rf"/elections/{election}/import/([\w-]+)", answer.headers.get("Location", ""))
    assert match, (answer.status_code, answer.get_data(as_text=True)[:500])
    for _ in range(100):  # the job's page, once the job is done
        if "refresh" not in client.get(match.group(0)).get_data(as_text=True):
            break
        time.sleep(0.1)
    return match.group(1)


def test_every_page_is_under_the_budget_with_the_demo_data(
    demo_site: tuple[Flask, dict[str, str]], tmp_path: Path
) -> None:
    app, data = demo_site
    clients = {who: _signed_in(app, who) for who in (ANYONE, ADMIN, OFFICER, PRESIDING, TALLY)}
    data = {**data, "job": _import_job(clients[OFFICER], data["election"], tmp_path)}
    weighed = {}
    for page in PAGES:
        if page.who not in clients or page.submit:
            continue
        answer = clients[page.who].get(page.url(data), headers={"Accept-Encoding": "gzip"})
        assert answer.status_code == page.status, page.name
        assert answer.headers.get("Content-Encoding") == "gzip", page.name
        weighed[page.name] = len(answer.data)
    assert len(weighed) >= 25
    assert {name: size for name, size in weighed.items() if size >= BUDGET} == {}


def test_a_station_of_5000_voters_is_listed_page_by_page(demo_site: tuple[Flask, dict[str, str]]) -> None:
    app, data = demo_site
    client = _signed_in(app, OFFICER)
    path = f"/elections/{data['election']}/stations/{BIG_STATION}/list"
    pages = -(-BIG_STATION_VOTERS // LIST_PAGE_SIZE)
    first = client.get(path, headers={"Accept-Encoding": "gzip"})
    html = gzip.decompress(first.data).decode()
    assert f"{BIG_STATION_VOTERS} voters" in html
    assert html.count("<tr><td>") == LIST_PAGE_SIZE
    assert f"Page 1 of {pages}: voters 1 to {LIST_PAGE_SIZE}." in html
    last = client.get(f"{path}?page={pages}").get_data(as_text=True)
    assert f"voters {BIG_STATION_VOTERS - LIST_PAGE_SIZE + 1} to {BIG_STATION_VOTERS}." in last
    assert f"<tr><td>{BIG_STATION_VOTERS}</td>" in last
    # Every page shows the digest of the whole list, the one the CLI prints.
    with database(app).transaction() as session:
        election = registration.get_election(session, data["election"])
        voters = registration.station_list(
            session, OPERATOR, registration.get_station(session, election, BIG_STATION)
        )
        assert len(voters) == BIG_STATION_VOTERS
        digest = list_digest(voters)
    assert digest in html
    assert digest in last
    assert client.get(f"{path}?page={pages + 1}").status_code == 404
