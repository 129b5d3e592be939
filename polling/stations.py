"""A station's day: set up → polling (→ paused overnight → polling) → closed → counted →
signed → submitted, with the ballot papers it holds, per ballot style.

Accounts are derived from rows, never kept as counters: received, resupplied and
transferred from `ballot_movements`, issued from the marked register and the tendered
ballots, spoiled from `spoiled_ballots`. So a check-in writes one row and waits on nobody.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ocv.acting import Actor, authorize, record
from ocv.auth.permissions import Permission
from ocv.db import utcnow
from ocv.errors import ValidationError
from polling import events as E
from polling.errors import WrongStationState
from polling.models import (
    BallotMovement,
    Mark,
    Movement,
    PollingStation,
    Spoiled,
    StationState,
    Tendered,
)
from registration import service as registry

MAX_BALLOTS = 1_000_000  # per style and movement: more is a typing mistake
MAX_SEALS = 50


@dataclass(frozen=True)
class Place:
    """A station as polling sees it: the registry's election and station, and its day."""

    election: Any  # registry's Election
    station: Any  # registry's Station
    polling: PollingStation

    @property
    def code(self) -> str:
        return str(self.polling.station_code)

    def scope(self) -> dict[str, str]:
        return {"election": self.polling.election_code, "station": self.code}

    def styles(self) -> dict[str, list[str]]:
        """Ballot style → the contests it carries."""
        return {s.code: list(s.contest_codes) for s in self.election.ballot_styles}


def place(session: Session, election_code: str, station_code: str) -> Place:
    """The station's polling record, created on first use for a station of the registry."""
    election = registry.get_election(session, election_code)
    station = registry.get_station(session, election, station_code)
    polling = session.scalar(
        select(PollingStation).where(
            PollingStation.election_code == election.code, PollingStation.station_code == station.code
        )
    )
    if polling is None:
        polling = PollingStation(election_code=election.code, station_code=station.code)
        session.add(polling)
        session.flush()
    return Place(election, station, polling)


def require_state(where: Place, *allowed: StationState) -> None:
    if where.polling.state not in allowed:
        wanted = " or ".join(s.value for s in allowed)
        raise WrongStationState(
            f"Station {where.code} is {where.polling.state.value}; this needs it {wanted}."
        )


# --- reading the input -------------------------------------------------------------------


def ballots_by_style(where: Place, raw: Any, member: str = "ballots") -> dict[str, int]:
    """`{"<style>": n}` with every style of the election and nothing else."""
    styles = where.styles()
    if not isinstance(raw, Mapping):
        raise ValidationError(f"Give {member} per ballot style.", {member: ["Expected {style: count}."]})
    problems = [f"{s!r} is not a ballot style of {where.election.code}." for s in raw if s not in styles]
    problems += [f"Give the count for {s}." for s in styles if s not in raw]
    problems += [
        f"{s}: a whole number from 0 to {MAX_BALLOTS:,}."
        for s, n in raw.items()
        if s in styles and not (type(n) is int and 0 <= n <= MAX_BALLOTS)
    ]
    if problems:
        raise ValidationError(problems[0], {member: problems})
    return {s: int(raw[s]) for s in styles}


def seal_numbers(raw: Any) -> list[str]:
    if not isinstance(raw, Sequence) or isinstance(raw, str) or not raw:
        raise ValidationError("List the seal numbers.", {"seals": ["At least one seal number."]})
    seals = [s.strip() for s in raw if isinstance(s, str) and s.strip()]
    if len(seals) != len(raw) or len(seals) > MAX_SEALS or any(len(s) > 40 for s in seals):
        raise ValidationError("Seal numbers are text of 1 to 40 characters.", {"seals": ["Check each seal."]})
    if len(set(seals)) != len(seals):
        raise ValidationError("A seal number appears twice.", {"seals": ["Each seal once."]})
    return seals


def names_of(raw: Any, member: str = "officials") -> list[str]:
    if not isinstance(raw, Sequence) or isinstance(raw, str) or not raw:
        raise ValidationError("Name the officials present.", {member: ["At least one name."]})
    people = [p.strip() for p in raw if isinstance(p, str) and p.strip()]
    if len(people) != len(raw) or any(len(p) > 100 for p in people):
        raise ValidationError(
            "Each official is a name of 1 to 100 characters.", {member: ["Check each name."]}
        )
    return people


