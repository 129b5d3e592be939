"""Enrolment: one voter checked by the election's rules, given a registration number and a
station seat, stored with sealed documents, and compared with likely duplicates."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from ocv import ids
from ocv.acting import Actor, authorize, record
from ocv.auth.permissions import Permission
from ocv.db import utcnow
from ocv.errors import ValidationError
from ocv.settings import Settings
from registration import events as E
from registration import names, regno, seats
from registration.errors import DuplicateDocument, StationFull
from registration.matching import flag_likely_duplicates, likely_duplicates, name_parts
from registration.models import (
    Constituency,
    Election,
    ElectionStatus,
    HostCountry,
    Station,
    Voter,
    VoterDocument,
    VoterHistory,
    VoterStatus,
)
from registration.privacy import document_keys
from registration.setup import require_status
from registration.voter_data import VoterData, validate

# 31^8 numbers: two clashes in a row are as good as impossible.
REG_NO_ATTEMPTS = 3


@dataclass(frozen=True)
class Definition:
    """An election's codes as plain data: what checking and placing a voter needs of them.

    After setup the definition cannot change, so it is read once per app (`of`)."""

    constituencies: dict[str, int]  # code → id
    countries: dict[str, int]  # code → id
    stations: dict[str, tuple[int, str, str]]  # code → (id, country code, case-folded city)
    cities: dict[tuple[str, str], str]  # (country code, case-folded city) → the city's name

    @classmethod
    def load(cls, session: Session, election: Election) -> Definition:
        return ElectionIndex.load(session, election).definition

    @classmethod
    def of(cls, session: Session, election: Election) -> Definition:
        memo = session.info.get("memo")
        if memo is None or election.status == ElectionStatus.SETUP:
            return cls.load(session, election)
        key = (cls, election.id)
        found: Definition | None = memo.get(key)
        if found is None:
            found = memo[key] = cls.load(session, election)
        return found

    def validate(self, election: Election, raw: dict[str, Any]) -> VoterData:
        return validate(
            election,
            raw,
            self.constituencies.keys(),
            self.countries.keys(),
            {code: country for code, (_, country, _) in self.stations.items()},
            self.cities,
        )

    def city_stations(self, country: str, city: str | None) -> list[int]:
        folded = (city or "").casefold()
        return [
            id_ for id_, c, station_city in self.stations.values() if c == country and station_city == folded
        ]


@dataclass(frozen=True)
class ElectionIndex:
    """An election's codes → rows, read once per request or import."""

    election: Election
    constituencies: dict[str, Constituency]
    countries: dict[str, HostCountry]
    stations: dict[str, Station]

    @classmethod
    def load(cls, session: Session, election: Election) -> ElectionIndex:
        def rows(model: Any) -> dict[str, Any]:
            return {r.code: r for r in session.scalars(select(model).where(model.election_id == election.id))}

        return cls(election, rows(Constituency), rows(HostCountry), rows(Station))

    @cached_property
    def definition(self) -> Definition:
        return Definition(
            {code: c.id for code, c in self.constituencies.items()},
            {code: c.id for code, c in self.countries.items()},
            {code: (s.id, s.country.code, s.city.casefold()) for code, s in self.stations.items()},
            {(s.country.code, s.city.casefold()): s.city for s in self.stations.values()},
        )

    def validate(self, raw: dict[str, Any]) -> VoterData:
        return self.definition.validate(self.election, raw)


# --- enrolment -------------------------------------------------------------------------


