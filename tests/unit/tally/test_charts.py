"""Server-drawn SVG charts: a titled, described image, its text escaped."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from tally import charts

SVG = "{http://www.w3.org/2000/svg}"


def _parse(svg: object) -> ET.Element:
    return ET.fromstring(str(svg))  # noqa: S314 (our own output, not untrusted data)


def test_bars_are_an_image_with_a_title_and_its_figures_in_words() -> None:
    svg = _parse(charts.bars("National list", [("Party A", 160), ("Party B", 125), ("<b>", 15)]))
    assert svg.get("role") == "img"
    title, desc = svg.find(f"{SVG}title"), svg.find(f"{SVG}desc")
    assert title is not None
    assert title.text == "National list"
    assert desc is not None
    assert desc.text == "Party A: 160 (53.3%); Party B: 125 (41.7%); <b>: 15 (5.0%)"
    assert set(svg.get("aria-labelledby").split()) == {title.get("id"), desc.get("id")}
    widths = [float(r.get("width")) for r in svg.iter(f"{SVG}rect")]
    assert widths[0] > widths[1] > widths[2] > 0


def test_bars_mirror_for_a_right_to_left_page() -> None:
    ltr = _parse(charts.bars("x", [("A", 2), ("B", 1)]))
    rtl = _parse(charts.bars("x", [("A", 2), ("B", 1)], rtl=True))
    left, right = next(ltr.iter(f"{SVG}rect")), next(rtl.iter(f"{SVG}rect"))
    assert float(left.get("x")) == charts.LABEL  # growing rightwards from the label
    assert float(right.get("x")) + float(right.get("width")) == charts.WIDTH - charts.LABEL


def test_progress_stacks_the_stations_and_survives_none() -> None:
    labels = {"accepted": "Accepted", "missing": "Missing"}
    svg = _parse(str(charts.progress("Reporting", {"accepted": 3, "quarantined": 1, "missing": 4}, labels)))
    assert [float(r.get("width")) for r in svg.iter(f"{SVG}rect")] == [120.0, 40.0, 160.0]
    assert "Accepted: 3" in svg.find(f"{SVG}desc").text
    empty = _parse(charts.progress("Reporting", {}, labels))
    assert len(list(empty.iter(f"{SVG}rect"))) == 1
