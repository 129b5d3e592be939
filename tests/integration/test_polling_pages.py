"""Polling's pages through the test client, as the desk uses them: the card's QR code and a
mistyped number in the search box, a voter already marked shown before anyone presses
Check in, the tally sheet typed in twice with its differences shown box by box, and the
words (state names, plural counts, French and Arabic) the pages show."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from polling import wording
from registration import service as registry
from tests.conftest import csrf_token, login
from tests.integration.test_polling import BALLOTS, STATION, day  # noqa: F401 (the fixture)

OPENING = {f"style_{s}": n for s, n in BALLOTS.items()} | {"seals": "S-1\nS-2", "officials": "Petra Oster"}


def _post(client: FlaskClient, path: str, data: dict[str, object]):  # type: ignore[no-untyped-def]
    data = {"csrf_token": csrf_token(client, f"/stations/{STATION}"), **data}
    return client.post(f"/stations/{STATION}{path}", data=data)


def _shown(reg_no: str) -> str:
    return "-".join(reg_no[i : i + 3] for i in range(0, 9, 3))


def test_the_card_qr_code_finds_the_voter_and_a_second_check_in_is_refused_before_and_after(
    client: FlaskClient,
    day,  # noqa: F811
) -> None:  # type: ignore[no-untyped-def]
    amira = day["voters"][0]
    assert login(client, "po").status_code == 302
    assert _post(client, "/open", OPENING).status_code == 303
    found = client.get(f"/stations/{STATION}", query_string={"q": f"OCV:GE2027:{amira}"})
    assert "Haddad, Amira" in found.get_data(as_text=True)
    done = _post(client, "/checkin", {"reg_no": amira})
    assert done.status_code == 303
    page = client.get(done.headers["Location"]).get_data(as_text=True)
    assert f"{_shown(amira)} is checked in: hand out a ballot of style BS-EU." in page
    again = client.get(f"/stations/{STATION}", query_string={"q": _shown(amira)}).get_data(as_text=True)
    assert "already voted at DE-BER-01 on " in again
    assert f'name="reg_no" value="{amira}"' not in again  # no button to press
    refused = _post(client, "/checkin", {"reg_no": amira})
    assert refused.status_code == 409
    text = refused.get_data(as_text=True)
    assert f"{_shown(amira)} already voted at DE-BER-01 on " in text
    assert " CET" in text or " CEST" in text  # the station's clock, its zone named


def test_a_mistyped_number_and_another_elections_card_are_named_as_such(
    client: FlaskClient,
    day,  # noqa: F811
) -> None:  # type: ignore[no-untyped-def]
    amira = day["voters"][0]
    wrong = amira[:-1] + ("0" if amira[-1] != "0" else "1")
    assert login(client, "clerk").status_code == 302
    login(client, "po")
    _post(client, "/open", OPENING)
    mistyped = client.get(f"/stations/{STATION}", query_string={"q": wrong}).get_data(as_text=True)
    assert "Check the number: one of its characters is wrong." in mistyped
    other = client.get(f"/stations/{STATION}", query_string={"q": f"OCV:XX2030:{amira}"})
    assert "This card is for XX2030, not GE2027." in other.get_data(as_text=True)
    french = client.get(f"/stations/{STATION}", query_string={"q": wrong, "lang": "fr"})
    assert "Vérifiez le numéro" in french.get_data(as_text=True)


def _tally_day(client: FlaskClient, db_session: Session) -> list[tuple[str, str]]:
    """GE2027 counted by tally sheet, DE-BER-01 polled (one check-in) and closed."""
    election = registry.get_election(db_session, "GE2027")
    election.counting = "tally_sheet"
    db_session.commit()
    login(client, "po")
    _post(client, "/open", OPENING)
    contests = [c for c in election.contests if c.code in {"PRES", "REF-1", "PARL-EU", "PARL-ME"}]
    return [(c.code, c.name) for c in contests]


def _sheet(in_box: int, pres: tuple[int, ...]) -> dict[str, object]:
    data: dict[str, object] = {"tally-ballots_in_box": in_box}
    counts = {"PRES": pres, "REF-1": (1, 0), "PARL-EU": (1, 0, 0, 0, 0), "PARL-ME": (0, 0, 0)}
    for code, figures in counts.items():
        for i, n in enumerate(figures):
            data[f"tally-t_{code}_{i}"] = n
        data[f"tally-t_{code}_blank"] = 0
        data[f"tally-t_{code}_invalid"] = 0
    return data


def test_the_tally_sheet_is_typed_twice_and_its_differences_are_shown_box_by_box(
    client: FlaskClient,
    day,  # noqa: F811
    db_session: Session,
) -> None:  # type: ignore[no-untyped-def]
    _tally_day(client, db_session)
    _post(client, "/checkin", {"reg_no": day["voters"][0]})
    unused = {f"style_{s}": n - (1 if s == "BS-EU" else 0) for s, n in BALLOTS.items()}
    assert _post(client, "/close", {**unused, "seals": "S-3"}).status_code == 303
    page = client.get(f"/stations/{STATION}").get_data(as_text=True)
    assert "Count: the tally sheet" in page
    assert "No entry yet." in page
    assert _post(client, "/tally-sheet", {"tally-ballots_in_box": "x"}).status_code == 422
    first = _post(client, "/tally-sheet", _sheet(1, (1, 0, 0, 0)))
    assert first.status_code == 303
    assert "One entry is in, by po" in client.get(f"/stations/{STATION}").get_data(as_text=True)
    client.post("/logout", data={"csrf_token": csrf_token(client, f"/stations/{STATION}")})
    login(client, "clerk")
    second = _post(client, "/tally-sheet", _sheet(1, (0, 1, 0, 0)))
    assert second.status_code == 303
    page = client.get(f"/stations/{STATION}").get_data(as_text=True)
    assert "differ in 2 boxes" in page
    assert page.count("The two entries differ here.") == 2
    assert "Amira Haddad" in page
    assert "Jonas Berg" in page
    assert _post(client, "/tally-sheet", _sheet(1, (1, 0, 0, 0))).status_code == 303
    page = client.get(f"/stations/{STATION}").get_data(as_text=True)
    assert "The entries of po and clerk agree." in page
    client.post("/logout", data={"csrf_token": csrf_token(client, f"/stations/{STATION}")})
    login(client, "po")
    assert _post(client, "/finish", {}).status_code == 303
    assert "counted: the protocol awaits its signature" in client.get(f"/stations/{STATION}").get_data(
        as_text=True
    )


def test_states_and_counts_are_worded_for_people(app) -> None:  # type: ignore[no-untyped-def]
    with app.test_request_context("/?lang=fr"):
        assert wording.state_name("polling") == "ouvert au vote"
        assert wording.voters(1) == "1 électeur"
        assert wording.voters(3) == "3 électeurs"
        assert wording.state_name("unknown") == "unknown"
    with app.test_request_context("/?lang=en"):
        assert wording.state_name("paused") == "closed for the night"
        assert wording.check_name("ballots in the box = check-ins") == "ballots in the box = check-ins"
        assert (
            wording.check_name("PRES: votes between 1 and 2 per valid ballot")
            == "PRES: between 1 and 2 votes per valid ballot"
        )
        assert wording.hours(1) == "1 hour at the last hour's rate"
        assert wording.hours(2.5) == "2.5 hours at the last hour's rate"
