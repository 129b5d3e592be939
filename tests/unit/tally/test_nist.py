"""The NIST SP 1500-100 results report validates against NIST's schema and carries the
aggregation's figures, nothing else."""

from __future__ import annotations

import datetime as dt

from tally import nist
from tests import tally_sample


def _counts(report, contest: str, unit: str) -> dict[str, int]:
    found = next(c for c in report["Election"][0]["Contest"] if c["Abbreviation"] == contest)
    names = {c["@id"]: c["BallotName"]["Text"][0]["Content"] for c in report["Election"][0]["Candidate"]}
    return {
        names[s["CandidateIds"][0]]: v["Count"]
        for s in found["ContestSelection"]
        for v in s["VoteCounts"]
        if v["GpUnitId"] == unit
    }


def test_the_report_validates_against_nists_schema() -> None:
    report = nist.document(
        tally_sample.results(), tally_sample.DESCRIBED, dt.datetime(2027, 4, 19, tzinfo=dt.UTC)
    )
    assert nist.problems(report) == []
    assert report["Status"] == "unofficial-partial"
    assert report["GeneratedDate"] == "2027-04-19T00:00:00Z"


def test_a_certified_report_says_so_and_still_validates() -> None:
    report = nist.document(tally_sample.results(certified=True), tally_sample.DESCRIBED)
    assert nist.problems(report) == []
    assert report["Status"] == "certified"
    assert "11" * 32 in report["Notes"]


def test_the_figures_are_the_aggregations_at_every_level() -> None:
    report = nist.document(tally_sample.results(), tally_sample.DESCRIBED)
    assert _counts(report, "NAT", "ru-XH") == {"Party A": 160, "Party B": 125, "Party C": 15}
    assert _counts(report, "NAT", "ru-country-DE") == {"Party A": 120, "Party B": 80, "Party C": 10}
    assert _counts(report, "REF", "ru-constituency-OV-ME") == {"Yes": 50, "No": 40}
    assert _counts(report, "NAT", "ru-station-DE-BER-01") == {"Party A": 120, "Party B": 80, "Party C": 10}
    # A quarantined or missing station is a reporting unit with no figures.
    assert _counts(report, "NAT", "ru-station-DE-MUC-01") == {}
    units = {u["@id"]: u for u in report["GpUnit"]}
    assert units["ru-station-DE-MUC-01"]["Type"] == "polling-place"
    assert units["ru-country-DE"]["ComposingGpUnitIds"] == ["ru-station-DE-BER-01", "ru-station-DE-MUC-01"]
    other = next(c for c in report["Election"][0]["Contest"] if c["Abbreviation"] == "NAT")["OtherCounts"]
    assert {
        "@type": "ElectionResults.OtherCounts",
        "GpUnitId": "ru-XH",
        "Undervotes": 4,
        "Overvotes": 3,
    } in other


def test_the_schema_refuses_what_is_not_a_report() -> None:
    report = nist.document(tally_sample.results(), tally_sample.DESCRIBED)
    del report["Issuer"]
    report["Election"][0]["Contest"][0]["VotesAllowed"] = "one"
    assert len(nist.problems(report)) == 2
