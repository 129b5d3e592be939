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


def station(
    code: str,
    name: str,
    status: StationStatus,
    registered: int,
    in_box: int = 0,
    contests: list[ContestResult] | None = None,
    constituency: str | None = None,
    protocol: str | None = None,
) -> StationResult:
    """A station of the sample: every voter checked in put a ballot in the box, and the turnout
    is known once the station is accepted; its contests are those of one constituency."""
    return StationResult(
        station=code,
        name=name,
        country=code[:2],
        status=status,
        registered=registered,
        checked_in=in_box,
        in_box=in_box,
        turnout=in_box / registered if status is StationStatus.ACCEPTED else None,
        contests=contests or [],
        protocol_sha256=protocol,
        by_constituency={constituency: contests or []} if constituency else {},
    )


def results(certified: bool = False, embargoed: bool = False) -> Results:
    progress = Progress(
        expected=4, received=3, accepted=2, quarantined=1, excluded=0, missing=1, registered_counted=800
    )
    stations = [
        station("DE-BER-01", "Embassy, Berlin", StationStatus.ACCEPTED, 500, 215, BER, "OV-EU", "ab" * 32),
        station("DE-MUC-01", "Consulate, Munich", StationStatus.QUARANTINED, 200, protocol="cd" * 32),
        station("AE-DXB-01", "Consulate, Dubai", StationStatus.ACCEPTED, 300, 92, DXB, "OV-ME", "ef" * 32),
        station("AE-AUH-01", "Embassy, Abu Dhabi", StationStatus.MISSING, 100),
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
