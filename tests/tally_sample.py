"""A small set of tally results built by hand (tally.types), for the tests of what renders
them (NIST report, exports, charts) without running polling first: two constituencies,
two host countries, three stations (one accepted in each country, one quarantined)."""

from __future__ import annotations

import datetime as dt

from tally.types import (
    AreaResult,
    Certification,
    CertificationStatus,
    ContestResult,
    Embargo,
    Progress,
    Results,
    StationResult,
    StationStatus,
)

CHOICES = ["Party A", "Party B", "Party C"]
DESCRIBED = {
    "code": "GE2027",
    "name": "General Election 2027",
    "home_country": "XH",
    "polling_day": "2027-04-18",
    "contests": [
        {"code": "NAT", "name": "National list", "votes_allowed": 1, "choices": CHOICES},
        {"code": "REF", "name": "Referendum", "votes_allowed": 1, "choices": ["Yes", "No"]},
    ],
}


def contest(code: str, votes: list[int], blank: int = 0, invalid: int = 0) -> ContestResult:
    names = CHOICES if code == "NAT" else ["Yes", "No"]
    choices = dict(zip(names, votes, strict=True))
    return ContestResult(
        contest=code,
        name="National list" if code == "NAT" else "Referendum",
        votes_allowed=1,
        choices=choices,
        blank=blank,
        invalid=invalid,
        ballots=sum(votes) + blank + invalid,
    )


BER = [contest("NAT", [120, 80, 10], 3, 2), contest("REF", [150, 60], 5, 0)]
DXB = [contest("NAT", [40, 45, 5], 1, 1), contest("REF", [50, 40], 2, 0)]
TOTAL = [contest("NAT", [160, 125, 15], 4, 3), contest("REF", [200, 100], 7, 0)]


def area(
    level: str, code: str, name: str, registered: int, ballots: int, counted: int, expected: int, contests
):
    return AreaResult(
        level=level,
        code=code,
        name=name,
        registered=registered,
        registered_counted=registered,
        ballots=ballots,
        turnout=ballots / registered if registered else None,
        stations_counted=counted,
        stations_expected=expected,
        contests=contests,
    )


def results(certified: bool = False, embargoed: bool = False) -> Results:
    progress = Progress(
        expected=4, received=3, accepted=2, quarantined=1, excluded=0, missing=1, registered_counted=800
    )
    stations = [
        StationResult(
            station="DE-BER-01",
            name="Embassy, Berlin",
            country="DE",
            status=StationStatus.ACCEPTED,
            registered=500,
            checked_in=215,
            in_box=215,
            turnout=0.43,
            contests=BER,
            protocol_sha256="ab" * 32,
            by_constituency={"OV-EU": BER},
        ),
        StationResult(
            station="DE-MUC-01",
            name="Consulate, Munich",
            country="DE",
            status=StationStatus.QUARANTINED,
            registered=200,
            checked_in=0,
            in_box=0,
            turnout=None,
            contests=[],
            protocol_sha256="cd" * 32,
        ),
        StationResult(
            station="AE-DXB-01",
            name="Consulate, Dubai",
            country="AE",
            status=StationStatus.ACCEPTED,
            registered=300,
            checked_in=92,
            in_box=92,
            turnout=92 / 300,
            contests=DXB,
            protocol_sha256="ef" * 32,
            by_constituency={"OV-ME": DXB},
        ),
        StationResult(
            station="AE-AUH-01",
            name="Embassy, Abu Dhabi",
            country="AE",
            status=StationStatus.MISSING,
            registered=100,
            checked_in=0,
            in_box=0,
            turnout=None,
            contests=[],
            protocol_sha256=None,
        ),
    ]
    history = []
    if certified:
        history = [
            Certification(
                number=1,
                certified_at=dt.datetime(2027, 4, 19, 8, 0, tzinfo=dt.UTC),
                tree_size=1234,
                root="00" * 32,
                sha256="11" * 32,
                signers=["to.alice-2027", "to.bob-2027"],
                reason="",
                document={},
            )
        ]
    return Results(
        election="GE2027",
        name="General Election 2027",
        progress=progress,
        total=area("election", "GE2027", "General Election 2027", 1100, 307, 2, 4, TOTAL),
        by_constituency=[
            area("constituency", "OV-EU", "Overseas: Europe", 700, 215, 1, 2, BER),
            area("constituency", "OV-ME", "Overseas: Middle East", 400, 92, 1, 2, DXB),
        ],
        by_country=[
            area("country", "DE", "Germany", 700, 215, 1, 2, BER),
            area("country", "AE", "United Arab Emirates", 400, 92, 1, 2, DXB),
        ],
        stations=stations,
        embargo=Embargo(
            ends_at=dt.datetime(2027, 4, 18, 18, 0, tzinfo=dt.UTC),
            in_force=embargoed,
            protocols="on_submission",
        ),
        certification=CertificationStatus(
            certified=certified,
            latest=history[-1] if history else None,
            history=history,
            current_sha256="11" * 32,
            stale=False,
        ),
    )
