"""Election setup: load the definition, guard the lifecycle, describe elections."""

from __future__ import annotations

import datetime as dt
import hashlib
import operator
from collections.abc import Sequence
from typing import Any

import rfc8785
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from ocv.acting import Actor, authorize, record
from ocv.auth.permissions import Permission
from ocv.db import utcnow
from ocv.errors import NotFound
from registration import election_file
from registration import events as E
from registration.errors import ElectionFileError, WrongPhase
from registration.models import (
    BallotStyle,
    Constituency,
    Contest,
    Election,
    ElectionStatus,
    HostCountry,
    Station,
)

# Each state may move only to the next; `frozen` is final.
NEXT_STATUS = {
    ElectionStatus.SETUP: ElectionStatus.REGISTRATION_OPEN,
    ElectionStatus.REGISTRATION_OPEN: ElectionStatus.EXHIBITION,
    ElectionStatus.EXHIBITION: ElectionStatus.FROZEN,
}


def require_status(election: Election, *allowed: ElectionStatus) -> None:
    if election.status_enum not in allowed:
        wanted = " or ".join(s.value.replace("_", " ") for s in allowed)
        raise WrongPhase(
            f"Election {election.code} is in {election.status.replace('_', ' ')}; this needs {wanted}."
        )


_ELECTION_BY_CODE = select(Election).where(Election.code == bindparam("code"))  # on every request


def get_election(session: Session, code: str) -> Election:
    election = session.scalar(_ELECTION_BY_CODE, {"code": code.strip().upper()})
    if election is None:
        raise NotFound(f"No election {code!r}.")
    return election


def list_elections(session: Session) -> Sequence[Election]:
    return session.scalars(select(Election).order_by(Election.polling_day.desc())).all()


def get_station(session: Session, election: Election, code: str) -> Station:
    station = session.scalar(
        select(Station).where(Station.election_id == election.id, Station.code == code.strip().upper())
    )
    if station is None:
        raise NotFound(f"No station {code!r} in {election.code}.")
    return station


def load_election(session: Session, actor: Actor, data: Any) -> Election:
    """Create an election from its definition, or replace one still in setup."""
    authorize(actor, Permission.MANAGE_ELECTION)
    spec = election_file.parse(data)
    election = session.scalar(select(Election).where(Election.code == spec["code"]))
    if election is not None:
        require_status(election, ElectionStatus.SETUP)
    else:
        election = Election(code=spec["code"])
        session.add(election)
    _apply(session, election, spec)
    record(
        session,
        E.ELECTION_LOADED,
        actor,
        {"election": election.code},
        {
            "code": election.code,
            "definition_sha256": _digest(spec),
            "constituencies": len(spec["constituencies"]),
            "contests": len(spec["contests"]),
            "host_countries": len(spec["host_countries"]),
            "stations": len(spec["stations"]),
        },
    )
    return election


def check_editable(actor: Actor, election: Election) -> None:
    """Only an administrator edits a definition, and only before registration opens."""
    authorize(actor, Permission.MANAGE_ELECTION)
    require_status(election, ElectionStatus.SETUP)


def edit_election(session: Session, actor: Actor, election: Election, data: Any) -> list[str]:
    """Replace a setup-phase election's definition with an edited one (same checks as a
    load); return the members that changed, logged with the digests before and after."""
    check_editable(actor, election)
    spec = election_file.parse(data)
    if spec["code"] != election.code:
        raise ElectionFileError(
            "The election file has 1 problem(s).",
            {"code": [f"must stay {election.code!r}: load a new file for another election"]},
        )
    before = election_file.parse(definition_of(election))
    changed = [member for key, member in MEMBERS.items() if before[key] != spec[key]]
    if not changed:
        return []
    _apply(session, election, spec)
    record(
        session,
        E.ELECTION_EDITED,
        actor,
        {"election": election.code},
        {
            "code": election.code,
            "changed": changed,
            "previous_sha256": _digest(before),
            "definition_sha256": _digest(spec),
        },
    )
    return changed


# The parsed definition's keys, by the member of the file each comes from.
MEMBERS = {
    "name": "name",
    "home_country": "home_country",
    "polling_day": "polling_day",
    "voting_rule": "voting_rule",
    "counting": "counting",
    "minimum_age": "eligibility.minimum_age",
    "accepted_documents": "eligibility.documents.accepted",
    "documents_required": "eligibility.documents.required",
    "constituencies": "constituencies",
    "contests": "contests",
    "ballot_styles": "ballot_styles",
    "host_countries": "host_countries",
    "stations": "stations",
}


def _apply(session: Session, election: Election, spec: dict[str, Any]) -> None:
    """Write a parsed definition over the election and its parts."""
    if election.id is not None:
        _clear(session, election)
    election.name = spec["name"]
    election.home_country = spec["home_country"]
    election.polling_day = spec["polling_day"]
    election.voting_rule = spec["voting_rule"]
    election.counting = spec["counting"]
    election.minimum_age = spec["minimum_age"]
    election.accepted_documents = spec["accepted_documents"]
    election.documents_required = spec["documents_required"]
    election.tally_settings = spec["tally"]
    session.flush()  # ids for the children below

    styles = {}
    for item in spec["ballot_styles"]:
        styles[item["code"]] = style = BallotStyle(
            election_id=election.id, code=item["code"], contest_codes=item["contests"]
        )
        session.add(style)
    session.flush()
    style_of = {c: styles[s["code"]] for s in spec["ballot_styles"] for c in s["constituencies"]}
    for item in spec["constituencies"]:
        session.add(Constituency(election_id=election.id, ballot_style_id=style_of[item["code"]].id, **item))
    for item in spec["contests"]:
        session.add(Contest(election_id=election.id, **item))
    countries = {}
    for item in spec["host_countries"]:
        countries[item["code"]] = country = HostCountry(election_id=election.id, **item)
        session.add(country)
    session.flush()
    for item in spec["stations"]:
        fields = {k: v for k, v in item.items() if k != "country"}
        session.add(Station(election_id=election.id, country_id=countries[item["country"]].id, **fields))
    session.flush()
    # The collections loaded before still hold the parts just replaced.
    session.expire(election, ["constituencies", "contests", "ballot_styles", "countries", "stations"])


