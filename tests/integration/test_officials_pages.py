"""Registration's pages as officials met them (issue 12, section 4): errors at their fields,
forms a phase forbids, the wording, the voter page, objections without a reply, the
self-check of a cancelled registration, French and Arabic, the import's columns."""

from __future__ import annotations

import csv
import html
import io
import re

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit import checkpoints
from ocv.acting import Actor
from ocv.errors import ValidationError
from ocv.i18n import translate
from ocv.settings import Settings
from registration import regno, service
from registration.errors import WrongPhase
from registration.imports import service as imports
from registration.models import Election, Voter
from tests.conftest import csrf_token, login
from tests.factories import OPERATOR
from tests.integration.test_cli import run
from tests.integration.test_registration import voter

ENROL = "/elections/GE2027/enrol"
FORM = {
    "family_name": "Haddad",
    "given_name": "Amira",
    "date_of_birth": "1990-05-17",
    "constituency": "OV-EU",
    "host_country": "DE",
    "city": "Berlin",
    "doc1_type": "passport",
    "doc1_number": "P1234567",
}


def _enrol(client: FlaskClient, lang: str = "en", **changes: str):  # type: ignore[no-untyped-def]
    token = csrf_token(client, ENROL)
    return client.post(f"{ENROL}?lang={lang}", data={**FORM, **changes, "csrf_token": token})


def _errors_of(page: str, field: str) -> list[str]:
    found = re.search(rf'<ul class="errors" id="{field}-errors">(.*?)</ul>', page, re.DOTALL)
    return [html.unescape(e) for e in re.findall(r"<li>(.*?)</li>", found.group(1))] if found else []


def _input(page: str, field: str) -> str:
    found = re.search(rf'<(?:input|select|textarea)[^>]*\bid="{field}"[^>]*>', page)
    assert found, f"no field {field}"
    return found.group(0)


@pytest.fixture
def signed_in(client: FlaskClient, election: Election, officer: Actor) -> FlaskClient:
    assert login(client, "reggie").status_code == 302
    return client


# --- the enrolment form ------------------------------------------------------------------------


def test_document_errors_are_shown_at_their_fields(signed_in: FlaskClient, db_session: Session) -> None:
    twice = _enrol(signed_in, doc2_type="passport", doc2_number="P7654321")
    page = twice.get_data(as_text=True)
    assert twice.status_code == 422
    assert _errors_of(page, "doc2_type") == ["Only one passport per voter."]
    assert "The voter&#39;s data has problems." not in page  # said at the field, not in a flash
    short = _enrol(signed_in, doc1_number="P1").get_data(as_text=True)
    assert _errors_of(short, "doc1_number") == ["The passport number must have 4 to 32 letters or digits."]
    empty = _enrol(signed_in, doc1_number="").get_data(as_text=True)
    assert _errors_of(empty, "doc1_number") == ["The passport number must have 4 to 32 letters or digits."]
    assert db_session.scalar(select(func.count()).select_from(Voter)) == 0


def test_the_form_has_no_default_constituency_or_country_and_marks_what_is_required(
    signed_in: FlaskClient,
) -> None:
    page = signed_in.get(ENROL).get_data(as_text=True)
    for name in ("constituency", "host_country"):
        select_ = re.search(rf'<select[^>]*id="{name}"[^>]*>(.*?)</select>', page, re.DOTALL)
        assert select_
        first = re.search(r"<option([^>]*)>([^<]*)</option>", select_.group(1))
        assert first
        assert 'value=""' in first.group(1)
        assert first.group(2) == "— choose —"
        assert "selected" not in select_.group(1).split("</option>")[0]
    for name in ("family_name", "given_name", "date_of_birth", "doc1_number", "constituency", "host_country"):
        assert 'aria-required="true"' in _input(page, name), name
    for name in ("father_name", "phone", "email", "station"):
        assert "aria-required" not in _input(page, name), name
    assert "Fields marked * are required." in page
    # The date of birth is one box (one tab stop), typed as on the document.
    date = _input(page, "date_of_birth")
    assert 'type="text"' in date
    assert 'placeholder="YYYY-MM-DD"' in date
    # Nothing chosen is refused at the field.
    refused = _enrol(signed_in, constituency="", host_country="").get_data(as_text=True)
    assert _errors_of(refused, "constituency") == ["This is required."]
    assert _errors_of(refused, "host_country") == ["This is required."]


