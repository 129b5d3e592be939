"""Polling's refusals in the reader's language: each kind of error an official meets on
polling day (already voted, not on the list, the station not polling, accounts that do not
balance, tally sheet entries that differ, a wrong password at signing) as the page shows it
in French and Arabic, through the test client with CSRF on; and the API's answer to the
same refusal, whose JSON shape and English stay as documented."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from polling import messages
from registration import regno
from registration import service as registry
from tests.conftest import csrf_token, login
from tests.integration.test_polling import BALLOTS, KEY_PASSWORD, STATION, day  # noqa: F401 (the fixture)

LRI, FSI, PDI = "\u2066", "\u2068", "\u2069"
OPENING = {f"style_{s}": n for s, n in BALLOTS.items()} | {"seals": "S-1\nS-2", "officials": "Petra Oster"}
LANGUAGES = ("fr", "ar")


def _ltr(text: str) -> str:
    """A code, number or time as an Arabic sentence isolates it."""
    return f"{LRI}{text}{PDI}"


def _shown(reg_no: str) -> str:
    return regno.format(reg_no)


def _page(client: FlaskClient, path: str, lang: str, data: dict[str, object] | None = None):  # type: ignore[no-untyped-def]
    """A form of the station's page sent in `lang` (None: the page itself, read)."""
    if data is None:
        return client.get(f"/stations/{STATION}{path}?lang={lang}")
    data = {"csrf_token": csrf_token(client, f"/stations/{STATION}"), **data}
    return client.post(f"/stations/{STATION}{path}?lang={lang}", data=data)


def _flash(response) -> str:  # type: ignore[no-untyped-def]
    page = response.get_data(as_text=True)
    found = re.findall(r'<p class="flash error" role="alert">(.*?)</p>', page, re.DOTALL)
    assert found, page[:2000]
    return html.unescape(" ".join(found))


def _api(client: FlaskClient, path: str, headers: dict[str, str], body: object):  # type: ignore[no-untyped-def]
    return client.post(f"/api/v1/stations/{STATION}{path}?lang=fr", json=body, headers=headers)


def _api_open(client: FlaskClient, people: dict[str, Any]) -> None:
    body = {"ballots": BALLOTS, "seals": ["S-001"], "officials": ["Petra Oster"]}
    assert _api(client, "/open", people["po"], body).status_code == 200


def _api_close(client: FlaskClient, people: dict[str, Any], unused: dict[str, int]) -> None:
    assert _api(client, "/close", people["po"], {"unused": unused, "seals": ["S-101"]}).status_code == 200


# --- already voted, not on the list, the station not polling ------------------------------


def test_already_voted_is_said_with_the_station_and_time_in_french_and_arabic(
    client: FlaskClient,
    day,  # noqa: F811
) -> None:  # type: ignore[no-untyped-def]
    amira = day["voters"][0]
    login(client, "po")
    assert _page(client, "/open", "en", OPENING).status_code == 303
    assert _page(client, "/checkin", "en", {"reg_no": amira}).status_code == 303
    french = _page(client, "/checkin", "fr", {"reg_no": amira})
    assert french.status_code == 409
    said = _flash(french)
    assert said.startswith(f"{_shown(amira)} a déjà voté à DE-BER-01 le ")
    assert said.endswith(" : pas de second bulletin.")
    assert re.search(r"le \d{4}-\d\d-\d\d \d\d:\d\d CES?T", said)  # the station's clock
    arabic = _flash(_page(client, "/checkin", "ar", {"reg_no": amira}))
    assert arabic.startswith(f"{_ltr(_shown(amira))} صوّت من قبل في {_ltr('DE-BER-01')} في {LRI}")
    assert arabic.endswith(f"{PDI}: لا ورقة اقتراع ثانية.")
    assert "already" not in arabic
    # The API answers as documented: 409 {"error", "station", "time"}, in English.
    api = _api(client, "/checkins", day["clerk"], {"reg_no": amira})
    assert api.status_code == 409
    assert set(api.json) == {"error", "station", "time"}
    assert api.json["error"] == f"{_shown(amira)} already voted at DE-BER-01 at {api.json['time']}."
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC", api.json["time"])


