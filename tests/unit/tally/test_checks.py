"""Each reconciliation check, fed a protocol that fails only it (and a protocol that passes
them all). Identities are exact; flags take their tolerance from the election's settings."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from registration.election_file import TALLY_DEFAULTS
from tally.checks import run

STYLES = {"A": ["X", "Y"]}
CONTESTS = {"X": {"votes_allowed": 1}, "Y": {"votes_allowed": 2}}


def good() -> dict[str, Any]:
    return {
        "figures": {
            "voters_on_list": 100,
            "checked_in": 50,
            "tendered": 2,
            "issued": 52,
            "spoiled": 1,
            "unused": 7,
            "received": 60,
            "resupplied": 0,
            "transferred": 0,
            "in_box": 50,
        },
        "ballots": {
            "A": {"received": 60, "resupplied": 0, "transferred": 0, "issued": 52, "spoiled": 1, "unused": 7}
        },
        "contests": {
            "X": {"choices": {"a": 20, "b": 15, "c": 10}, "blank": 3, "invalid": 2},
            "Y": {"choices": {"p": 30, "q": 25, "r": 10}, "blank": 8, "invalid": 2},
        },
        "_voted": {"X": 45, "Y": 40},
        "_double": 0,
        "_settings": {},
    }


def failing(document: dict[str, Any]) -> list[str]:
    voted = document.pop("_voted")
    double = document.pop("_double")
    settings = {**TALLY_DEFAULTS, **document.pop("_settings")}
    results = run(
        document,
        styles=STYLES,
        contests=CONTESTS,
        voted=voted,
        checked_in_by_style={"A": 50},
        voting_rule="assigned_station",
        double_votes=double,
        settings=settings,
    )
    return [r.check for r in results if not r.holds]


def test_a_balanced_protocol_passes_every_check() -> None:
    assert failing(good()) == []


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target = document
        for part in parents:
            target = target[part]
        target[last] = value

    return change


def _both(*changes: Callable[[dict[str, Any]], None]) -> Callable[[dict[str, Any]], None]:
    def change(document: dict[str, Any]) -> None:
        for c in changes:
            c(document)

    return change


CASES = [
    (
        _set("ballots.A.unused", 6),
        "ballot style A: received + resupplied − transferred = issued + spoiled + unused",
    ),
    (_set("figures.tendered", 3), "ballots issued = check-ins + tendered"),
    (_set("figures.in_box", 49), "ballots in the box (counted) = check-ins (issued − tendered, kept apart)"),
    # Check-ins beyond the list are a turnout above 100% too: that flag is widened here.
    (
        _both(_set("figures.voters_on_list", 49), _set("_settings", {"turnout_above": 2.0})),
        "ballots issued ≤ voters on the list + tendered",
    ),
    (_set("_double", 1), "voters marked at this station and another (double votes)"),
    (
        _set("contests.X.blank", 4),
        "X: ballots with votes + blank + invalid = ballots of the styles that carry it",
    ),
    (_set("contests.Y.choices.r", 30), "Y: votes between 1 and 2 per ballot with votes"),
    (_set("figures.voters_on_list", 52), "turnout ≤ 95%"),
    (
        _both(
            _set("contests.X.choices.c", 7), _set("contests.X.invalid", 5), _set("_voted", {"X": 42, "Y": 40})
        ),
        "X: invalid share ≤ 5%",
    ),
    (_set("contests.X.choices", {"a": 44, "b": 1, "c": 0}), "X: no choice above 90% of the votes"),
]


@pytest.mark.parametrize(("change", "check"), CASES, ids=[c for _, c in CASES])
def test_each_check_fails_alone(change: Callable[[dict[str, Any]], None], check: str) -> None:
    document = copy.deepcopy(good())
    change(document)
    assert failing(document) == [check]


def test_a_flag_follows_its_tolerance_from_the_settings() -> None:
    document = good()
    document["figures"]["voters_on_list"] = 52
    document["_settings"] = {"turnout_above": 0.97}
    assert failing(document) == []
