"""Registration JSON API: elections (public), enrolment (token), the voter self-check (public)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

import msgspec
from flask import Blueprint

from ocv.acting import Actor
from ocv.auth.permissions import Permission
from ocv.db import request_session
from ocv.errors import NotFound, ValidationError
from ocv.openapi import PUBLIC, Answer, column_text, operation
from ocv.security import csrf
from ocv.web import current_settings
from registration import models, self_check_limits, service
from registration.errors import DuplicateDocument, StationFull, WrongPhase
from registration.forms import SelfCheckForm

bp = Blueprint("registration_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # bearer tokens only (ocv.web.api_user)

Code = Annotated[str, column_text(models.Election.code)]
Voter = models.Voter

# --- elections -----------------------------------------------------------------------------


class ElectionSummary(msgspec.Struct):
    code: Code
    name: str
    status: models.ElectionStatus
    polling_day: dt.date


class DocumentRule(msgspec.Struct):
    accepted: list[str]
    required: int


class Eligibility(msgspec.Struct):
    minimum_age: int
    documents: DocumentRule


class Constituency(msgspec.Struct):
    code: str
    name: str
    kind: Literal["home", "overseas"]
    ballot_style: str


class Contest(msgspec.Struct):
    code: str
    name: str
    votes_allowed: int
    choices: list[str]


class BallotStyle(msgspec.Struct):
    code: str
    contests: list[str]


class PollingHours(msgspec.Struct):
    """One polling day, in the host country's local time."""

    date: dt.date
    opens: str
    closes: str


class HostCountry(msgspec.Struct):
    code: str
    name: str
    polling_days: list[PollingHours]


class Station(msgspec.Struct):
    code: str
    name: str
    country: str
    city: str
    address: str
    time_zone: str
    capacity: int
    assigned: Annotated[int, msgspec.Meta(description="Voters assigned to it so far.")]


class ElectionDescription(msgspec.Struct):
    """An election as published: its rules, constituencies, contests and stations."""

    code: Code
    name: str
    status: models.ElectionStatus
    home_country: str
    polling_day: dt.date
    voting_rule: Literal["assigned_station", "any_station"]
    eligibility: Eligibility
    constituencies: list[Constituency]
    contests: list[Contest]
    ballot_styles: list[BallotStyle]
    host_countries: list[HostCountry]
    stations: list[Station]


SUMMARY = {
    "code": "GE2027",
    "name": "General Election 2027",
    "status": "registration_open",
    "polling_day": "2027-04-18",
}
DESCRIPTION = {
    **SUMMARY,
    "home_country": "XD",
    "voting_rule": "assigned_station",
    "eligibility": {"minimum_age": 18, "documents": {"accepted": ["passport", "national_id"], "required": 1}},
    "constituencies": [
        {"code": "OV-EU", "name": "Overseas: Europe", "kind": "overseas", "ballot_style": "BS-EU"}
    ],
    "contests": [{"code": "REF-1", "name": "Referendum", "votes_allowed": 1, "choices": ["Yes", "No"]}],
    "ballot_styles": [{"code": "BS-EU", "contests": ["REF-1"]}],
    "host_countries": [
        {
            "code": "DE",
            "name": "Germany",
            "polling_days": [{"date": "2027-04-17", "opens": "08:00", "closes": "18:00"}],
        }
    ],
    "stations": [
        {
            "code": "DE-BER-01",
            "name": "Embassy, Berlin",
            "country": "DE",
            "city": "Berlin",
            "address": "Unter den Linden 1, 10117 Berlin",
            "time_zone": "Europe/Berlin",
            "capacity": 5000,
            "assigned": 1203,
        }
    ],
}


@bp.get("/elections")
@operation(
    "List the elections", access=PUBLIC, answers={200: Answer(list[ElectionSummary], example=[SUMMARY])}
)
def elections() -> list[ElectionSummary]:
    return [
        ElectionSummary(
            code=e.code, name=e.name, status=models.ElectionStatus(e.status), polling_day=e.polling_day
        )
        for e in service.list_elections(request_session())
    ]


@bp.get("/elections/<code>")
@operation(
    "Describe an election",
    access=PUBLIC,
    answers={200: Answer(ElectionDescription, example=DESCRIPTION)},
    errors=(NotFound,),
)
def election(code: str) -> ElectionDescription:
    described: ElectionDescription = msgspec.convert(
        service.describe(service.get_election(request_session(), code)), ElectionDescription
    )
    return described


# --- enrolment -----------------------------------------------------------------------------


class Document(msgspec.Struct):
    """An identity or eligibility document seen by the officer."""

    type: Annotated[str, msgspec.Meta(max_length=32, description="One of the election's accepted documents.")]
    # Letters and digits are kept (4 to 32 of them); spaces and dashes may separate them.
    number: Annotated[str, msgspec.Meta(max_length=64)]