def test_after_a_refusal_the_focus_is_on_the_wrong_field_and_a_summary_links_to_it(
    signed_in: FlaskClient,
) -> None:
    page = _enrol(signed_in, date_of_birth="1990-02-30", email="not-an-address").get_data(as_text=True)
    assert "autofocus" in _input(page, "date_of_birth")
    assert "autofocus" not in _input(page, "family_name")
    summary = re.search(r'<section class="error-summary".*?</section>', page, re.DOTALL)
    assert summary
    links = re.findall(r'<a href="#([^"]+)">', summary.group(0))
    assert links == ["date_of_birth", "email"]  # in the order of the form
    assert "1990-02-30 is not a real date." in summary.group(0)
    assert _input(page, "date_of_birth").count('value="1990-02-30"') == 1  # what was typed is kept
    # A fresh form focuses the first field.
    assert "autofocus" in _input(signed_in.get(ENROL).get_data(as_text=True), "family_name")


def test_a_date_that_is_not_in_the_calendar_is_said_so(
    db_session: Session, settings: Settings, election: Election, officer: Actor
) -> None:
    with pytest.raises(ValidationError) as caught:
        service.enrol(db_session, settings, officer, election, voter(date_of_birth="1990-02-30"))
    assert caught.value.fields["date_of_birth"] == ["1990-02-30 is not a real date."]
    with pytest.raises(ValidationError) as caught:
        service.enrol(db_session, settings, officer, election, voter(date_of_birth="17/05/1990"))
    assert caught.value.fields["date_of_birth"] == ["Use the form YYYY-MM-DD."]
    text = "given_name,family_name,date_of_birth,constituency,host_country,doc1_type,doc1_number\n"
    text += "Amira,Haddad,1990-02-30,OV-EU,DE,passport,P1234567\n"
    with pytest.raises(imports.ImportRejected) as rejected:
        imports.import_voters(
            db_session, settings, officer, election, io.BytesIO(text.encode()), filename="x.csv", dry_run=True
        )
    assert rejected.value.report.rejected == [(2, "date_of_birth", "1990-02-30 is not a real date.")]


def test_an_unknown_city_is_refused_with_the_cities_that_have_stations(
    signed_in: FlaskClient, db_session: Session, settings: Settings, election: Election, officer: Actor
) -> None:
    with pytest.raises(ValidationError) as caught:
        service.enrol(db_session, settings, officer, election, voter(city="Hamburg"))
    assert caught.value.fields["city"] == [
        "No station is in Hamburg (DE). Choose the station, or leave the city empty to place the"
        " voter at the least busy station in DE (stations are in: Berlin, Munich)."
    ]
    # Named the station, or no city at all: placed.
    named = service.enrol(db_session, settings, officer, election, voter(city="Hamburg", station="DE-MUC-01"))
    assert named.station.code == "DE-MUC-01"
    page = _enrol(signed_in, city="Hamburg", doc1_number="P7654321").get_data(as_text=True)
    assert _errors_of(page, "city")[0].startswith("No station is in Hamburg (DE).")
    french = _enrol(signed_in, "fr", city="Hamburg", doc1_number="P7654321").get_data(as_text=True)
    assert _errors_of(french, "city")[0].startswith("Aucun bureau à Hamburg (DE).")


def test_enrol_and_import_pages_say_when_the_phase_forbids_them(
    signed_in: FlaskClient, db_session: Session, election: Election
) -> None:
    token = csrf_token(signed_in, ENROL)
    service.advance(db_session, OPERATOR, election, "exhibition")
    db_session.commit()
    for path in (ENROL, "/elections/GE2027/import"):
        page = signed_in.get(path)
        text = page.get_data(as_text=True)
        assert page.status_code == 200
        assert (
            "Election GE2027 is in its exhibition phase: voters are enrolled and imported only while"
            " registration is open." in text
        ), path
        assert 'type="submit"' not in text.split("<main")[1].split("</main>")[0], path
    # A form opened before the phase changed is refused with the same words, never a bare code.
    posted = signed_in.post(ENROL, data={**FORM, "csrf_token": token})
    assert posted.status_code == 409
    assert "is in its exhibition phase" in posted.get_data(as_text=True)
    arabic = signed_in.get(f"{ENROL}?lang=ar").get_data(as_text=True)
    assert "الانتخابات GE2027 في مرحلة «عرض القوائم»" in arabic


# --- wording ---------------------------------------------------------------------------------


