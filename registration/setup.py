"""Election setup: load the definition, guard the lifecycle, describe elections."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from typing import Any

import rfc8785
from sqlalchemy import select
from sqlalchemy.orm import Session

from ocv import events
from ocv.auth.models import User
from ocv.auth.permissions import Permission, require
from ocv.db import utcnow
from ocv.errors import NotFound
from registration import election_file
from registration.errors import WrongPhase
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


def _actor(user: User | None) -> dict[str, str] | None:
    return user.as_actor() if user else None


def require_status(election: Election, *allowed: ElectionStatus) -> None:
    if election.status_enum not in allowed:
        wanted = " or ".join(s.value.replace("_", " ") for s in allowed)
        raise WrongPhase(
            f"Election {election.code} is in {election.status.replace('_', ' ')}; this needs {wanted}."
        )


def get_election(session: Session, code: str) -> Election:
    election = session.scalar(select(Election).where(Election.code == code.strip().upper()))
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


def load_election(session: Session, actor: User | None, data: Any) -> Election:
    """Create an election from its definition, or replace one still in setup."""
    if actor is not None:
        require(actor, Permission.MANAGE_ELECTION)
    spec = election_file.parse(data)
    existing = session.scalar(select(Election).where(Election.code == spec["code"]))
    if existing is not None:
        require_status(existing, ElectionStatus.SETUP)
        _clear(session, existing)
        election = existing
    else:
        election = Election(code=spec["code"])
        session.add(election)
    election.name = spec["name"]
    election.home_country = spec["home_country"]
    election.polling_day = spec["polling_day"]
    election.voting_rule = spec["voting_rule"]
    election.minimum_age = spec["minimum_age"]
    election.accepted_documents = spec["accepted_documents"]
    election.documents_required = spec["documents_required"]
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
    events.record(
        session,
        "registration.election_loaded",
        _actor(actor),
        {
            "code": election.code,
            "definition_sha256": hashlib.sha256(rfc8785.dumps(_jsonable(spec))).hexdigest(),
            "constituencies": len(spec["constituencies"]),
            "contests": len(spec["contests"]),
            "host_countries": len(spec["host_countries"]),
            "stations": len(spec["stations"]),
        },
        {"election": election.code},
    )
    return election


def _jsonable(spec: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in spec.items()}


def _clear(session: Session, election: Election) -> None:
    """Drop a setup-phase election's parts before reloading (no voter exists yet)."""
    for model in (Station, HostCountry, Contest, Constituency, BallotStyle):
        for row in session.scalars(select(model).where(model.election_id == election.id)):
            session.delete(row)
    session.flush()


def advance(session: Session, actor: User | None, election: Election, to: str) -> Election:
    """Move the election to its next phase: registration open → exhibition → frozen."""
    if actor is not None:
        require(actor, Permission.MANAGE_ELECTION)
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
    events.record(
        session,
        "registration.election_status_changed",
        _actor(actor),
        {"code": election.code, "from": current.value, "to": target.value},
        {"election": election.code},
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
        "stations": [
            {
                "code": s.code,
                "name": s.name,
                "country": s.country.code,
                "city": s.city,
                "address": s.address,
                "time_zone": s.time_zone,
                "capacity": s.capacity,
                "assigned": s.assigned,
            }
            for s in election.stations
        ],
    }