def enrol(session: Session, settings: Settings, officer: Actor, election: Election, raw: Any) -> Voter:
    """Enrol one voter (form or API). Raises ValidationError, DuplicateDocument, StationFull,
    and then has changed nothing."""
    who = authorize(officer, Permission.REGISTER_VOTERS).name
    if not isinstance(raw, dict):
        raise ValidationError("Send the voter as a JSON object.", {"body": ["Expected a JSON object."]})
    require_status(election, ElectionStatus.REGISTRATION_OPEN)
    definition = Definition.of(session, election)
    data = definition.validate(election, raw)
    keys = document_keys(settings.key_secret)
    hashes = [(d, keys.number_hash(election.code, d.type, d.number)) for d in data.documents]
    voter_id, now = ids.uuid7(), utcnow()
    connection = session.connection()
    # Core inserts (no unit of work) on the hot path, and no look-up before them: the unique
    # constraints decide, race or not. A savepoint undoes the seat and the rows on a refusal
    # and keeps the transaction usable, to name the voter who holds the document, or to draw
    # another number in the one-in-a-million case of a registration number taken already.
    for attempt in range(REG_NO_ATTEMPTS):
        reg_no = regno.generate()
        voter: Voter | None = None
        try:
            with connection.begin_nested():
                station = take_station(session, definition, data)
                voter = session.scalars(
                    _INSERT_VOTER,
                    [
                        {
                            "id": voter_id,
                            "election_id": election.id,
                            "reg_no": reg_no,
                            "status": VoterStatus.REGISTERED,
                            "given_name": data.given_name,
                            "family_name": data.family_name,
                            "father_name": data.father_name,
                            "grandfather_name": data.grandfather_name,
                            "names_original_script": data.names_original_script,
                            "date_of_birth": data.date_of_birth,
                            "sex": data.sex,
                            "phone": data.phone,
                            "email": data.email,
                            "constituency_id": definition.constituencies[data.constituency],
                            "country_id": definition.countries[data.host_country],
                            "station_id": station.id,
                            "name_key": names.blocking_key(name_parts(data)),
                            "created_at": now,
                            "updated_at": now,
                        }
                    ],
                ).one()
                connection.execute(
                    insert(VoterDocument),
                    [
                        {
                            "election_id": election.id,
                            "voter_id": voter_id,
                            "doc_type": document.type,
                            "number_hash": number_hash,
                            "number_sealed": keys.seal(document.number),
                        }
                        for document, number_hash in hashes
                    ],
                )
                connection.execute(
                    insert(VoterHistory),
                    {
                        "voter_id": voter_id,
                        "kind": "enrolled",
                        "officer": who,
                        "reason": "",
                        "changes": {"station": station.code},
                        "at": now,
                    },
                )
        except IntegrityError:
            if voter is not None:
                session.expunge(voter)  # its row went with the savepoint
            _refuse_known_documents(session, election, [h for _, h in hashes])
            if attempt == REG_NO_ATTEMPTS - 1:
                raise
            continue
        break
    assert voter is not None
    set_committed_value(voter, "station", station)  # known: no query to read it back
    # Looked up before the log entry: appending holds the log's lock until the commit, so
    # the less that follows it, the more enrolments the log takes per second.
    duplicates = likely_duplicates(session, voter)
    record(
        session,
        E.VOTER_ENROLLED,
        officer,
        {"election": election.code, "station": station.code},
        {
            "reg_no": voter.reg_no,
            "station": station.code,
            "constituency": data.constituency,
            "country": data.host_country,
            "documents": sorted(h for _, h in hashes),
        },
    )
    flag_likely_duplicates(session, officer, voter, duplicates)
    return voter


def _refuse_known_documents(session: Session, election: Election, hashes: list[str]) -> None:
    known = session.scalar(
        select(Voter.reg_no)
        .join(VoterDocument, VoterDocument.voter_id == Voter.id)
        .where(VoterDocument.election_id == election.id, VoterDocument.number_hash.in_(hashes))
        .limit(1)
    )
    if known is not None:
        raise DuplicateDocument(
            f"This document is registered already, to {regno.format(known)}.", duplicate_of=known
        )


_INSERT_VOTER = insert(Voter).returning(Voter)


def take_station(session: Session, definition: Definition, data: VoterData) -> Station:
    """The voter's seat, by the rule of `registration.seats`."""
    station = seats.take_station(
        session,
        definition.stations[data.station][0] if data.station else None,
        definition.countries[data.host_country],
        definition.city_stations(data.host_country, data.city),
    )
    if station is None:
        where = data.station or f"{data.host_country}"
        raise StationFull(f"No place left at {where}: every station is at capacity.")
    return station
