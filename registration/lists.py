"""Voter lists per station (exhibition, final), their digests, and the voter self-check."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import rfc8785
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ocv.acting import Actor, authorize, may, record
from ocv.auth.permissions import Permission
from ocv.errors import NotFound
from registration import events as E
from registration import regno
from registration.errors import MistypedRegNo
from registration.models import Election, Station, Voter, VoterStatus

# A page of a station's list: about 13 KB gzipped, a few seconds on a 2G link.
LIST_PAGE_SIZE = 500


def _listed(station: Station, *columns: Any) -> Select[Any]:
    """Registered voters of a station (or these columns of them), sorted by family then given
    name to find them fast."""
    return (
        select(*(columns or (Voter,)))
        .where(Voter.station_id == station.id, Voter.status == VoterStatus.REGISTERED)
        .order_by(func.lower(Voter.family_name), func.lower(Voter.given_name), Voter.reg_no)
    )


def _may_read_list(actor: Actor, station: Station) -> None:
    """Registration officers, and the station's own officials."""
    if not may(actor, Permission.CHECK_IN_VOTERS, station.code):
        authorize(actor, Permission.REGISTER_VOTERS)


def station_list(session: Session, actor: Actor, station: Station) -> Sequence[Voter]:
    _may_read_list(actor, station)
    return _registered(session, station)


def _registered(session: Session, station: Station) -> Sequence[Voter]:
    return session.scalars(_listed(station)).all()


@dataclass(frozen=True)
class ListPage:
    """One page of a station's list, with the digest and size of the whole list."""

    voters: Sequence[Voter]
    number: int  # from 1
    pages: int
    total: int
    digest: str
    first_position: int  # the position of voters[0] in the whole list, from 1


def station_list_page(
    session: Session, actor: Actor, station: Station, number: int, size: int = LIST_PAGE_SIZE
) -> ListPage:
    """Page `number` of the station's list; NotFound past its last page."""
    _may_read_list(actor, station)
    # The digest is of the whole list: its entries' columns only, not 5,000 voters' objects.
    columns = (Voter.reg_no, Voter.family_name, Voter.given_name, Voter.father_name, Voter.date_of_birth)
    entries = [
        {**row._asdict(), "date_of_birth": row.date_of_birth.isoformat()}
        for row in session.execute(_listed(station, *columns))
    ]
    pages = max(1, math.ceil(len(entries) / size))
    if not 1 <= number <= pages:
        raise NotFound(f"The list has {pages} page(s).")
    voters = session.scalars(_listed(station).offset((number - 1) * size).limit(size)).all()
    return ListPage(
        voters=voters,
        number=number,
        pages=pages,
        total=len(entries),
        digest=_digest(entries),
        first_position=(number - 1) * size + 1,
    )


def list_entry(voter: Voter) -> dict[str, Any]:
    """What a printed list shows of a voter, and what its digest commits to."""
    return {
        "reg_no": voter.reg_no,
        "family_name": voter.family_name,
        "given_name": voter.given_name,
        "father_name": voter.father_name,
        "date_of_birth": voter.date_of_birth.isoformat(),
    }


def list_digest(voters: Sequence[Voter]) -> str:
    return _digest([list_entry(v) for v in voters])


def _digest(entries: list[dict[str, Any]]) -> str:
    return hashlib.sha256(rfc8785.dumps(entries)).hexdigest()


def publish(session: Session, actor: Actor, election: Election, phase: str) -> str:
    """Digest every station's list and log them; returns the election-wide digest."""
    stations = {}
    count = 0
    for station in election.stations:
        voters = _registered(session, station)
        stations[station.code] = list_digest(voters)
        count += len(voters)
    digest = hashlib.sha256(rfc8785.dumps(stations)).hexdigest()
    record(
        session,
        E.LIST_PUBLISHED,
        actor,
        {"election": election.code},
        {"code": election.code, "phase": phase, "stations": stations, "digest": digest, "voters": count},
    )
    return digest


def registry_counts(session: Session) -> dict[str, Any]:
    """Registered voters per election and station: the state observers may see (counts)."""
    rows = session.execute(
        select(Election.code, Station.code, Voter.status, func.count())
        .join(Station, Voter.station_id == Station.id)
        .join(Election, Voter.election_id == Election.id)
        .group_by(Election.code, Station.code, Voter.status)
    ).all()
    counts: dict[str, dict[str, dict[str, int]]] = {}
    for election, station, status, n in rows:
        counts.setdefault(election, {}).setdefault(station, {})[status] = n
    return counts


# --- voter self-check --------------------------------------------------------------------


def self_check(session: Session, reg_no: str, date_of_birth: dt.date) -> dict[str, Any]:
    """Status, station, address and polling hours: nothing else, and the same refusal for
    an unknown number as for a wrong date of birth. InvalidRegNo for a mistyped number."""
    try:
        number = regno.validate(reg_no)
    except regno.InvalidRegNo as error:
        if error.reason == "check":
            raise MistypedRegNo("Check the number: one of its characters is wrong.", "check") from None
        raise MistypedRegNo("This is not a registration number.", "format") from None
    voter = session.scalar(
        select(Voter)
        .join(Election, Voter.election_id == Election.id)
        .where(Voter.reg_no == number, Voter.date_of_birth == date_of_birth)
        .order_by(Election.polling_day.desc())
        .limit(1)
    )
    if voter is None:
        raise NotFound("No registration matches this number and date of birth.")
    station = voter.station
    zone = zoneinfo.ZoneInfo(station.time_zone)
    days = []
    for day in voter.country.polling_days:
        date = dt.date.fromisoformat(day["date"])
        opens = dt.datetime.combine(date, dt.time.fromisoformat(day["opens"]), zone)
        closes = dt.datetime.combine(date, dt.time.fromisoformat(day["closes"]), zone)
        days.append(
            {
                "date": day["date"],
                "opens": day["opens"],
                "closes": day["closes"],
                "time_zone": station.time_zone,
                "utc_offset": opens.strftime("%z"),
                "opens_utc": opens.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
                "closes_utc": closes.astimezone(dt.UTC).isoformat().replace("+00:00", "Z"),
            }
        )
    return {
        "reg_no": regno.format(voter.reg_no),
        "election": voter.station.election.name,
        "status": voter.status,
        "station": {
            "code": station.code,
            "name": station.name,
            "address": station.address,
            "city": station.city,
            "country": voter.country.name,
        },
        "polling_days": days,
    }