def test_a_number_not_on_the_list_and_a_voter_of_another_station_are_named_in_the_readers_language(
    client: FlaskClient,
    day,  # noqa: F811
) -> None:  # type: ignore[no-untyped-def]
    claire = day["voters"][3]  # registered in Paris
    stranger = next(n for n in (regno.generate() for _ in range(50)) if n not in day["voters"])
    login(client, "po")
    _page(client, "/open", "en", OPENING)
    french = _page(client, "/checkin", "fr", {"reg_no": stranger})
    assert french.status_code == 404
    assert _flash(french) == f"Aucun électeur {_shown(stranger)} sur la liste de GE2027."
    arabic = _page(client, "/checkin", "ar", {"reg_no": stranger})
    assert _flash(arabic) == f"لا يوجد الناخب {_ltr(_shown(stranger))} في قائمة {_ltr('GE2027')}."
    elsewhere = _page(client, "/checkin", "fr", {"reg_no": claire})
    assert elsewhere.status_code == 422
    assert _flash(elsewhere) == f"{_shown(claire)} vote à FR-PAR-01, pas ici. Inscrit à FR-PAR-01."
    api = _api(client, "/checkins", day["clerk"], {"reg_no": stranger})
    assert api.status_code == 404
    assert api.json == {"error": f"No voter {_shown(stranger)} on the list of GE2027."}
    api = _api(client, "/checkins", day["clerk"], {"reg_no": claire})
    assert api.status_code == 422
    assert api.json == {
        "error": f"{_shown(claire)} votes at FR-PAR-01, not here.",
        "fields": {"reg_no": ["Registered at FR-PAR-01."]},
    }


def test_a_station_that_is_not_polling_says_so_in_the_readers_language(
    client: FlaskClient,
    day,  # noqa: F811
) -> None:  # type: ignore[no-untyped-def]
    amira = day["voters"][0]
    login(client, "po")
    french = _page(client, "/checkin", "fr", {"reg_no": amira})
    assert french.status_code == 409
    assert _flash(french) == "Impossible pour l'instant : le bureau est en préparation."
    assert _flash(_page(client, "/checkin", "ar", {"reg_no": amira})) == (
        "لا يمكن القيام بهذا الآن: حالة المركز قيد الإعداد."
    )
    # The protocol before it is submitted: the error page, for anyone.
    client.post("/logout", data={"csrf_token": csrf_token(client, f"/stations/{STATION}")})
    hidden = _page(client, "/protocol", "fr")
    assert hidden.status_code == 409
    assert "Le procès-verbal de DE-BER-01 est public une fois transmis." in html.unescape(
        hidden.get_data(as_text=True)
    )
    hidden = _page(client, "/protocol", "ar")
    assert f"يصبح محضر {_ltr('DE-BER-01')} علنيًا بعد تسليمه." in hidden.get_data(as_text=True)
    api = _api(client, "/checkins", day["clerk"], {"reg_no": amira})
    assert api.status_code == 409
    assert api.json == {"error": "Station DE-BER-01 is setup; this needs it polling."}


# --- ballot papers: close-out, reopening, transfers ------------------------------------------


def test_the_mornings_count_and_a_transfer_beyond_the_stock_are_refused_in_the_readers_language(
    client: FlaskClient,
    day,  # noqa: F811
) -> None:  # type: ignore[no-untyped-def]
    login(client, "po")
    _page(client, "/open", "en", OPENING)
    night = {f"style_{s}": n for s, n in BALLOTS.items()} | {"seals": "S-3"}
    assert _page(client, "/pause", "en", night).status_code == 303
    morning = OPENING | {"style_BS-EU": 19}
    french = _page(client, "/open", "fr", morning)
    assert french.status_code == 422
    assert _flash(french) == (
        "Le compte de ce matin diffère de celui d'hier soir : expliquez pourquoi."
        " BS-EU : 20 hier soir, 19 maintenant"
    )
    arabic = _flash(_page(client, "/open", "ar", morning))
    assert arabic == (
        "عدّ هذا الصباح يختلف عن عدّ الليلة الماضية: اشرح السبب."
        f" {_ltr('BS-EU')}: {_ltr('20')} الليلة الماضية، و{_ltr('19')} الآن"
    )
    assert _page(client, "/open", "en", OPENING).status_code == 303
    transfer = {
        "move-kind": "transferred",
        "move-ballot_style": "BS-ME",
        "move-count": 25,
        "move-reason": "x",
    }
    french = _page(client, "/move", "fr", transfer)
    assert french.status_code == 422
    assert _flash(french) == "Le bureau détient moins de 25 bulletins du modèle BS-ME. Plus que le stock."
    arabic = _flash(_page(client, "/move", "ar", transfer))
    assert (
        arabic == f"لدى المركز أقل من {_ltr('25')} ورقة اقتراع من النموذج {_ltr('BS-ME')}. أكثر من المخزون."
    )
    api = _api(
        client, "/transfers", day["po"], {"ballot_style": "BS-ME", "count": 25, "reason": "to Hamburg"}
    )
    assert api.status_code == 422
    assert api.json == {
        "error": "The station holds fewer than 25 papers of BS-ME.",
        "fields": {"count": ["More than held."]},
    }


