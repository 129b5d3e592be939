"""Seats: the station a voter is placed at, for enrolment, corrections and the import alike.

The rule: the station the voter named, else the emptiest open station of the voter's city,
else of the host country; the emptiest is the one with the lowest share of its capacity
assigned, then the lowest code. It is one SQL statement (`_placing`) that picks a station
and takes its seat, so the loads it compares are current and concurrent enrolments never
overfill (the CHECK on `stations.assigned` backs it).

Placing depends on the order of the voters (a voter whose city has no station takes the
country's emptiest seat, which a later voter of that city would have had), so a file is
placed a row at a time, in file order, as if each row were enrolled. The import runs the
same statement on its own copy of the stations' counters (`Placement`), an in-memory
database of this process: a statement costs microseconds there, the registry's stations are
not locked while the file is read, and the seats are taken on the registry at the end, in
one conditional UPDATE per station (`take_seat`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import (
    Column,
    CursorResult,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Update,
    bindparam,
    case,
    select,
    update,
)
from sqlalchemy import cast as cast_
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from registration.models import Station

# The emptiest station may fill up between its choice and its update: choose again.
SEAT_ATTEMPTS = 3


def _placing(
    target: Any, columns: Any, named: Any = None, in_country: Any = None, in_city: Any = None
) -> tuple[Update, Update]:
    """The statements that take a seat at the named station (`named`), and at the emptiest open
    station of a country (`in_country`), those of the voter's city (`in_city`) first. Values
    left out are bound parameters of those names."""
    emptiest = (
        select(columns.id)
        .where(columns.country_id == bindparam("in_country", in_country), columns.assigned < columns.capacity)
        .order_by(
            case((columns.id.in_(bindparam("in_city", in_city, expanding=True)), 0), else_=1),
            cast_(columns.assigned, Float) / columns.capacity,
            columns.code,
        )
        .limit(1)
    )
    take = update(target).where(columns.assigned < columns.capacity).values(assigned=columns.assigned + 1)
    return (
        take.where(columns.id == bindparam("named", named)),
        take.where(columns.id == emptiest.scalar_subquery()),
    )


# Built once: enrolment is the registry's hot path.
_TAKE_NAMED, _TAKE_EMPTIEST = (
    statement.returning(Station).execution_options(synchronize_session=False, populate_existing=True)
    for statement in _placing(Station, Station.__table__.c)
)


def take_station(
    session: Session, station_id: int | None, country_id: int, city_station_ids: list[int]
) -> Station | None:
    """A seat at the named station (`station_id`), else at the emptiest open one of the voter's
    city, else of the country; None when there is none left."""
    if station_id is not None:
        statement = _TAKE_NAMED
        params: dict[str, Any] = {"named": station_id}
    else:
        statement = _TAKE_EMPTIEST
        params = {"in_country": country_id, "in_city": city_station_ids}
    for _ in range(SEAT_ATTEMPTS):
        taken = session.scalars(statement, params).first()
        if taken is not None or station_id is not None:
            return taken
    return None


def take_seat(session: Session, station: Station, seats: int = 1) -> bool:
    """Take `seats` seats at this station if it has them left."""
    result = session.execute(
        update(Station)
        .where(Station.id == station.id, Station.assigned + seats <= Station.capacity)
        .values(assigned=Station.assigned + seats)
        .execution_options(synchronize_session=False)
    )
    taken = cast(CursorResult[Any], result).rowcount
    if taken:
        # Keep the loaded row in step without marking it changed (no second UPDATE).
        set_committed_value(station, "assigned", station.assigned + seats)
    return bool(taken)


def release_seat(session: Session, station: Station) -> None:
    session.execute(
        update(Station)
        .where(Station.id == station.id)
        .values(assigned=case((Station.assigned > 0, Station.assigned - 1), else_=0))
        .execution_options(synchronize_session=False)
    )
    session.refresh(station, ["assigned"])


# --- the import's placement ------------------------------------------------------------------

_COPY = Table(
    "stations",
    MetaData(),
    Column("id", Integer, primary_key=True),
    Column("country_id", Integer, nullable=False),
    Column("code", String, nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("assigned", Integer, nullable=False),
)


class Placement:
    """Voters placed one at a time, by enrolment's rule, on a copy of the stations' counters.

    `place` takes a seat on the copy; `taken` says how many each station gave, for the caller
    to take on the registry. `saved` and `restore` undo the places taken since."""

    def __init__(self, stations: Iterable[Station]) -> None:
        self.db = sqlite3.connect(":memory:", isolation_level=None, cached_statements=1024)
        self.db.execute(
            "CREATE TABLE stations (id INTEGER PRIMARY KEY, country_id INTEGER NOT NULL,"
            " code TEXT NOT NULL, capacity INTEGER NOT NULL, assigned INTEGER NOT NULL)"
        )
        self.db.executemany(
            "INSERT INTO stations VALUES (?, ?, ?, ?, ?)",
            [(s.id, s.country_id, s.code, s.capacity, s.assigned) for s in stations],
        )
        self.start = self.saved()
        self._sql: dict[tuple[Any, ...], str] = {}

    def place(self, station_id: int | None, country_id: int, city_station_ids: tuple[int, ...]) -> int | None:
        """The id of the station whose seat this voter takes, or None when there is none left."""
        key = (station_id, country_id, city_station_ids)
        sql = self._sql.get(key)
        if sql is None:
            named, emptiest = _placing(_COPY, _COPY.c, station_id, country_id, list(city_station_ids))
            statement = (emptiest if station_id is None else named).returning(_COPY.c.id)
            # Integers only: the statement holds them as literals, compiled once per key.
            sql = self._sql[key] = str(
                statement.compile(dialect=sqlite.dialect(), compile_kwargs={"literal_binds": True})
            )
        found = self.db.execute(sql).fetchone()
        return None if found is None else int(found[0])

    def saved(self) -> dict[int, int]:
        return dict(self.db.execute("SELECT id, assigned FROM stations").fetchall())

    def restore(self, saved: dict[int, int]) -> None:
        rows = [(assigned, id_) for id_, assigned in saved.items()]
        self.db.executemany("UPDATE stations SET assigned = ? WHERE id = ?", rows)

    def taken(self) -> dict[int, int]:
        """Station id → the seats placed there (stations with none left out)."""
        now = self.saved()
        return {id_: now[id_] - before for id_, before in self.start.items() if now[id_] > before}

    def __enter__(self) -> Placement:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.db.close()
