"""The results as CSV and JSON, at every level: the election, each constituency, each host
country and each station (broken down by constituency where a station serves several).

Both are renderings of the tally's aggregation (`tally.service.Results`): they add nothing
up. Only accepted stations carry figures; every station is listed with its status and its
protocol's digest, so anyone can fetch the protocols and add the figures up themselves.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from tally.types import AreaResult, ContestResult, Results, StationResult, StationStatus

BLANK = "(blank)"
INVALID = "(invalid)"
CSV_COLUMNS = ("level", "constituency", "country", "station", "contest", "choice", "votes")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # a spreadsheet would run these as formulas


def _cell(value: object) -> object:
    """A text cell a spreadsheet reads as text: one that would start a formula gets a quote."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _choices(contest: ContestResult) -> Iterator[tuple[str, int]]:
    yield from contest.choices.items()
    yield BLANK, contest.blank
    yield INVALID, contest.invalid


def rows(results: Results) -> Iterator[tuple[str, str, str, str, str, str, int]]:
    """(level, constituency, country, station, contest, choice, votes) at every level; an
    empty cell is "every" (the election's row has all four empty)."""
    for contest in results.total.contests:
        for choice, votes in _choices(contest):
            yield "election", "", "", "", contest.contest, choice, votes
    for area in results.by_constituency:
        for contest in area.contests:
            for choice, votes in _choices(contest):
                yield "constituency", area.code, "", "", contest.contest, choice, votes
    for area in results.by_country:
        for contest in area.contests:
            for choice, votes in _choices(contest):
                yield "country", "", area.code, "", contest.contest, choice, votes
    for station in results.stations:
        if station.status is not StationStatus.ACCEPTED:
            continue
        parts = station.by_constituency or {"": station.contests}
        for constituency, contests in parts.items():
            for contest in contests:
                for choice, votes in _choices(contest):
                    yield (
                        "station",
                        constituency,
                        station.country,
                        station.station,
                        contest.contest,
                        choice,
                        votes,
                    )


def to_csv(results: Results) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows(results):
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()


def _contest(contest: ContestResult) -> dict[str, Any]:
    return {
        "contest": contest.contest,
        "name": contest.name,
        "votes_allowed": contest.votes_allowed,
        "ballots": contest.ballots,
        "choices": dict(contest.choices),
        "valid_votes": contest.valid_votes,
        "blank": contest.blank,
        "invalid": contest.invalid,
    }


def _area(area: AreaResult) -> dict[str, Any]:
    return {
        "code": area.code,
        "name": area.name,
        "registered": area.registered,
        "registered_counted": area.registered_counted,
        "ballots": area.ballots,
        "turnout": area.turnout,
        "stations_counted": area.stations_counted,
        "stations_expected": area.stations_expected,
        "contests": [_contest(c) for c in area.contests],
    }


def _station(station: StationResult) -> dict[str, Any]:
    return {
        "station": station.station,
        "name": station.name,
        "country": station.country,
        "status": station.status.value,
        "registered": station.registered,
        "checked_in": station.checked_in,
        "in_box": station.in_box,
        "turnout": station.turnout,
        "protocol_sha256": station.protocol_sha256,
        "contests": [_contest(c) for c in station.contests],
        "by_constituency": {k: [_contest(c) for c in v] for k, v in station.by_constituency.items()},
    }


def to_json(results: Results) -> dict[str, Any]:
    """The results at every level, as plain JSON types."""
    progress = results.progress
    latest = results.certification.latest
    return {
        "election": results.election,
        "name": results.name,
        "progress": {
            "expected": progress.expected,
            "received": progress.received,
            "accepted": progress.accepted,
            "quarantined": progress.quarantined,
            "excluded": progress.excluded,
            "missing": progress.missing,
        },
        "certification": {
            "certified": results.certification.certified,
            "stale": results.certification.stale,
            "number": latest.number if latest else None,
            "certified_at": latest.certified_at.isoformat() if latest else None,
            "sha256": latest.sha256 if latest else None,
            "tree_size": latest.tree_size if latest else None,
            "root": latest.root if latest else None,
            "signers": list(latest.signers) if latest else [],
        },
        "total": _area(results.total),
        "constituencies": [_area(a) for a in results.by_constituency],
        "countries": [_area(a) for a in results.by_country],
        "stations": [_station(s) for s in results.stations],
    }
