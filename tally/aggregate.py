"""Aggregation: contest × constituency × host country × station, accepted stations only.

One GROUP BY over the verified figure rows of accepted stations gives the finest grain
(station × ballot style × contest × choice); every level above is a sum of it, in one
pass. Turnout is ballots counted against the voters on the lists of the stations
counted; the progress of reporting comes from the intake rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ocv.acting import Actor, authorize
from ocv.auth.permissions import Permission
from registration import service as registry
from tally import embargo
from tally.models import TallyFigure, TallyStation
from tally.types import AreaResult, ContestResult, Progress, ResultRow, Results, StationResult, StationStatus

BLANK, INVALID, VOTED, BALLOTS = "(blank)", "(invalid)", "(voted)", "(ballots)"


@dataclass
class _Election:
    code: str
    name: str
    contests: dict[str, dict[str, Any]]  # code -> {name, votes_allowed, choices}
    styles: dict[str, list[str]]  # ballot style -> contests
    constituency: dict[str, str]  # ballot style -> constituency label
    constituency_name: dict[str, str]
    stations: list[dict[str, str]]
    countries: dict[str, str]


def _election(session: Session, code: str) -> tuple[Any, _Election]:
    election = registry.get_election(session, code)
    described = registry.describe(election)
    by_style: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in described["constituencies"]:
        by_style[c["ballot_style"]].append(c)
    styles = {s["code"]: list(s["contests"]) for s in described["ballot_styles"]}
    label = {s: "+".join(c["code"] for c in by_style[s]) for s in styles}
    names = {label[s]: " + ".join(c["name"] for c in by_style[s]) for s in styles}
    return election, _Election(
        code=election.code,
        name=election.name,
        contests={c["code"]: c for c in described["contests"]},
        styles=styles,
        constituency=label,
        constituency_name=names,
        stations=registry.stations_of(election),
        countries={c["code"]: c["name"] for c in described["host_countries"]},
    )


def _rows(session: Session, election: str) -> list[tuple[str, str, str, str, int]]:
    """(station, ballot style, contest, choice or marker, votes) of accepted stations."""
    query = (
        select(
            TallyStation.station_code,
            TallyFigure.ballot_style,
            TallyFigure.contest,
            TallyFigure.choice,
            func.sum(TallyFigure.votes),
        )
        .join(TallyStation, TallyStation.id == TallyFigure.tally_station_id)
        .where(TallyStation.election_code == election, TallyStation.status == StationStatus.ACCEPTED)
        .group_by(
            TallyStation.station_code, TallyFigure.ballot_style, TallyFigure.contest, TallyFigure.choice
        )
    )
    return [(a, b, c, d, int(n)) for a, b, c, d, n in session.execute(query)]


class _Sum:
    """Running figures of one area: per contest, choices, invalid, blank, voted, ballots."""

    def __init__(self, e: _Election) -> None:
        self.e = e
        self.choices: dict[str, dict[str, int]] = {
            c: dict.fromkeys(e.contests[c]["choices"], 0) for c in e.contests
        }
        self.invalid: dict[str, int] = defaultdict(int)
        self.blank: dict[str, int] = defaultdict(int)
        self.voted: dict[str, int] = defaultdict(int)
        self.carried: dict[str, int] = defaultdict(int)  # ballots of the styles carrying it
        self.ballots = 0
        self.stations: set[str] = set()
        self.sheet = False

    def add_group(self, station: str, style: str, figures: Mapping[tuple[str, str], int]) -> None:
        self.stations.add(station)
        ballots = figures.get(("", BALLOTS), 0)
        self.ballots += ballots
        carried = self.e.styles.get(style, list(self.e.contests)) if style else list(self.e.contests)
        for contest in carried:
            self.carried[contest] += ballots if style else 0
        for (contest, choice), n in figures.items():
            if not contest:
                continue
            if choice == INVALID:
                self.invalid[contest] += n
            elif choice == BLANK:
                self.blank[contest] += n
                self.sheet = True
            elif choice == VOTED:
                self.voted[contest] += n
            elif contest in self.choices:
                self.choices[contest][choice] = self.choices[contest].get(choice, 0) + n
        if not style:  # a tally sheet: ballots carrying a contest = votes' ballots + blank + invalid
            for contest in carried:
                self.carried[contest] += ballots

    def contests(self, only: Iterable[str] | None = None) -> list[ContestResult]:
        out = []
        for code, c in self.e.contests.items():
            if only is not None and code not in only:
                continue
            blank = self.blank[code] + max(self.carried[code] - self.voted[code] - self.invalid[code], 0) * (
                not self.sheet
            )
            out.append(
                ContestResult(
                    code,
                    c["name"],
                    c["votes_allowed"],
                    dict(self.choices[code]),
                    blank,
                    self.invalid[code],
                    self.carried[code],
                )
            )
        return out


def _group(
    rows: Iterable[tuple[str, str, str, str, int]],
) -> dict[tuple[str, str], dict[tuple[str, str], int]]:
    groups: dict[tuple[str, str], dict[tuple[str, str], int]] = defaultdict(dict)
    for station, style, contest, choice, n in rows:
        groups[(station, style)][(contest, choice)] = n
    return groups


def _turnout(ballots: int, registered: int) -> float | None:
    return round(ballots / registered, 4) if registered else None


def results(session: Session, actor: Actor | None, code: str) -> Results:
    if actor is not None:
        authorize(actor, Permission.OBSERVE)
    election, e = _election(session, code)
    intake = {
        r.station_code: r
        for r in session.scalars(select(TallyStation).where(TallyStation.election_code == e.code))
    }
    registered = registry.registered_by_station_and_style(session, election)
    groups = _group(_rows(session, e.code))
    country_of = {s["code"]: s["country"] for s in e.stations}
    total = _Sum(e)
    by_country = {c: _Sum(e) for c in e.countries}
    by_constituency = {label: _Sum(e) for label in e.constituency_name}
    by_station: dict[str, _Sum] = {}
    station_style: dict[str, dict[str, _Sum]] = defaultdict(dict)
    for (station, style), figures in sorted(groups.items()):
        country = country_of.get(station, "")
        sums = [total, by_country.setdefault(country, _Sum(e)), by_station.setdefault(station, _Sum(e))]
        if style:
            sums.append(by_constituency.setdefault(e.constituency[style], _Sum(e)))
            sums.append(station_style[station].setdefault(e.constituency[style], _Sum(e)))
        for s in sums:
            s.add_group(station, style, figures)
    accepted = {s for s, r in intake.items() if r.status is StationStatus.ACCEPTED}

    def registered_in(stations: Iterable[str], style: str | None = None) -> int:
        chosen = set(stations)
        return sum(
            n for (st, sty), n in registered.items() if st in chosen and (style is None or sty == style)
        )

    all_stations = [s["code"] for s in e.stations]
    e_progress = progress_of(e, intake, registered)

    def area(
        level: str,
        code: str,
        name: str,
        s: _Sum,
        stations: list[str],
        style: str | None = None,
        only: Iterable[str] | None = None,
    ) -> AreaResult:
        counted_here = [x for x in stations if x in accepted]
        reg_counted = registered_in(counted_here, style)
        return AreaResult(
            level,
            code,
            name,
            registered_in(stations, style),
            reg_counted,
            s.ballots,
            _turnout(s.ballots, reg_counted),
            len(counted_here),
            len(stations),
            s.contests(only),
        )

    style_of_label = {label: style for style, label in e.constituency.items()}
    stations_out = []
    for st in e.stations:
        row = intake.get(st["code"])
        status = row.status if row is not None else StationStatus.MISSING
        sums = by_station.get(st["code"]) if status is StationStatus.ACCEPTED else None
        figures = row.figures if row is not None else {}
        reg = registered_in([st["code"]])
        stations_out.append(
            StationResult(
                st["code"],
                st["name"],
                st["country"],
                status,
                reg,
                int(figures.get("checked_in", 0)),
                int(figures.get("in_box", 0)),
                _turnout(int(figures.get("checked_in", 0)), reg) if row else None,
                sums.contests() if sums else [],
                row.protocol_sha256 if row else None,
                {
                    label: s.contests(e.styles[style_of_label[label]])
                    for label, s in station_style.get(st["code"], {}).items()
                }
                if sums
                else {},
            )
        )
    return Results(
        election=e.code,
        name=e.name,
        progress=e_progress,
        total=area("election", e.code, e.name, total, all_stations),
        by_constituency=[
            area(
                "constituency",
                label,
                e.constituency_name[label],
                s,
                all_stations,
                style_of_label[label],
                e.styles[style_of_label[label]],
            )
            for label, s in sorted(by_constituency.items())
        ],
        by_country=[
            area("country", c, e.countries.get(c, c), s, [x["code"] for x in e.stations if x["country"] == c])
            for c, s in sorted(by_country.items())
        ],
        stations=stations_out,
        embargo=embargo.of(session, e.code),
        certification=_certification(session, e.code),
    )


def _certification(session: Session, code: str) -> Any:
    from tally import certify

    return certify.status(session, code)


def progress_of(
    e: _Election, intake: Mapping[str, TallyStation], registered: Mapping[tuple[str, str], int]
) -> Progress:
    counts = defaultdict(int)
    for r in intake.values():
        counts[r.status] += 1
    accepted = {s for s, r in intake.items() if r.status is StationStatus.ACCEPTED}
    expected = len(e.stations)
    return Progress(
        expected=expected,
        received=len(intake),
        accepted=counts[StationStatus.ACCEPTED],
        quarantined=counts[StationStatus.QUARANTINED],
        excluded=counts[StationStatus.EXCLUDED],
        missing=expected - len(intake),
        registered_counted=sum(n for (st, _), n in registered.items() if st in accepted),
    )


def progress(session: Session, code: str) -> Progress:
    election, e = _election(session, code)
    intake = {
        r.station_code: r
        for r in session.scalars(select(TallyStation).where(TallyStation.election_code == e.code))
    }
    return progress_of(e, intake, registry.registered_by_station_and_style(session, election))


def rows(session: Session, actor: Actor | None, code: str) -> list[ResultRow]:
    """Contest × constituency × country × station × choice (and blank, invalid)."""
    if actor is not None:
        authorize(actor, Permission.OBSERVE)
    _, e = _election(session, code)
    country_of = {s["code"]: s["country"] for s in e.stations}
    out = []
    for (station, style), figures in sorted(_group(_rows(session, e.code)).items()):
        s = _Sum(e)
        s.add_group(station, style, figures)
        label = e.constituency.get(style, "") if style else ""
        for contest in s.contests(e.styles.get(style) if style else None):
            for choice, n in contest.choices.items():
                out.append(ResultRow(contest.contest, label, country_of.get(station, ""), station, choice, n))
            out.append(
                ResultRow(contest.contest, label, country_of.get(station, ""), station, BLANK, contest.blank)
            )
            out.append(
                ResultRow(
                    contest.contest, label, country_of.get(station, ""), station, INVALID, contest.invalid
                )
            )
    return out


def totals(session: Session, code: str) -> dict[str, dict[str, Any]]:
    """Election-wide per contest {choices, blank, invalid, ballots}: what certification signs."""
    _, e = _election(session, code)
    s = _Sum(e)
    for (station, style), figures in _group(_rows(session, e.code)).items():
        s.add_group(station, style, figures)
    return {
        c.contest: {"choices": c.choices, "blank": c.blank, "invalid": c.invalid, "ballots": c.ballots}
        for c in s.contests()
    }


def recount_from_cvrs(session: Session, code: str) -> dict[str, dict[str, Any]]:
    """Election-wide totals straight from every station's CVRs, in SQL (no intake): the
    benchmark's path, and a cross-check of the figures counted."""
    from polling import service as polling

    _, e = _election(session, code)
    s = _Sum(e)
    grouped: dict[tuple[str, str], dict[tuple[str, str], int]] = defaultdict(dict)
    for station, style, contest, choice, n in polling.cvr_figures(session, e.code):
        grouped[(station, style)][(contest, choice)] = n
    for (station, style), figures in grouped.items():
        s.add_group(station, style, figures)
    return {
        c.contest: {"choices": c.choices, "blank": c.blank, "invalid": c.invalid, "ballots": c.ballots}
        for c in s.contests()
    }