def test_the_phases_are_named_in_sentences(
    app: Flask, db_session: Session, election: Election, officer: Actor
) -> None:
    with pytest.raises(WrongPhase) as caught:
        service.advance(db_session, OPERATOR, election, "frozen")
    assert str(caught.value) == (
        "Election GE2027 is in its registration open phase; it can only move to the exhibition phase next."
    )
    service.advance(db_session, OPERATOR, election, "exhibition")
    with pytest.raises(WrongPhase) as caught:
        service.enrol(db_session, app.config["OCV_SETTINGS"], officer, election, voter())
    assert str(caught.value) == (
        "Election GE2027 is in its exhibition phase; this is done only in the registration open phase."
    )
    db_session.commit()
    result = run(app, "election", "advance", "GE2027", "freeze")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("GE2027 is now in its frozen phase; list digest ")
    db_session.expire_all()
    with pytest.raises(WrongPhase, match="is frozen, which is final"):
        service.advance(db_session, OPERATOR, election, "frozen")


def test_one_voter_and_one_row_are_singular(
    signed_in: FlaskClient, db_session: Session, settings: Settings, election: Election, officer: Actor
) -> None:
    service.enrol(db_session, settings, officer, election, voter())
    db_session.commit()
    assert "1 voter." in signed_in.get("/elections/GE2027").get_data(as_text=True)
    assert "2 voters." not in signed_in.get("/elections/GE2027").get_data(as_text=True)
    text = "given_name,family_name,date_of_birth,constituency,host_country,doc1_type,doc1_number\n"
    text += "Amira,Haddad,1990-05-17,OV-EU,DE,passport,P1234567\n"
    with pytest.raises(imports.ImportRejected) as caught:
        imports.import_voters(
            db_session, settings, officer, election, io.BytesIO(text.encode()), filename="x.csv"
        )
    assert caught.value.message == "1 of 1 row was rejected; nothing was imported."


# --- duplicates --------------------------------------------------------------------------------


def test_a_likely_duplicate_enrolled_by_the_api_says_a_review_was_opened(
    client: FlaskClient, db_session: Session, settings: Settings, election: Election, officer: Actor
) -> None:
    from ocv.auth import service as accounts

    first = service.enrol(
        db_session,
        settings,
        officer,
        election,
        voter(given_name="Fatima", family_name="Zahra", names_original_script=None),
    )
    token = accounts.issue_token(db_session, OPERATOR, officer.user, "api")
    db_session.commit()
    created = client.post(
        "/api/v1/elections/GE2027/voters",
        json=voter(
            given_name="Fatma",
            family_name="Zahraa",
            names_original_script=None,
            documents=[{"type": "national_id", "number": "ID998877"}],
        ),
        headers={"Authorization": f"Bearer {token}"},
    )
    assert created.status_code == 201
    body = created.get_json()
    assert body["status"] == "registered"
    [review] = body["duplicate_reviews"]
    assert review["candidate"] == first.reg_no
    assert 88 <= review["score"] < 100  # one name, spelt two ways: never "100%"

    assert login(client, "reggie").status_code == 302
    page = client.get("/elections/GE2027/reviews").get_data(as_text=True)
    assert f"Similarity {review['score']}%" in page
    assert "Similarity 100%" not in page


def test_the_form_says_when_a_review_was_opened(
    signed_in: FlaskClient, db_session: Session, settings: Settings, election: Election, officer: Actor
) -> None:
    first = service.enrol(db_session, settings, officer, election, voter())
    db_session.commit()
    enrolled = _enrol(signed_in, doc1_type="national_id", doc1_number="ID998877")
    assert enrolled.status_code == 302
    page = signed_in.get(enrolled.location).get_data(as_text=True)
    assert f"This voter looks like {regno.format(first.reg_no)}: a duplicate review was opened." in page


# --- the voter page ----------------------------------------------------------------------------


