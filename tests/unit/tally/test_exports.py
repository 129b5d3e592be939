"""CSV and JSON exports: every level, the aggregation's figures, and cells a spreadsheet
reads as text."""

from __future__ import annotations

import csv
import dataclasses
import io
import json

from tally import exports
from tests import tally_sample


def _rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_csv_has_every_level_and_adds_up() -> None:
    rows = _rows(exports.to_csv(tally_sample.results()))
    assert {r["level"] for r in rows} == {"election", "constituency", "country", "station"}
    election = {
        r["choice"]: int(r["votes"]) for r in rows if r["level"] == "election" and r["contest"] == "NAT"
    }
    assert election == {"Party A": 160, "Party B": 125, "Party C": 15, "(blank)": 4, "(invalid)": 3}
    stations = [
        r for r in rows if r["level"] == "station" and r["contest"] == "NAT" and r["choice"] == "Party A"
    ]
    assert sum(int(r["votes"]) for r in stations) == 160
    assert {r["station"] for r in stations} == {"DE-BER-01", "AE-DXB-01"}  # accepted ones only
    assert {r["constituency"] for r in stations} == {"OV-EU", "OV-ME"}


def test_a_name_that_would_be_a_formula_stays_text() -> None:
    results = tally_sample.results()
    total = dataclasses.replace(
        results.total, contests=[dataclasses.replace(results.total.contests[0], choices={"=HYPERLINK(1)": 3})]
    )
    text = exports.to_csv(
        dataclasses.replace(results, total=total, by_constituency=[], by_country=[], stations=[])
    )
    assert "'=HYPERLINK(1)" in text


def test_the_json_has_every_level_and_encodes() -> None:
    found = json.loads(json.dumps(exports.to_json(tally_sample.results(certified=True))))
    assert found["total"]["contests"][0]["choices"] == {"Party A": 160, "Party B": 125, "Party C": 15}
    assert [a["code"] for a in found["constituencies"]] == ["OV-EU", "OV-ME"]
    assert [a["code"] for a in found["countries"]] == ["DE", "AE"]
    assert [s["status"] for s in found["stations"]] == ["accepted", "quarantined", "accepted", "missing"]
    assert found["certification"]["signers"] == ["to.alice-2027", "to.bob-2027"]
    assert found["progress"]["missing"] == 1
