"""The election definition file (docs/election-file.md): parsed and checked as a whole,
so a file with any problem loads nothing and every problem is reported at once."""

from __future__ import annotations

import datetime as dt
import re
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

from ocv.bounds import INT32_MAX
from ocv.text import TextError, clean
from registration.errors import ElectionFileError

# \Z, not $: `$` also matches before a final line break.
CODE = re.compile(r"[A-Z0-9][A-Z0-9_-]{0,31}\Z")
COUNTRY = re.compile(r"[A-Z]{2}\Z")
HHMM = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]\Z")
DEFAULT_CAPACITY = 5000


@dataclass
class Problems:
    fields: dict[str, list[str]] = field(default_factory=dict)

    def add(self, path: str, message: str) -> None:
        self.fields.setdefault(path, []).append(message)

    def raise_if_any(self) -> None:
        if self.fields:
            count = sum(len(v) for v in self.fields.values())
            raise ElectionFileError(f"The election file has {count} problem(s).", self.fields)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


class _Reader:
    """Typed access to a JSON object that records what is missing or wrong."""

    def __init__(self, problems: Problems) -> None:
        self.problems = problems

    def get(self, obj: Any, path: str, key: str, kind: type, default: Any = ...) -> Any:
        where = _join(path, key)
        if not isinstance(obj, dict) or key not in obj:
            if default is ...:
                self.problems.add(where, "is required")
            return None if default is ... else default
        value = obj[key]
        # bool is an int in Python, never in an election file.
        if (kind is int and isinstance(value, bool)) or not isinstance(value, kind):
            self.problems.add(where, f"must be a {kind.__name__}")
            return None
        return value

    def text(self, obj: Any, path: str, key: str, limit: int) -> str | None:
        """A string that passes the text check and fits its column."""
        value = self.get(obj, path, key, str)
        return None if value is None else self.checked(value, _join(path, key), limit)

    def checked(self, value: str, where: str, limit: int) -> str | None:
        try:
            value = clean(value)
        except TextError as error:
            reason = str(error).rstrip(".")
            self.problems.add(where, reason[0].lower() + reason[1:])
            return None
        if len(value) > limit:
            self.problems.add(where, f"must be at most {limit} characters")
            return None
        return value

    def code(self, obj: Any, path: str, key: str = "code", pattern: re.Pattern[str] = CODE) -> str | None:
        value = self.get(obj, path, key, str)
        if value is not None and not pattern.match(value):
            self.problems.add(_join(path, key), f"{value!r} is not a valid code")
            return None
        return value

    def date(self, obj: Any, path: str, key: str) -> dt.date | None:
        value = self.get(obj, path, key, str)
        if value is None:
            return None
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            self.problems.add(_join(path, key), "must be a date YYYY-MM-DD")
            return None


def _unique(problems: Problems, path: str, codes: list[str | None]) -> set[str]:
    seen: set[str] = set()
    for code in codes:
        if code is None:
            continue
        if code in seen:
            problems.add(path, f"code {code!r} appears twice")
        seen.add(code)
    return seen