def test_cancel_and_reinstate_are_separate_and_a_cancelled_voter_offers_no_transfer_or_card(
    signed_in: FlaskClient, db_session: Session, settings: Settings, election: Election, officer: Actor
) -> None:
    v = service.enrol(
        db_session,
        settings,
        officer,
        election,
        voter(documents=[{"type": "consular_card", "number": "CC1234"}]),
    )
    db_session.commit()
    url = f"/elections/GE2027/voters/{v.reg_no}"
    page = signed_in.get(url).get_data(as_text=True)
    assert "<dd>consular card</dd>" in page
    assert "Cancel this registration" in page
    assert "Reinstate this registration" not in page
    assert "Transfer to another station" in page
    assert "Print the registration card" in page
    token = csrf_token(signed_in, url)
    cancelled = signed_in.post(f"{url}/cancel", data={"csrf_token": token, "change-reason": "moved home"})
    assert cancelled.status_code == 302
    page = signed_in.get(url).get_data(as_text=True)
    assert "Reinstate this registration" in page
    assert 'action="/elections/GE2027/voters/' + v.reg_no + '/cancel"' not in page
    assert "Transfer to another station" not in page
    assert "Print the registration card" not in page
    card = signed_in.get(f"{url}/card")
    assert card.status_code == 302
    assert "A cancelled registration has no card." in signed_in.get(card.location).get_data(as_text=True)
    # Beside each reason: it goes, as written, into the public log.
    assert "Published as written in the public audit log" in page
    # A refusal keeps the page and what was typed (here: reinstating twice is refused).
    db_session.expire_all()
    service.reinstate(db_session, officer, v, "back")
    db_session.commit()
    twice = signed_in.post(f"{url}/reinstate", data={"csrf_token": token, "change-reason": "typed reason"})
    assert twice.status_code == 422
    text = twice.get_data(as_text=True)
    assert "Only a cancelled registration can be reinstated." in text  # said, though its form is gone
    assert "Cancel this registration" in text


def test_objections_are_in_the_voters_history(
    signed_in: FlaskClient, db_session: Session, settings: Settings, election: Election, officer: Actor
) -> None:
    v = service.enrol(db_session, settings, officer, election, voter())
    service.advance(db_session, OPERATOR, election, "exhibition")
    o = service.file_objection(db_session, officer, v, "Not resident", "party agent 7")
    service.notify_objection(db_session, officer, o, "Registered letter")
    db_session.commit()
    history = signed_in.get(f"/elections/GE2027/voters/{v.reg_no}").get_data(as_text=True)
    history = history.split('<ol class="history">')[1].split("</ol>")[0]
    assert (
        f"<bdi>objection filed</bdi> · <bdi>party agent 7</bdi> · <bdi>Objection {o.id}: Not resident</bdi>"
        in (history)
    )
    assert f"<bdi>Objection {o.id}: Registered letter</bdi>" in history
    arabic = signed_in.get(f"/elections/GE2027/voters/{v.reg_no}?lang=ar").get_data(as_text=True)
    assert "<bdi>قُدّم اعتراض</bdi>" in arabic
    # Every run of a history line is isolated, so Arabic and Latin text do not scramble it.
    for line in re.findall(r"<li>(.*?)</li>", arabic.split('<ol class="history">')[1].split("</ol>")[0]):
        assert _outside_isolates(line).strip(" ·") == "", line


def test_the_history_says_what_each_change_did_in_words(
    signed_in: FlaskClient, db_session: Session, settings: Settings, election: Election, officer: Actor
) -> None:
    v = service.enrol(db_session, settings, officer, election, voter())
    placed = v.station.code
    service.correct(db_session, settings, officer, v, {"family_name": "Hadad"}, "typo on the form")
    target = next(s.code for s in election.stations if s.code != placed)
    service.transfer(db_session, officer, v, target, "moved")
    db_session.commit()
    page = html.unescape(signed_in.get(f"/elections/GE2027/voters/{v.reg_no}").get_data(as_text=True))
    history = page.split('<ol class="history">')[1].split("</ol>")[0]
    assert f"<bdi>Polling station: <bdi>{placed}</bdi></bdi>" in history
    assert "<bdi>Family name was <bdi>Haddad</bdi></bdi>" in history
    assert f"<bdi>from <bdi>{placed}</bdi> to <bdi>{target}</bdi></bdi>" in history
    assert "{" not in history  # no stored JSON shown as it is
    arabic = signed_in.get(f"/elections/GE2027/voters/{v.reg_no}?lang=ar").get_data(as_text=True)
    lines = re.findall(r"<li>(.*?)</li>", arabic.split('<ol class="history">')[1].split("</ol>")[0])
    assert len(lines) == 3
    for line in lines:
        assert _outside_isolates(line).strip(" ·") == "", line
    assert "اسم العائلة" in lines[1]


