"""The results as a NIST SP 1500-100 (version 2) election results report, in JSON.

Built from the tally's aggregation (`tally.service.Results`) and the election's public
description; it adds nothing up itself. The document validates against NIST's schema
(`tally/schemas/`, tests/unit/test_tally_nist.py).

Mapping: the election's scope is a `country` reporting unit (the home country) composed of
the constituencies (`other`, "constituency"), which hold the host countries (`country`),
which hold the polling stations (`polling-place`). Every contest is a `CandidateContest`
whose selections are the contest's choices; each selection carries a `total` vote count
for every reporting unit with accepted stations. Blank ballots are the contest's
`Undervotes`, invalid ones its `Overvotes` (a ballot marked for more choices than allowed is
invalid: docs/architecture.md, "Tally"). Only accepted stations are counted; the report's
`Status` says whether the figures are certified.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator

from tally.types import AreaResult, ContestResult, Results, StationStatus

SCHEMA = Path(__file__).parent / "schemas" / "NIST_V2_election_results_reporting.json"
VENDOR = "OCV"


@functools.cache
def _validator() -> Draft4Validator:
    return Draft4Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))


def problems(document: Any) -> list[str]:
    """What keeps the document from validating against NIST's schema ([] when it does)."""
    return [
        f"{'/'.join(str(p) for p in e.absolute_path) or 'the report'}: {e.message}"
        for e in sorted(_validator().iter_errors(document), key=lambda e: list(e.absolute_path))
    ]


def _text(content: str, language: str = "en") -> dict[str, Any]:
    return {
        "@type": "ElectionResults.InternationalizedText",
        "Text": [{"@type": "ElectionResults.LanguageString", "Content": content, "Language": language}],
    }


def _id(kind: str, code: str) -> str:
    return f"{kind}-" + re.sub(r"[^A-Za-z0-9_.-]", "_", code)


def _status(results: Results) -> str:
    cert = results.certification
    if cert.certified and cert.latest is not None and not cert.stale:
        return "correction" if cert.latest.number > 1 else "certified"
    progress = results.progress
    return (
        "unofficial-complete" if progress.missing == 0 and progress.quarantined == 0 else "unofficial-partial"
    )


def _unit(
    gp_id: str, kind: str, name: str, area: AreaResult | None, parts: list[str], other: str = ""
) -> dict[str, Any]:
    unit: dict[str, Any] = {
        "@id": gp_id,
        "@type": "ElectionResults.ReportingUnit",
        "Type": kind,
        "Name": _text(name),
    }
    if other:
        unit["OtherType"] = other
    if parts:
        unit["ComposingGpUnitIds"] = parts
    if area is not None:
        unit["VotersRegistered"] = area.registered
        unit["VotersParticipated"] = area.ballots
        unit["SubUnitsReported"] = area.stations_counted
        unit["TotalSubUnits"] = area.stations_expected
    return unit


def document(
    results: Results, described: dict[str, Any], generated: dt.datetime | None = None
) -> dict[str, Any]:
    """The NIST SP 1500-100 election report of these results."""
    generated = (generated or dt.datetime.now(dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
    home = _id("ru", described.get("home_country") or results.election)
    # Where each figure is: (reporting unit id, contest results of that unit).
    counted: list[tuple[str, list[ContestResult]]] = [(home, results.total.contests)]
    units = []
    station_ids: dict[str, list[str]] = {}
    for station in results.stations:
        sid = _id("ru-station", station.station)
        station_ids.setdefault(station.country, []).append(sid)
        unit = _unit(sid, "polling-place", station.name or station.station, None, [])
        unit["VotersRegistered"] = station.registered
        if station.status is StationStatus.ACCEPTED:
            unit["VotersParticipated"] = station.checked_in
            counted.append((sid, station.contests))
        units.append(unit)
    country_ids = []
    for country in results.by_country:
        cid = _id("ru-country", country.code)
        country_ids.append(cid)
        units.append(
            _unit(cid, "country", country.name or country.code, country, station_ids.get(country.code, []))
        )
        counted.append((cid, country.contests))
    constituency_ids = []
    for area in results.by_constituency:
        aid = _id("ru-constituency", area.code)
        constituency_ids.append(aid)
        units.append(_unit(aid, "other", area.name or area.code, area, [], other="constituency"))
        counted.append((aid, area.contests))
    units.insert(0, _unit(home, "country", results.name, results.total, constituency_ids + country_ids))

    contests = []
    candidates = []
    for order, contest in enumerate(described.get("contests", []), start=1):
        code = contest["code"]
        selections = []
        for number, choice in enumerate(contest["choices"], start=1):
            candidate = _id("cand", f"{code}-{number}")
            candidates.append(
                {"@id": candidate, "@type": "ElectionResults.Candidate", "BallotName": _text(choice)}
            )
            counts = [
                {
                    "@type": "ElectionResults.VoteCounts",
                    "GpUnitId": unit,
                    "Type": "total",
                    "Count": found.choices.get(choice, 0),
                }
                for unit, figures in counted
                for found in figures
                if found.contest == code
            ]
            selections.append(
                {
                    "@id": _id("sel", f"{code}-{number}"),
                    "@type": "ElectionResults.CandidateSelection",
                    "CandidateIds": [candidate],
                    "SequenceOrder": number,
                    "VoteCounts": counts,
                }
            )
        other_counts = [
            {
                "@type": "ElectionResults.OtherCounts",
                "GpUnitId": unit,
                "Undervotes": found.blank,
                "Overvotes": found.invalid,
            }
            for unit, figures in counted
            for found in figures
            if found.contest == code
        ]
        contests.append(
            {
                "@id": _id("contest", code),
                "@type": "ElectionResults.CandidateContest",
                "Name": contest.get("name") or code,
                "Abbreviation": code,
                "ElectionDistrictId": home,
                "VotesAllowed": contest.get("votes_allowed", 1),
                "SequenceOrder": order,
                "ContestSelection": selections,
                "OtherCounts": other_counts,
            }
        )

    day = described.get("polling_day") or generated.date().isoformat()
    complete = results.progress.missing == 0 and results.progress.quarantined == 0
    election: dict[str, Any] = {
        "@type": "ElectionResults.Election",
        "ElectionScopeId": home,
        "Name": _text(results.name),
        "StartDate": day,
        "EndDate": day,
        "Type": "general",
        "Candidate": candidates,
        "Contest": contests,
        "CountStatus": [
            {
                "@type": "ElectionResults.CountStatus",
                "Type": "total",
                "Status": "completed" if complete else "in-process",
            }
        ],
    }
    report: dict[str, Any] = {
        "@type": "ElectionResults.ElectionReport",
        "Format": "precinct-level",
        "GeneratedDate": generated.isoformat().replace("+00:00", "Z"),
        "Issuer": results.name,
        "IssuerAbbreviation": results.election,
        "SequenceStart": 1,
        "SequenceEnd": 1,
        "Status": _status(results),
        "VendorApplicationId": VENDOR,
        "Election": [election],
        "GpUnit": units,
        "Notes": (
            "Blank ballots are Undervotes, invalid ballots Overvotes. Only accepted stations "
            "are counted; every station's signed protocol is at "
            f"/api/v1/elections/{results.election}/stations/{{station}}/protocol."
        ),
    }
    if results.certification.latest is not None:
        latest = results.certification.latest
        report["Notes"] += (
            f" Certification {latest.number}: results document SHA-256 {latest.sha256}, "
            f"bound to the log's checkpoint of tree size {latest.tree_size}."
        )
    return report