def parse(data: Any) -> dict[str, Any]:
    """Check an election definition; return it normalized, or raise ElectionFileError."""
    problems = Problems()
    r = _Reader(problems)
    if not isinstance(data, dict):
        problems.add("", "the file must hold one JSON object")
        problems.raise_if_any()
    election: dict[str, Any] = {
        "code": r.code(data, "", "code"),
        "name": r.text(data, "", "name", 200),
        "home_country": r.code(data, "", "home_country", COUNTRY),
        "polling_day": r.date(data, "", "polling_day"),
        "voting_rule": r.get(data, "", "voting_rule", str, "assigned_station"),
        "counting": r.get(data, "", "counting", str, "cvr"),
    }
    if election["voting_rule"] not in ("assigned_station", "any_station", None):
        problems.add("voting_rule", "must be 'assigned_station' or 'any_station'")
    if election["counting"] not in ("cvr", "tally_sheet", None):
        problems.add("counting", "must be 'cvr' or 'tally_sheet'")
    rules = r.get(data, "", "eligibility", dict) or {}
    election["minimum_age"] = age = r.get(rules, "eligibility", "minimum_age", int, 18)
    if isinstance(age, int) and not 0 <= age <= 120:
        problems.add("eligibility.minimum_age", "must be between 0 and 120")
    documents = r.get(rules, "eligibility", "documents", dict) or {}
    accepted = r.get(documents, "eligibility.documents", "accepted", list) or []
    if not accepted or not all(isinstance(d, str) and d for d in accepted):
        problems.add("eligibility.documents.accepted", "must list at least one document type")
    else:
        accepted = [r.checked(d, "eligibility.documents.accepted", 32) for d in accepted]
    election["accepted_documents"] = accepted
    required = r.get(documents, "eligibility.documents", "required", int, 1)
    if isinstance(required, int) and not 0 <= required <= max(len(accepted), 1):
        problems.add("eligibility.documents.required", "must be between 0 and the number accepted")
    election["documents_required"] = required

    contests = []
    for i, item in enumerate(r.get(data, "", "contests", list) or []):
        path = f"contests[{i}]"
        choices = r.get(item, path, "choices", list) or []
        votes = r.get(item, path, "votes_allowed", int, 1)
        if not choices or not all(isinstance(c, str) and c.strip() for c in choices):
            problems.add(f"{path}.choices", "must list the choices by name")
        else:
            choices = [r.checked(c, f"{path}.choices", 200) for c in choices]
        if isinstance(votes, int) and not 1 <= votes <= max(len(choices), 1):
            problems.add(f"{path}.votes_allowed", "must be between 1 and the number of choices")
        contests.append(
            {
                "code": r.code(item, path),
                "name": r.text(item, path, "name", 200),
                "votes_allowed": votes,
                "choices": choices,
            }
        )
    contest_codes = _unique(problems, "contests", [c["code"] for c in contests])

    constituencies = []
    for i, item in enumerate(r.get(data, "", "constituencies", list) or []):
        path = f"constituencies[{i}]"
        kind = r.get(item, path, "kind", str)
        if kind not in ("home", "overseas", None):
            problems.add(f"{path}.kind", "must be 'home' or 'overseas'")
        constituencies.append(
            {"code": r.code(item, path), "name": r.text(item, path, "name", 200), "kind": kind}
        )
    constituency_codes = _unique(problems, "constituencies", [c["code"] for c in constituencies])

    styles: list[dict[str, Any]] = []
    styled: dict[str, str] = {}
    for i, item in enumerate(r.get(data, "", "ballot_styles", list) or []):
        path = f"ballot_styles[{i}]"
        code = r.code(item, path)
        for key, known in (("contests", contest_codes), ("constituencies", constituency_codes)):
            for ref in r.get(item, path, key, list) or []:
                if ref not in known:
                    problems.add(f"{path}.{key}", f"{ref!r} is not defined")
        for ref in r.get(item, path, "constituencies", list) or []:
            if ref in styled:
                problems.add(f"{path}.constituencies", f"{ref!r} already has ballot style {styled[ref]}")
            styled[ref] = code or "?"
        styles.append(
            {
                "code": code,
                "contests": r.get(item, path, "contests", list) or [],
                "constituencies": r.get(item, path, "constituencies", list) or [],
            }
        )
    _unique(problems, "ballot_styles", [s["code"] for s in styles])
    for code in sorted(constituency_codes - set(styled)):
        problems.add("ballot_styles", f"constituency {code!r} has no ballot style")

    countries: list[dict[str, Any]] = []
    for i, item in enumerate(r.get(data, "", "host_countries", list) or []):
        path = f"host_countries[{i}]"
        days = []
        for j, day in enumerate(r.get(item, path, "polling_days", list) or []):
            dpath = f"{path}.polling_days[{j}]"
            date = r.date(day, dpath, "date")
            opens, closes = r.get(day, dpath, "opens", str), r.get(day, dpath, "closes", str)
            for key, value in (("opens", opens), ("closes", closes)):
                if value is not None and not HHMM.match(value):
                    problems.add(f"{dpath}.{key}", "must be a time HH:MM")
            if opens and closes and HHMM.match(opens) and HHMM.match(closes) and opens >= closes:
                problems.add(dpath, "must close after it opens")
            days.append({"date": date.isoformat() if date else None, "opens": opens, "closes": closes})
        if not days:
            problems.add(f"{path}.polling_days", "must list at least one polling day")
        countries.append(
            {
                "code": r.code(item, path, pattern=COUNTRY),
                "name": r.text(item, path, "name", 100),
                "polling_days": days,
            }
        )
    country_codes = _unique(problems, "host_countries", [c["code"] for c in countries])

    stations = []
    for i, item in enumerate(r.get(data, "", "stations", list) or []):
        path = f"stations[{i}]"
        country = r.get(item, path, "country", str)
        if country is not None and country not in country_codes:
            problems.add(f"{path}.country", f"{country!r} is not a host country of this election")
        zone = r.text(item, path, "time_zone", 64)
        if zone is not None:
            try:
                zoneinfo.ZoneInfo(zone)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                problems.add(f"{path}.time_zone", f"{zone!r} is not an IANA time zone")
        capacity = r.get(item, path, "capacity", int, DEFAULT_CAPACITY)
        if isinstance(capacity, int) and not 1 <= capacity <= INT32_MAX:
            problems.add(f"{path}.capacity", f"must be between 1 and {INT32_MAX}")
        stations.append(
            {
                "code": r.code(item, path),
                "name": r.text(item, path, "name", 200),
                "country": country,
                "city": r.text(item, path, "city", 100),
                "address": r.text(item, path, "address", 300),
                "time_zone": zone,
                "capacity": capacity,
            }
        )
    _unique(problems, "stations", [s["code"] for s in stations])
    for name, items in (
        ("constituencies", constituencies),
        ("contests", contests),
        ("host_countries", countries),
        ("stations", stations),
    ):
        if not items:
            problems.add(name, "must list at least one")
    election["tally"] = _tally_settings(r, problems, r.get(data, "", "tally", dict, {}) or {})
    problems.raise_if_any()
    return {
        **election,
        "contests": contests,
        "constituencies": constituencies,
        "ballot_styles": styles,
        "host_countries": countries,
        "stations": stations,
    }