def _outside_isolates(line: str) -> str:
    """What of a line lies outside its <bdi> runs (innermost first: runs nest)."""
    line = re.sub(r"</?time[^>]*>", "", line)
    while True:
        shorter = re.sub(r"<bdi[^>]*>[^<]*</bdi>", "", line)
        if shorter == line:
            return line
        line = shorter


def test_a_voter_is_found_by_a_document_number(
    signed_in: FlaskClient, db_session: Session, settings: Settings, election: Election, officer: Actor
) -> None:
    v = service.enrol(db_session, settings, officer, election, voter())
    db_session.commit()
    page = signed_in.get("/elections/GE2027/voters?q=p 123-4567").get_data(as_text=True)
    assert regno.format(v.reg_no) in page
    assert "No voter matches." in signed_in.get("/elections/GE2027/voters?q=P0000000").get_data(as_text=True)


# --- objections --------------------------------------------------------------------------------


def _objection_page(client: FlaskClient) -> str:
    return client.get("/elections/GE2027/objections").get_data(as_text=True)


def _token_of(page: str, prefix: str) -> str:
    match = re.search(rf'name="{prefix}-csrf_token" type="hidden" value="([^"]+)"', page)
    assert match, prefix
    return match.group(1)


def test_an_objection_is_decided_without_a_reply_and_a_missing_decision_keeps_the_reason(
    signed_in: FlaskClient, db_session: Session, settings: Settings, election: Election, officer: Actor
) -> None:
    v = service.enrol(db_session, settings, officer, election, voter())
    service.advance(db_session, OPERATOR, election, "exhibition")
    o = service.file_objection(db_session, officer, v, "Not resident")
    service.notify_objection(db_session, officer, o, "Registered letter")
    db_session.commit()
    page = _objection_page(signed_in)
    assert "No reply in time: decide without a reply" in page
    prefix = f"objection-{o.id}-decide"
    assert f'<label for="{prefix}-text">Reason for the decision</label>' in page
    form = {"objection": str(o.id), "step": "decide", f"{prefix}-csrf_token": _token_of(page, prefix)}
    missing = signed_in.post(
        "/elections/GE2027/objections", data={**form, f"{prefix}-text": "No reply after 14 days"}
    )
    assert missing.status_code == 422
    text = missing.get_data(as_text=True)
    assert _errors_of(text, f"{prefix}-decision") == ["Choose one."]
    assert "No reply after 14 days</textarea>" in text  # the reason typed is kept
    decided = signed_in.post(
        "/elections/GE2027/objections",
        data={**form, f"{prefix}-decision": "upheld", f"{prefix}-text": "No reply after 14 days"},
    )
    assert decided.status_code == 302
    db_session.expire_all()
    assert (o.status, o.decision, o.reply, v.status) == ("decided", "upheld", None, "cancelled")
    assert "Decided without a reply." in _objection_page(signed_in)


# --- the self-check ---------------------------------------------------------------------------


def test_a_cancelled_registration_is_not_shown_as_a_success(
    client: FlaskClient, db_session: Session, settings: Settings, election: Election, officer: Actor
) -> None:
    v = service.enrol(db_session, settings, officer, election, voter())
    service.cancel(db_session, officer, v, "duplicate")
    db_session.commit()
    form = client.get("/check").get_data(as_text=True)
    assert 'placeholder="K7M-4QX-9T2"' in form
    token = csrf_token(client, "/check")
    page = client.post(
        "/check", data={"csrf_token": token, "reg_no": v.reg_no, "date_of_birth": "1990-05-17"}
    ).get_data(as_text=True)
    assert '<section class="result cancelled"' in page
    assert '<section class="result"' not in page
    assert "This registration is cancelled" in page
    assert "contact your registration centre or embassy" in page


# --- languages ------------------------------------------------------------------------------


def test_roles_checkpoint_reasons_and_scopes_are_translated(
    client: FlaskClient,
    db_session: Session,
    settings: Settings,
    election: Election,
    officer: Actor,
    make_user,
) -> None:
    make_user("chief", "admin")
    service.enrol(db_session, settings, officer, election, voter())
    checkpoints.issue(db_session, settings, "schedule")
    db_session.commit()
    assert login(client, "chief").status_code == 302
    users = client.get("/admin/users?lang=fr").get_data(as_text=True)
    assert "<td>Agent d&#39;inscription</td>" in users or "Agent d'inscription" in users
    assert "registration officer" not in users
    history = client.get("/audit/checkpoints?lang=ar").get_data(as_text=True)
    assert "حسب الجدول" in history
    log = client.get("/audit/?lang=fr").get_data(as_text=True)
    assert "· élection <span" in log
    assert "· bureau <span" in log