# Parts in the order they were loaded.
BY_ID = operator.attrgetter("id")


def definition_of(election: Election) -> dict[str, Any]:
    """The election as the document of docs/election-file.md: what load_election reads.
    Parts keep the order of the file they came from, so a round trip keeps the digest."""
    constituencies = sorted(election.constituencies, key=BY_ID)
    return {
        "code": election.code,
        "name": election.name,
        "home_country": election.home_country,
        "polling_day": election.polling_day.isoformat(),
        "eligibility": {
            "minimum_age": election.minimum_age,
            "documents": {
                "accepted": list(election.accepted_documents),
                "required": election.documents_required,
            },
        },
        "voting_rule": election.voting_rule,
        "counting": election.counting,
        "tally": {**election_file.TALLY_DEFAULTS, **(election.tally_settings or {})},
        "constituencies": [{"code": c.code, "name": c.name, "kind": c.kind} for c in constituencies],
        "contests": [
            {"code": c.code, "name": c.name, "votes_allowed": c.votes_allowed, "choices": list(c.choices)}
            for c in sorted(election.contests, key=BY_ID)
        ],
        "ballot_styles": [
            {
                "code": s.code,
                "constituencies": [c.code for c in constituencies if c.ballot_style_id == s.id],
                "contests": list(s.contest_codes),
            }
            for s in sorted(election.ballot_styles, key=BY_ID)
        ],
        "host_countries": [
            {"code": c.code, "name": c.name, "polling_days": [dict(day) for day in c.polling_days]}
            for c in sorted(election.countries, key=BY_ID)
        ],
        "stations": [_station(s) for s in sorted(election.stations, key=BY_ID)],
    }


def _digest(spec: dict[str, Any]) -> str:
    return hashlib.sha256(rfc8785.dumps(_jsonable(spec))).hexdigest()


def _jsonable(spec: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in spec.items()}


def _clear(session: Session, election: Election) -> None:
    """Drop a setup-phase election's parts before reloading (no voter exists yet)."""
    for model in (Station, HostCountry, Contest, Constituency, BallotStyle):
        for row in session.scalars(select(model).where(model.election_id == election.id)):
            session.delete(row)
    session.flush()


def advance(session: Session, actor: Actor, election: Election, to: str) -> Election:
    """Move the election to its next phase: registration open → exhibition → frozen."""
    authorize(actor, Permission.MANAGE_ELECTION)
    current = election.status_enum
    target = ElectionStatus(to) if to in ElectionStatus.__members__.values() else None
    if target is None or NEXT_STATUS.get(current) != target:
        nxt = NEXT_STATUS.get(current)
        raise WrongPhase(
            f"Election {election.code} is in {current.value}; it can only move to "
            f"{nxt.value if nxt else 'nothing: it is final'}."
        )
    now = utcnow()
    if target is ElectionStatus.REGISTRATION_OPEN:
        election.registration_opened_at = now
    elif target is ElectionStatus.EXHIBITION:
        election.exhibition_started_at = now
    else:
        election.frozen_at = now
    election.status = target.value
    record(
        session,
        E.ELECTION_STATUS_CHANGED,
        actor,
        {"election": election.code},
        {"code": election.code, "from": current.value, "to": target.value},
    )
    return election


def describe(election: Election) -> dict[str, Any]:
    """The public description served by GET /api/v1/elections/{code}."""
    return {
        "code": election.code,
        "name": election.name,
        "status": election.status,
        "home_country": election.home_country,
        "polling_day": election.polling_day.isoformat(),
        "voting_rule": election.voting_rule,
        "counting": election.counting,
        "eligibility": {
            "minimum_age": election.minimum_age,
            "documents": {"accepted": election.accepted_documents, "required": election.documents_required},
        },
        "constituencies": [
            {"code": c.code, "name": c.name, "kind": c.kind, "ballot_style": c.ballot_style.code}
            for c in election.constituencies
        ],
        "contests": [
            {"code": c.code, "name": c.name, "votes_allowed": c.votes_allowed, "choices": c.choices}
            for c in election.contests
        ],
        "ballot_styles": [{"code": s.code, "contests": s.contest_codes} for s in election.ballot_styles],
        "host_countries": [
            {"code": c.code, "name": c.name, "polling_days": c.polling_days} for c in election.countries
        ],
        "stations": [{**_station(s), "assigned": s.assigned} for s in election.stations],
    }


def _station(station: Station) -> dict[str, Any]:
    """A station as the election file defines it."""
    return {
        "code": station.code,
        "name": station.name,
        "country": station.country.code,
        "city": station.city,
        "address": station.address,
        "time_zone": station.time_zone,
        "capacity": station.capacity,
    }