def reason_of(raw: Any) -> str:
    reason = raw.strip() if isinstance(raw, str) else ""
    if not reason or len(reason) > 500:
        raise ValidationError(
            "Give a reason (at most 500 characters).", {"reason": ["A reason is required."]}
        )
    return reason


# --- lifecycle ---------------------------------------------------------------------------


def open_station(
    session: Session,
    actor: Actor,
    where: Place,
    ballots: Any,
    seals: Any,
    officials: Any,
    explanation: str = "",
) -> PollingStation:
    """Open for the first polling day (ballots received) or a later one (ballots counted
    unused this morning, compared with last night's close-out)."""
    authorize(actor, Permission.RUN_STATION, where.code)
    require_state(where, StationState.SETUP, StationState.PAUSED)
    if where.polling.state is StationState.SETUP and where.election.status != "frozen":
        raise WrongStationState(f"The list of {where.election.code} is not frozen yet: polling cannot start.")
    counted = ballots_by_style(where, ballots)
    seals_now, people = seal_numbers(seals), names_of(officials)
    polling, now = where.polling, utcnow()
    if polling.state is StationState.SETUP:
        for style, n in counted.items():
            session.add(_movement(polling, actor, Movement.RECEIVED, style, n, "opening"))
    else:
        evening = accounts(session, where).unused
        differ = {s: (evening.get(s, 0), n) for s, n in counted.items() if evening.get(s, 0) != n}
        if differ and not explanation.strip():
            lines = [f"{s}: {a} last night, {b} now" for s, (a, b) in differ.items()]
            raise ValidationError(
                "This morning's count differs from last night's: explain it.", {"explanation": lines}
            )
    polling.day += 1
    polling.state, polling.seals, polling.officials = StationState.POLLING, seals_now, people
    polling.opened_at = polling.opened_at or now
    payload = {
        "station": where.code,
        "day": polling.day,
        "ballots": counted,
        "seals": seals_now,
        "officials": people,
    }
    record(session, E.STATION_OPENED, actor, where.scope(), payload)
    return polling


def pause(session: Session, actor: Actor, where: Place, unused: Any, seals: Any) -> PollingStation:
    """The daily close-out between two polling days."""
    return _close(session, actor, where, unused, seals, final=False)


def close(session: Session, actor: Actor, where: Place, unused: Any, seals: Any) -> PollingStation:
    return _close(session, actor, where, unused, seals, final=True)


def _close(
    session: Session, actor: Actor, where: Place, unused: Any, seals: Any, *, final: bool
) -> PollingStation:
    authorize(actor, Permission.RUN_STATION, where.code)
    require_state(where, StationState.POLLING)
    left, seals_now = ballots_by_style(where, unused, "unused"), seal_numbers(seals)
    polling = where.polling
    for style, n in left.items():
        session.add(_movement(polling, actor, Movement.UNUSED, style, n, "close" if final else "close-out"))
    polling.seals = seals_now
    if final:
        polling.state, polling.closed_at = StationState.CLOSED, utcnow()
        record(
            session,
            E.STATION_CLOSED,
            actor,
            where.scope(),
            {"station": where.code, "unused": left, "seals": seals_now},
        )
    else:
        polling.state = StationState.PAUSED
        payload = {"station": where.code, "day": polling.day, "unused": left, "seals": seals_now}
        record(session, E.STATION_PAUSED, actor, where.scope(), payload)
    return polling


