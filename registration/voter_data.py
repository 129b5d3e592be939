"""A voter's data as submitted (form, API, import row), checked by the election's rules.

One function, `validate`, serves enrolment in the UI, the API and bulk import, so the
rules cannot drift apart. It reports every problem at once, by field name.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping, Set
from dataclasses import dataclass
from typing import Any

from ocv.errors import ValidationError
from ocv.text import TextError, clean
from registration.models import Election
from registration.privacy import normalize_number

PHONE = re.compile(r"^\+?[0-9 ()-]{6,20}$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
SEXES = ("F", "M", "X")
MAX_NAME = 100
OLDEST = 130


@dataclass(frozen=True)
class Document:
    type: str
    number: str


@dataclass(frozen=True)
class VoterData:
    given_name: str
    family_name: str
    date_of_birth: dt.date
    constituency: str
    host_country: str
    documents: tuple[Document, ...]
    father_name: str | None = None
    grandfather_name: str | None = None
    names_original_script: str | None = None
    sex: str | None = None
    phone: str | None = None
    email: str | None = None
    station: str | None = None
    city: str | None = None


def _text(
    raw: Mapping[str, Any], key: str, problems: dict[str, list[str]], required: bool, limit: int = MAX_NAME
) -> str | None:
    value = raw.get(key)
    if isinstance(value, str):
        value = " ".join(value.split())
        if value:
            try:
                return clean(value, limit)
            except TextError as error:
                problems.setdefault(key, []).append(str(error))
                return None
    elif value is not None:
        problems.setdefault(key, []).append("Must be text.")
        return None
    if required:
        problems.setdefault(key, []).append("This is required.")
    return None


ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _date(value: Any, problems: dict[str, list[str]]) -> dt.date | None:
    """A date of birth: written YYYY-MM-DD, and a day the calendar has (1990-02-30 is not)."""
    if isinstance(value, dt.date):
        return value
    text = str(value).strip()
    if not ISO_DATE.match(text):
        problems.setdefault("date_of_birth", []).append("Use the form YYYY-MM-DD.")
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        problems.setdefault("date_of_birth", []).append(f"{text} is not a real date.")
        return None


def age_on(born: dt.date, day: dt.date) -> int:
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def validate(
    election: Election,
    raw: Mapping[str, Any],
    constituencies: Set[str],
    countries: Set[str],
    stations: Mapping[str, str],
    cities: Mapping[tuple[str, str], str] | None = None,
) -> VoterData:
    """Check `raw` against the election; `stations` maps station code → country code, and
    `cities` maps the (country code, case-folded city) of every station to the city's name: a voter placed by
    city must live in one of them, else the officer names the station (never a silent guess)."""
    problems: dict[str, list[str]] = {}
    given = _text(raw, "given_name", problems, True)
    family = _text(raw, "family_name", problems, True)
    born = None
    dob = raw.get("date_of_birth")
    if not dob:
        problems.setdefault("date_of_birth", []).append("This is required.")
    else:
        born = _date(dob, problems)
    if born is not None:
        age = age_on(born, election.polling_day)
        if age < election.minimum_age:
            problems.setdefault("date_of_birth", []).append(
                f"Must be at least {election.minimum_age} on polling day ({election.polling_day})."
            )
        elif age > OLDEST:
            problems.setdefault("date_of_birth", []).append("This date of birth is not plausible.")
    constituency = (_text(raw, "constituency", problems, True, 32) or "").upper()
    if constituency and constituency not in constituencies:
        problems.setdefault("constituency", []).append(
            f"{constituency!r} is not a constituency of {election.code}."
        )
    country = (_text(raw, "host_country", problems, True, 2) or "").upper()
    if country and country not in countries:
        problems.setdefault("host_country", []).append(
            f"{country!r} is not a host country of {election.code}."
        )
    station = _text(raw, "station", problems, False, 32)
    station = station.upper() if station else None
    if station and station not in stations:
        problems.setdefault("station", []).append(f"{station!r} is not a station of {election.code}.")
    elif station and country and stations[station] != country:
        problems.setdefault("station", []).append(f"Station {station} is not in {country}.")
    at: dict[int, list[str]] = {}
    documents = _documents(election, raw.get("documents"), problems, at)
    sex = _text(raw, "sex", problems, False, 1)
    if sex and sex.upper() not in SEXES:
        problems.setdefault("sex", []).append("Use F, M or X.")
    phone = _text(raw, "phone", problems, False, 32)
    if phone and not PHONE.match(phone):
        problems.setdefault("phone", []).append("Not a phone number.")
    email = _text(raw, "email", problems, False, 200)
    if email and not EMAIL.match(email):
        problems.setdefault("email", []).append("Not an e-mail address.")
    # Checked before any problem is raised, so that every field is reported at once.
    father = _text(raw, "father_name", problems, False)
    grandfather = _text(raw, "grandfather_name", problems, False)
    original = _text(raw, "names_original_script", problems, False, 300)
    city = _text(raw, "city", problems, False)
    if (
        cities is not None
        and city
        and not station
        and country in countries
        and (country, city.casefold()) not in cities
    ):
        known = sorted({name for (k, _), name in cities.items() if k == country})
        problems.setdefault("city", []).append(
            f"No station is in {city} ({country}). Choose the station, or leave the city empty"
            f" to place the voter at the least busy station in {country}"
            + (f" (stations are in: {', '.join(known)})." if known else ".")
        )
    if problems:
        raise VoterDataError("The voter's data has problems.", problems, at)
    assert given is not None
    assert family is not None
    assert born is not None
    return VoterData(
        given_name=given,
        family_name=family,
        date_of_birth=born,
        constituency=constituency,
        host_country=country,
        documents=documents,
        father_name=father,
        grandfather_name=grandfather,
        names_original_script=original,
        sex=sex.upper() if sex else None,
        phone=phone,
        email=email,
        station=station,
        city=city,
    )


class VoterDataError(ValidationError):
    """The voter's problems by field; `documents_at` places those of "documents" by the
    position of the document in the list sent (0 for "none given"), for a form's slots."""

    def __init__(
        self, message: str, fields: dict[str, list[str]], documents_at: dict[int, list[str]]
    ) -> None:
        super().__init__(message, fields)
        self.documents_at = documents_at


def _documents(
    election: Election, value: Any, problems: dict[str, list[str]], at: dict[int, list[str]]
) -> tuple[Document, ...]:
    def problem(position: int, message: str) -> None:
        problems.setdefault("documents", []).append(message)
        at.setdefault(position, []).append(message)

    if value in (None, ""):
        value = []
    if not isinstance(value, list | tuple):
        problem(0, "Must be a list of {type, number}.")
        return ()
    documents: list[Document] = []
    for position, item in enumerate(value):
        if (
            not isinstance(item, Mapping)
            or not isinstance(item.get("type"), str)
            or not isinstance(item.get("number"), str)
        ):
            problem(position, "Each document needs a type and a number.")
            continue
        kind, number = item["type"].strip().lower(), normalize_number(item["number"])
        if kind not in election.accepted_documents:
            accepted = ", ".join(election.accepted_documents)
            problem(position, f"{kind!r} is not accepted; use {accepted}.")
        elif not 4 <= len(number) <= 32:
            problem(position, f"The {kind} number must have 4 to 32 letters or digits.")
        elif any(d.type == kind for d in documents):
            problem(position, f"Only one {kind} per voter.")
        else:
            documents.append(Document(kind, number))
    if len(documents) < election.documents_required and "documents" not in problems:
        problem(0, f"{election.documents_required} accepted document(s) required.")
    return tuple(documents)