# --- the count and the protocol -------------------------------------------------------------

CVRS = [
    {"ballot_style": "BS-EU", "votes": {"PRES": ["Amira Haddad"], "REF-1": ["Yes"]}},
    {"ballot_style": "BS-EU", "votes": {"PRES": ["Jonas Berg"], "REF-1": ["No"]}},
]


def test_accounts_that_do_not_balance_and_a_wrong_password_are_said_in_the_readers_language(
    client: FlaskClient,
    day,  # noqa: F811
) -> None:  # type: ignore[no-untyped-def]
    _api_open(client, day)
    for reg_no in day["voters"][:3]:
        assert _api(client, "/checkins", day["clerk"], {"reg_no": reg_no}).status_code == 201
    _api_close(client, day, {"BS-EU": 17, "BS-ME": 5, "BS-HOME": 5})
    assert _api(client, "/cvrs", day["clerk"], {"cvrs": CVRS}).status_code == 201  # one short
    assert _api(client, "/count/finish", day["po"], {}).status_code == 200
    login(client, "po")
    french = _page(client, "/sign", "fr", {"password": KEY_PASSWORD})
    assert french.status_code == 422
    said = _flash(french)
    assert said.startswith("Un contrôle n'est pas vérifié : expliquez-le par écrit pour signer. ")
    assert "ballots in the box" not in said
    arabic = _flash(_page(client, "/sign", "ar", {"password": KEY_PASSWORD}))
    assert arabic.startswith("أحد التحققات لا يستقيم: اشرحه كتابةً لتتمكن من التوقيع. ")
    assert "check-ins" not in arabic
    wrong = _page(client, "/sign", "fr", {"password": "not my password", "explanation": "One left."})
    assert wrong.status_code == 401
    assert _flash(wrong) == "Mot de passe erroné : la clé reste scellée."
    wrong = _page(client, "/sign", "ar", {"password": "not my password", "explanation": "One left."})
    assert _flash(wrong) == "كلمة المرور خاطئة: يبقى المفتاح مختومًا."
    api = _api(client, "/protocol/sign", day["po"], {"password": KEY_PASSWORD})
    assert api.status_code == 422
    assert set(api.json) == {"error", "fields"}
    assert api.json["error"] == "A check does not hold: explain it in writing to sign."
    assert "ballots in the box = check-ins" in api.json["fields"]["explanation"]
    api = _api(client, "/protocol/sign", day["po"], {"password": "not it", "explanation": "One left."})
    assert api.status_code == 401
    assert api.json == {"error": "Wrong password: the key stays sealed."}


def _sheet(pres: tuple[int, int, int, int]) -> dict[str, object]:
    contests = {"PRES": pres, "REF-1": (1, 0), "PARL-EU": (1, 0, 0, 0, 0), "PARL-ME": (0, 0, 0)}
    return {
        "ballots_in_box": 1,
        "contests": {
            code: {"choices": dict(zip(CHOICES[code], figures, strict=True)), "blank": 0, "invalid": 0}
            for code, figures in contests.items()
        },
    }


CHOICES: dict[str, list[str]] = {}


