"""Input an attacker or a careless client sends gets a clear 4xx and changes nothing (never a 500)."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ocv.auth import service as accounts
from ocv.errors import ValidationError
from registration.models import Election, Voter
from tests.conftest import csrf_token
from tests.factories import OPERATOR
from tests.integration.test_cli import run
from tests.integration.test_registration import voter

ENROL = "/api/v1/elections/GE2027/voters"
OPTIONAL_NAMES = ("father_name", "grandfather_name", "names_original_script", "city")
STORED_TEXTS = ("given_name", "family_name", *OPTIONAL_NAMES)


@pytest.fixture
def headers(db_session: Session, officer) -> dict[str, str]:  # type: ignore[no-untyped-def]
    token = accounts.issue_token(db_session, OPERATOR, officer.user, "api")
    db_session.commit()
    return {"Authorization": f"Bearer {token}"}


def _voters(db_session: Session) -> int:
    return db_session.scalar(select(func.count()).select_from(Voter)) or 0


def test_every_over_long_name_is_reported_at_once_and_nothing_stored(
    client: FlaskClient, db_session: Session, election: Election, headers: dict[str, str]
) -> None:
    long = {name: "A" * 301 for name in OPTIONAL_NAMES}
    response = client.post(ENROL, json=voter(**long, given_name="B" * 101), headers=headers)
    assert response.status_code == 422, response.get_data(as_text=True)
    # The API's typed body names the first over-long member (msgspec stops there).
    named = set(response.get_json()["fields"])
    assert named
    assert named <= {"given_name", *OPTIONAL_NAMES}
    assert _voters(db_session) == 0


@pytest.mark.parametrize("name", OPTIONAL_NAMES)
def test_a_number_where_a_name_goes_is_refused_not_dropped(
    client: FlaskClient, db_session: Session, election: Election, headers: dict[str, str], name: str
) -> None:
    response = client.post(ENROL, json=voter(**{name: 42}), headers=headers)
    assert response.status_code == 422
    assert set(response.get_json()["fields"]) == {name}  # the API's typed body names the member
    assert _voters(db_session) == 0


@pytest.mark.parametrize("name", STORED_TEXTS)
@pytest.mark.parametrize("bad", ["Am\x00ira", "Am\x07ira", "Am\x1b[31mira"])
def test_control_characters_are_refused_in_every_stored_text(
    client: FlaskClient, db_session: Session, election: Election, headers: dict[str, str], name: str, bad: str
) -> None:
    response = client.post(ENROL, json=voter(**{name: bad}), headers=headers)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert "control character" in response.get_json()["fields"][name][0]
    assert _voters(db_session) == 0


def test_text_is_stored_in_nfc(
    client: FlaskClient, db_session: Session, election: Election, headers: dict[str, str]
) -> None:
    decomposed = "Jose\u0301"
    assert client.post(ENROL, json=voter(given_name=decomposed), headers=headers).status_code == 201
    assert db_session.scalar(select(Voter.given_name)) == "Jos\u00e9"


def test_lone_surrogates_and_non_json_numbers_are_not_json(
    client: FlaskClient, election: Election, headers: dict[str, str]
) -> None:
    json_headers = {**headers, "Content-Type": "application/json"}
    for body in (b'{"given_name": "\\ud800"}', b'{"given_name": NaN}', b'{"x": 1e999}', b'{"x": '):
        response = client.post(ENROL, data=body, headers=json_headers)
        assert response.status_code == 422, body
        assert set(response.get_json()) >= {"error"}


def test_json_bodies_have_a_depth_and_a_size_limit(
    client: FlaskClient, election: Election, headers: dict[str, str]
) -> None:
    json_headers = {**headers, "Content-Type": "application/json"}
    for depth in (17, 2000):
        deep = client.post(ENROL, data=b"[" * depth + b"]" * depth, headers=json_headers)
        assert deep.status_code == 422, depth
        assert deep.get_json()["error"]  # refused with a reason: not a voter object at all
    large = client.post(ENROL, json=voter(city="x" * 70_000), headers=headers)
    assert large.status_code == 413
    assert "bytes" in large.get_json()["error"]


def test_sign_in_with_a_nul_in_the_user_name_is_a_field_error(client: FlaskClient, make_user) -> None:
    make_user("alice")
    token = csrf_token(client, "/login")
    response = client.post("/login", data={"username": "ali\x00ce", "password": "x", "csrf_token": token})
    assert response.status_code == 200
    assert "control character" in response.get_data(as_text=True)


def test_the_text_check_speaks_the_readers_language(client: FlaskClient) -> None:
    token = csrf_token(client, "/login")
    data = {"username": "ali\x1bce", "password": "x", "csrf_token": token}
    page = client.post("/login", data=data, headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "Contient un caractère de contrôle (U+001B)." in page


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/elections/GE2027%00",
        "/elections/GE2027%00",
        "/audit/entries/9223372036854775808",
        "/api/v1/audit/checkpoints/99999999999999999999",
    ],
)
def test_urls_with_nul_or_numbers_past_64_bits_match_no_page(
    client: FlaskClient, election: Election, url: str
) -> None:
    assert client.get(url).status_code == 404


@pytest.mark.parametrize(
    "query",
    [
        "entries?start=99999999999999999999&end=99999999999999999999",
        "entries?start=0&end=9223372036854775808",
        "proof/inclusion?index=0&size=9223372036854775807",
        "proof/consistency?from=1&to=9223372036854775807",
    ],
)
def test_audit_api_numbers_are_range_checked(client: FlaskClient, query: str) -> None:
    response = client.get(f"/api/v1/audit/{query}")
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.get_json()["fields"]


def test_log_browser_refuses_a_nul_filter(client: FlaskClient) -> None:
    response = client.get("/audit/?station=%00&type=x%00y")
    assert response.status_code == 200
    assert "Some filters are not valid" in response.get_data(as_text=True)


def test_cosignature_sizes_past_64_bits_are_refused(
    client: FlaskClient, db_session: Session, make_user
) -> None:
    observer = make_user("olga", "observer")
    token = accounts.issue_token(db_session, OPERATOR, observer, "witness")
    db_session.commit()
    for size in (2**63, 2**64 + 1, 10**30):
        response = client.post(
            "/api/v1/audit/cosignatures",
            json={"size": size, "signature": "— witness AAAA"},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert response.status_code == 422, size


@pytest.mark.parametrize(
    "target",
    [
        "/\t/evil.example",
        "/\n/evil.example",
        "/\\evil.example",
        "//evil.example",
        "https://evil.example",
        "/\r\n/evil.example",
        "evil.example",
        "/%09/ok",
    ],
)
def test_language_switch_never_redirects_off_site(client: FlaskClient, target: str) -> None:
    token = csrf_token(client, "/")
    response = client.post("/language", data={"lang": "fr", "next": target, "csrf_token": token})
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location in ("/", "/%09/ok"), location


def test_language_switch_returns_to_the_page_it_came_from(client: FlaskClient) -> None:
    token = csrf_token(client, "/")
    response = client.post("/language", data={"lang": "fr", "next": "/audit/?type=x", "csrf_token": token})
    assert response.headers["Location"] == "/audit/?type=x"


def test_account_texts_from_the_console_pass_the_text_check(db_session: Session, settings) -> None:  # type: ignore[no-untyped-def]
    for changes in ({"full_name": "A" * 201}, {"full_name": "Ann\x00"}, {"station_code": "DE-" + "B" * 40}):
        with pytest.raises(ValidationError) as refused:
            accounts.create_user(
                db_session,
                settings,
                OPERATOR,
                username="console",
                role="presiding_officer",
                password="a long enough passphrase",
                **{"station_code": "DE-BER-01", **changes},
            )
        assert set(refused.value.fields) == set(changes)


def test_an_election_file_nested_too_deep_is_not_json_to_the_console(app, tmp_path) -> None:  # type: ignore[no-untyped-def]
    deep = tmp_path / "deep.json"
    deep.write_bytes(b"[" * 5000 + b"]" * 5000)
    result = run(app, "election", "load", str(deep))
    assert result.exit_code == 65
    assert "is not JSON" in result.output
    assert "Traceback" not in result.output