def move_ballots(
    session: Session, actor: Actor, where: Place, kind: Movement, style: str, count: Any, reason: Any
) -> BallotMovement:
    """Resupply (papers in) or transfer (papers out), each with its reason."""
    authorize(actor, Permission.RUN_STATION, where.code)
    require_state(where, StationState.SETUP, StationState.POLLING, StationState.PAUSED)
    if style not in where.styles():
        raise ValidationError(
            f"{style!r} is not a ballot style of {where.election.code}.", {"ballot_style": ["Unknown."]}
        )
    if not (type(count) is int and 1 <= count <= MAX_BALLOTS):
        raise ValidationError(f"Give 1 to {MAX_BALLOTS:,} ballot papers.", {"count": ["A whole number."]})
    n, why = count, reason_of(reason)
    if kind is Movement.TRANSFERRED and n > accounts(session, where).stock(style):
        raise ValidationError(
            f"The station holds fewer than {n} papers of {style}.", {"count": ["More than held."]}
        )
    movement = _movement(where.polling, actor, kind, style, n, why)
    session.add(movement)
    event = E.BALLOTS_RESUPPLIED if kind is Movement.RESUPPLIED else E.BALLOTS_TRANSFERRED
    record(
        session,
        event,
        actor,
        where.scope(),
        {"station": where.code, "ballot_style": style, "count": n, "reason": why},
    )
    return movement


def _movement(
    polling: PollingStation, actor: Actor, kind: Movement, style: str, count: int, reason: str
) -> BallotMovement:
    return BallotMovement(
        polling_station_id=polling.id,
        kind=kind,
        ballot_style=style,
        count=count,
        day=polling.day,
        reason=reason,
        by=actor.name,
    )


# --- accounts ----------------------------------------------------------------------------


@dataclass
class Accounts:
    """Ballot papers per style. `unused` is the last count (a close-out or the close)."""

    received: dict[str, int] = field(default_factory=dict)
    resupplied: dict[str, int] = field(default_factory=dict)
    transferred: dict[str, int] = field(default_factory=dict)
    checked_in: dict[str, int] = field(default_factory=dict)
    tendered: dict[str, int] = field(default_factory=dict)
    spoiled: dict[str, int] = field(default_factory=dict)
    unused: dict[str, int] = field(default_factory=dict)

    def issued(self, style: str) -> int:
        return self.checked_in.get(style, 0) + self.tendered.get(style, 0)

    def supplied(self, style: str) -> int:
        return self.received.get(style, 0) + self.resupplied.get(style, 0) - self.transferred.get(style, 0)

    def stock(self, style: str) -> int:
        """Papers the station should hold now."""
        return self.supplied(style) - self.issued(style) - self.spoiled.get(style, 0)


def accounts(session: Session, where: Place) -> Accounts:
    station_id = where.polling.id
    out = Accounts()
    sums = session.execute(
        select(BallotMovement.kind, BallotMovement.ballot_style, func.sum(BallotMovement.count))
        .where(BallotMovement.polling_station_id == station_id, BallotMovement.kind != Movement.UNUSED)
        .group_by(BallotMovement.kind, BallotMovement.ballot_style)
    )
    for kind, style, total in sums:
        getattr(out, kind.value)[style] = int(total)
    last_unused = session.execute(
        select(BallotMovement.ballot_style, BallotMovement.count)
        .where(BallotMovement.polling_station_id == station_id, BallotMovement.kind == Movement.UNUSED)
        .order_by(BallotMovement.id)
    )
    for style, count in last_unused:
        out.unused[style] = count
    for table, target in ((Mark, out.checked_in), (Tendered, out.tendered), (Spoiled, out.spoiled)):
        counted = session.execute(
            select(table.ballot_style, func.count())
            .where(table.polling_station_id == station_id)
            .group_by(table.ballot_style)
        )
        target.update({style: n for style, n in counted})
    return out


def turnout_by_hour(session: Session, where: Place) -> list[tuple[dt.datetime, int]]:
    """Check-ins per UTC hour, oldest first (the page shows them in the station's zone)."""
    hours: dict[dt.datetime, int] = {}
    for (at,) in session.execute(select(Mark.at).where(Mark.polling_station_id == where.polling.id)):
        hour = at.replace(minute=0, second=0, microsecond=0)
        hours[hour] = hours.get(hour, 0) + 1
    return sorted(hours.items())


def last_hour_rate(session: Session, where: Place, style: str) -> int:
    since = utcnow() - dt.timedelta(hours=1)
    count = session.scalar(
        select(func.count()).where(
            Mark.polling_station_id == where.polling.id, Mark.ballot_style == style, Mark.at >= since
        )
    )
    return count or 0