class NewVoter(msgspec.Struct):
    """A voter to enrol. The election's rules (age on polling day, accepted documents, its
    constituencies, host countries and stations) are checked as well: a 422 names each problem."""

    given_name: Annotated[str, column_text(Voter.given_name)]
    family_name: Annotated[str, column_text(Voter.family_name)]
    date_of_birth: dt.date
    constituency: Annotated[str, column_text(models.Constituency.code)]
    host_country: Annotated[str, column_text(models.HostCountry.code)]
    documents: Annotated[list[Document], msgspec.Meta(max_length=8)] = []
    father_name: Annotated[str, column_text(Voter.father_name)] | None = None
    grandfather_name: Annotated[str, column_text(Voter.grandfather_name)] | None = None
    names_original_script: Annotated[str, column_text(Voter.names_original_script)] | None = None
    sex: Annotated[str, column_text(Voter.sex, description="F, M or X.")] | None = None
    phone: Annotated[str, column_text(Voter.phone)] | None = None
    email: Annotated[str, column_text(Voter.email)] | None = None
    city: Annotated[str, column_text(models.Station.city, description="Places the voter there.")] | None = (
        None
    )
    station: Annotated[str, column_text(models.Station.code, description="Else chosen by city.")] | None = (
        None
    )


class OpenedReview(msgspec.Struct):
    review: Annotated[
        int, msgspec.Meta(description="The review's number (its page: /elections/<code>/reviews).")
    ]
    candidate: Annotated[str, msgspec.Meta(description="The registration number the new voter looks like.")]
    score: Annotated[int, msgspec.Meta(description="Name similarity in percent.")]


class Enrolled(msgspec.Struct):
    reg_no: Annotated[str, msgspec.Meta(description="The new registration number.")]
    status: models.VoterStatus
    station: str
    duplicate_reviews: Annotated[
        list[OpenedReview],
        msgspec.Meta(
            description="Likely duplicates found at enrolment: a review was opened for each, and an"
            " officer decides whether the two entries are the same person. Empty for most voters."
        ),
    ] = []


NEW_VOTER = {
    "given_name": "Amira",
    "family_name": "Haddad",
    "date_of_birth": "1990-05-17",
    "constituency": "OV-EU",
    "host_country": "DE",
    "city": "Berlin",
    "documents": [{"type": "passport", "number": "P1234567"}],
}


@bp.post("/elections/<code>/voters")
@operation(
    "Enrol a voter",
    access=Permission.REGISTER_VOTERS,
    body=NewVoter,
    example=NEW_VOTER,
    answers={
        201: Answer(
            Enrolled,
            description="Enrolled: the registration number and the station.",
            example={
                "reg_no": "AQFWHMX8P",
                "status": "registered",
                "station": "DE-BER-01",
                "duplicate_reviews": [{"review": 12, "candidate": "K7M4QX9T2", "score": 93}],
            },
        )
    },
    errors=(NotFound, ValidationError, DuplicateDocument, StationFull, WrongPhase),
    examples={
        409: {"error": "This document is registered already, to AQF-WHM-X8P.", "duplicate_of": "AQFWHMX8P"}
    },
)
def enrol(code: str, actor: Actor, body: NewVoter) -> Enrolled:
    session = request_session()
    election = service.get_election(session, code)
    voter = service.enrol(session, current_settings(), actor, election, msgspec.to_builtins(body))
    reviews = [
        OpenedReview(review=r.id, candidate=r.candidate.reg_no, score=r.score)
        for r in service.open_reviews_of(session, actor, voter)
    ]
    return Enrolled(
        reg_no=voter.reg_no,
        status=models.VoterStatus(voter.status),
        station=voter.station.code,
        duplicate_reviews=reviews,
    )


# --- voter self-check ----------------------------------------------------------------------


class PollingDay(msgspec.Struct):
    date: dt.date
    opens: str
    closes: str
    time_zone: str
    utc_offset: str
    opens_utc: dt.datetime
    closes_utc: dt.datetime


class VoterStation(msgspec.Struct):
    code: str
    name: str
    address: str
    city: str
    country: str


class Registration(msgspec.Struct):
    """What a voter may learn of their own registration, and nothing else."""

    reg_no: str
    election: str
    status: models.VoterStatus
    station: VoterStation
    polling_days: list[PollingDay]


REGISTRATION = {
    "reg_no": "AQF-WHM-X8P",
    "election": "General Election 2027",
    "status": "registered",
    "station": {
        "code": "DE-BER-01",
        "name": "Embassy, Berlin",
        "address": "Unter den Linden 1, 10117 Berlin",
        "city": "Berlin",
        "country": "Germany",
    },
    "polling_days": [
        {
            "date": "2027-04-17",
            "opens": "08:00",
            "closes": "18:00",
            "time_zone": "Europe/Berlin",
            "utc_offset": "+0200",
            "opens_utc": "2027-04-17T06:00:00Z",
            "closes_utc": "2027-04-17T16:00:00Z",
        }
    ],
}


@bp.get("/public/registration")
@self_check_limits.per_number()
@operation(
    "Check a registration",
    description="By registration number and date of birth; an unknown number and a wrong date "
    "of birth get the same 404.",
    access=PUBLIC,
    query=SelfCheckForm,
    limit=self_check_limits.per_address_limit,
    answers={200: Answer(Registration, example=REGISTRATION)},
    errors=(NotFound, ValidationError),
)
def self_check(query: SelfCheckForm) -> Registration:
    found: Registration = msgspec.convert(
        service.self_check(request_session(), query.reg_no.data or "", query.date_of_birth.data),
        Registration,
    )
    return found