# The tally's settings (docs/election-file.md, "tally"): when results may be published, when
# station protocols are, and the tolerances of the statistical flags. Arithmetic identities
# have no tolerance and no setting.
TALLY_DEFAULTS: dict[str, Any] = {
    "home_polls_close": None,  # RFC 3339; None: the end of polling_day, UTC
    "protocols_public": "on_submission",
    "turnout_above": 0.95,
    "invalid_share_above": 0.05,
    "choice_share_above": 0.9,
}


def _tally_settings(r: _Reader, problems: Problems, raw: dict[str, Any]) -> dict[str, Any]:
    settings = dict(TALLY_DEFAULTS)
    for key in set(raw) - set(TALLY_DEFAULTS):
        problems.add(f"tally.{key}", "is not a tally setting")
    close = raw.get("home_polls_close")
    if close is not None:
        try:
            moment = dt.datetime.fromisoformat(close) if isinstance(close, str) else None
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            problems.add("tally.home_polls_close", "must be a date and time with its offset (RFC 3339)")
        else:
            settings["home_polls_close"] = moment.astimezone(dt.UTC).isoformat().replace("+00:00", "Z")
    rule = raw.get("protocols_public", settings["protocols_public"])
    if rule not in ("on_submission", "with_results"):
        problems.add("tally.protocols_public", "must be 'on_submission' or 'with_results'")
    settings["protocols_public"] = rule
    for key in ("turnout_above", "invalid_share_above", "choice_share_above"):
        value = raw.get(key, settings[key])
        if type(value) not in (int, float) or not 0 <= value <= 1:
            problems.add(f"tally.{key}", "must be a share between 0 and 1")
        else:
            settings[key] = float(value)
    return settings