def test_service_messages_are_shown_in_the_readers_language(signed_in: FlaskClient) -> None:
    french = _enrol(signed_in, "fr", date_of_birth="1990-02-30").get_data(as_text=True)
    assert _errors_of(french, "date_of_birth") == ["1990-02-30 n'est pas une date qui existe."]
    arabic = _enrol(signed_in, "ar", doc2_type="passport", doc2_number="P7654321").get_data(as_text=True)
    assert _errors_of(arabic, "doc2_type") == ["وثيقة واحدة فقط من نوع جواز سفر لكل ناخب."]
    assert "consular card" not in signed_in.get(f"{ENROL}?lang=fr").get_data(as_text=True)
    assert "carte consulaire" in signed_in.get(f"{ENROL}?lang=fr").get_data(as_text=True)


@pytest.mark.parametrize(
    "message",
    [
        "Election GE2027 is in its frozen phase; this is done only in the registration open or"
        " exhibition phase.",
        "Election GE2027 is in its registration open phase; it can only move to the exhibition phase next.",
        "The list cannot be frozen yet: 2 objection(s) or duplicate review(s) are still open;"
        " decide them first.",
        "'visa' is not accepted; use passport, national_id, consular_card.",
        "This document is registered already, to K7M-4QX-9T2.",
        "Objection 3 is filed; notify the voter first.",
        "Give a reason.",
    ],
)
def test_every_common_service_message_has_its_translation(app: Flask, message: str) -> None:
    with app.test_request_context("/?lang=fr"):
        translated = translate(message)
    assert translated != message


# --- the import page --------------------------------------------------------------------------


def test_the_import_page_shows_the_columns_and_offers_a_template(
    signed_in: FlaskClient, db_session: Session, settings: Settings, election: Election, officer: Actor
) -> None:
    page = signed_in.get("/elections/GE2027/import").get_data(as_text=True)
    assert "docs/voter-import.md" not in page
    assert 'href="/elections/GE2027/import/template.csv"' in page
    for column in ("given_name", "date_of_birth", "doc1_number", "station"):
        assert f'<code class="code" dir="ltr">{column}</code>' in page
    template = signed_in.get("/elections/GE2027/import/template.csv")
    assert template.status_code == 200
    assert template.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(template.get_data(as_text=True))))
    template.close()
    assert rows[0][:5] == ["given_name", "family_name", "date_of_birth", "constituency", "host_country"]
    # The template's example row is a voter the import takes.
    checked = imports.import_voters(
        db_session,
        settings,
        officer,
        election,
        io.BytesIO(template.get_data()),
        filename="template.csv",
        dry_run=True,
    )
    assert (checked.rows, checked.rejected_rows) == (1, 0)


def test_reason_fields_say_they_go_into_the_public_log(
    signed_in: FlaskClient, db_session: Session, settings: Settings, election: Election, officer: Actor
) -> None:
    v = service.enrol(db_session, settings, officer, election, voter())
    service.enrol(
        db_session,
        settings,
        officer,
        election,
        voter(given_name="Amina", documents=[{"type": "national_id", "number": "ID998877"}]),
    )
    db_session.commit()
    hint = "Published as written in the public audit log"
    voter_page = signed_in.get(f"/elections/GE2027/voters/{v.reg_no}").get_data(as_text=True)
    assert voter_page.count(hint) == 2  # transfer and cancel
    assert 'aria-describedby="change-reason-hint"' in voter_page
    assert hint in signed_in.get("/elections/GE2027/reviews").get_data(as_text=True)


def test_an_error_page_speaks_the_readers_language(
    client: FlaskClient, db_session: Session, election: Election, make_user
) -> None:
    make_user("chief", "admin")
    assert login(client, "chief").status_code == 302
    token = csrf_token(client, "/elections/GE2027")
    refused = client.post("/elections/GE2027/advance/frozen?lang=fr", data={"csrf_token": token})
    assert refused.status_code == 409
    assert (
        "L&#39;élection GE2027 est en phase « inscriptions ouvertes » ; elle ne peut passer qu&#39;à la phase"
        " « affichage des listes »." in refused.get_data(as_text=True)
    )
    api = client.post("/api/v1/elections/GE2027/voters?lang=fr", json={})
    assert "Send an API token" in api.get_json()["error"]  # the API keeps its English
