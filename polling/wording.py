"""Polling's words as people read them: a station's state by name (never the stored
value), counts with their plural forms, and the protocol's checks in the reader's
language. The stored values and the signed document stay English; only the display
changes (the registry's `term` filter does the same for its words)."""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from polling.models import StationState

STATE_NAMES = {
    StationState.SETUP: _l("being set up"),
    StationState.POLLING: _l("open for voting"),
    StationState.PAUSED: _l("closed for the night"),
    StationState.CLOSED: _l("closed: counting"),
    StationState.COUNTED: _l("counted: the protocol awaits its signature"),
    StationState.SIGNED: _l("protocol signed"),
    StationState.SUBMITTED: _l("protocol submitted"),
}


def state_name(state: str) -> str:
    """The name of a station's state in the reader's language; an unknown one as it is."""
    try:
        return str(STATE_NAMES[StationState(state)])
    except ValueError:
        return state


def voters(n: int) -> str:
    return ngettext("%(num)d voter", "%(num)d voters", n)


def ballots(n: int) -> str:
    return ngettext("%(num)d ballot paper", "%(num)d ballot papers", n)


def check_ins(n: int) -> str:
    return ngettext("%(num)d check-in", "%(num)d check-ins", n)


def cvrs(n: int) -> str:
    return ngettext("%(num)d cast-vote record", "%(num)d cast-vote records", n)


def hours(h: float) -> str:
    """A projected run-out time: "1.5 hours" at the last hour's rate."""
    whole = float(h).is_integer()
    shown = int(h) if whole else h
    count = int(h) if whole else 2  # a fraction reads as plural
    return ngettext(
        "%(h)s hour at the last hour's rate", "%(h)s hours at the last hour's rate", count, h=shown
    )


# The protocol's checks (polling/protocol.py names them in English, in the signed document).
_CHECKS: list[tuple[re.Pattern[str], Any]] = [
    (
        re.compile(
            r"ballot style (?P<style>\S+): received \+ resupplied − transferred = issued \+ spoiled \+ unused"
        ),
        _l("ballot style %(style)s: received + resupplied − sent out = issued + spoiled + unused"),
    ),
    (
        re.compile(r"ballots issued = check-ins \+ tendered"),
        _l("ballots issued = check-ins + tendered ballots"),
    ),
    (re.compile(r"ballots in the box = check-ins"), _l("ballots in the box = check-ins")),
    (re.compile(r"check-ins ≤ voters on the list"), _l("check-ins ≤ voters on the list")),
    (
        re.compile(r"(?P<contest>\S+): voted \+ blank \+ invalid = ballots carrying it"),
        _l("%(contest)s: voted + blank + invalid = ballots carrying it"),
    ),
    (
        re.compile(r"(?P<contest>\S+): votes between 1 and (?P<allowed>\d+) per valid ballot"),
        _l("%(contest)s: between 1 and %(allowed)s votes per valid ballot"),
    ),
]


def check_name(check: str) -> str:
    """A protocol check in the reader's language; one this list does not know, as signed."""
    for pattern, label in _CHECKS:
        found = pattern.fullmatch(check)
        if found:
            return str(label) % found.groupdict() if found.groupdict() else str(label)
    return check


def register(bp: Blueprint) -> None:
    """The template filters and helpers polling's pages use, for every template."""
    bp.add_app_template_filter(state_name, "station_state")
    bp.add_app_template_filter(check_name, "check_name")
    for name, helper in (
        ("n_voters", voters),
        ("n_ballots", ballots),
        ("n_check_ins", check_ins),
        ("n_cvrs", cvrs),
        ("n_hours", hours),
    ):
        bp.add_app_template_global(helper, name)