def test_tally_sheet_entries_that_differ_stop_the_count_in_the_readers_language(
    client: FlaskClient,
    day,  # noqa: F811
    db_session: Session,
) -> None:  # type: ignore[no-untyped-def]
    election = registry.get_election(db_session, "GE2027")
    election.counting = "tally_sheet"
    CHOICES.update({c.code: list(c.choices) for c in election.contests})
    db_session.commit()
    _api_open(client, day)
    assert _api(client, "/checkins", day["clerk"], {"reg_no": day["voters"][0]}).status_code == 201
    _api_close(client, day, {"BS-EU": 19, "BS-ME": 5, "BS-HOME": 5})
    login(client, "po")
    assert _api(client, "/tally-sheet", day["po"], _sheet((1, 0, 0, 0))).status_code == 201
    one = _page(client, "/finish", "fr", {})
    assert one.status_code == 422
    assert _flash(one) == (
        "Le dépouillement n'est pas prêt : 1 des 2 saisies par des assesseurs différents est faite."
    )
    assert _api(client, "/tally-sheet", day["clerk"], _sheet((0, 1, 0, 0))).status_code == 201
    french = _page(client, "/finish", "fr", {})
    assert french.status_code == 422
    assert _flash(french) == (
        "Le dépouillement n'est pas prêt : Les saisies diffèrent : chaque assesseur vérifie et"
        " saisit à nouveau le compte."
    )
    assert _flash(_page(client, "/finish", "ar", {})) == (
        "العدّ غير جاهز: الإدخالان مختلفان: يراجع كل كاتب العدّ ويُدخله من جديد."
    )
    protocol = _page(client, "/protocol", "fr").get_data(as_text=True)
    assert "Les saisies diffèrent : chaque assesseur" in html.unescape(protocol)
    api = _api(client, "/count/finish", day["po"], {})
    assert api.status_code == 422
    assert api.json == {
        "error": "The count is not ready: The entries differ: each clerk checks and enters the count again."
    }


# --- the catalogs ------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_polling_message_has_its_translation(app: Flask, lang: str) -> None:
    with app.test_request_context(f"/?lang={lang}"):
        from flask_babel import gettext

        missing = [t for t in messages.TEMPLATES if gettext(t) == t]
    assert missing == []


@pytest.mark.parametrize(
    ("message", "french", "arabic"),
    [
        (
            "Give 1 to 10,000 ballot papers.",
            "Indiquez de 1 à 10\u202f000 bulletins.",
            f"اذكر من 1 إلى {_ltr('10,000')} ورقة اقتراع.",
        ),
        (
            "Station DE-BER-01 is paused; this needs it setup or polling.",
            "Le bureau DE-BER-01 est fermé pour la nuit ; il doit être en préparation / ouvert au vote.",
            f"حالة المركز {_ltr('DE-BER-01')} الآن: مغلق حتى الصباح؛"
            " ويلزم لهذا أن تكون حالته: قيد الإعداد / مفتوح للتصويت.",
        ),
        (
            "cvrs[0]: PRES: 3 marks for 2 allowed: record it as invalid.",
            "Bulletin 0 : PRES : 3 choix cochés pour 2 permis : enregistrez-le comme nul.",
            f"ورقة الاقتراع {_ltr('0')}: {_ltr('PRES')}: {_ltr('3')} إشارات"
            f" والمسموح {_ltr('2')}: سجّله باطلًا.",
        ),
        (
            "pd-po holds no signing key as presiding officer: ask an administrator.",
            "pd-po n'a pas de clé de signature en tant que président du bureau de vote :"
            " demandez à un administrateur.",
            None,
        ),
    ],
)
def test_numbers_states_and_nested_messages_are_put_in_the_readers_language(
    app: Flask, message: str, french: str, arabic: str | None
) -> None:
    from ocv.i18n import translate

    with app.test_request_context("/?lang=fr"):
        assert translate(message) == french
    with app.test_request_context("/?lang=ar"):
        shown = translate(message)
        assert shown != message
        if arabic is not None:
            assert shown == arabic


def test_the_arabic_catalog_isolates_codes_numbers_and_times(app: Flask) -> None:
    """Each code, number or time an Arabic polling message carries keeps its own direction."""
    with app.test_request_context("/?lang=ar"):
        from flask_babel import gettext

        for template in messages.TEMPLATES:
            shown = gettext(template)
            for name in re.findall(r"%\((\w+)\)s", template):
                if name in {"state", "wanted", "mode", "member", "role", "why", "problem"}:
                    continue  # words of ours, in Arabic already
                assert re.search(rf"[{LRI}{FSI}]%\({name}\)s{PDI}", shown), (template, shown)
