"""Counting after close, in the election's mode: a cast-vote record per ballot (`cvr`),
or the hand count typed in twice by two clerks (`tally_sheet`).

A CVR carries its ballot style and, per contest, the choices marked (by name), or the
contest's place in `invalid` (overvoted, unreadable); a contest in neither was left blank.
It has a random id and nothing else: no voter, no time, no order.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit import service as audit
from ocv.acting import Actor, authorize, record
from ocv.auth.permissions import Permission
from ocv.errors import ValidationError
from polling import events as E
from polling.models import CastVoteRecord, StationState, TallySheet
from polling.stations import Place, require_state

MAX_BATCH = 10_000
MAX_COUNT = 1_000_000


def contests_of(where: Place) -> dict[str, Any]:
    """Contest code → the registry's contest (its choices and votes allowed)."""
    return {c.code: c for c in where.election.contests}


def require_mode(where: Place, mode: str) -> None:
    if where.election.counting != mode:
        raise ValidationError(f"{where.election.code} counts by {where.election.counting.replace('_', ' ')}.")


# --- cast-vote records -------------------------------------------------------------------


def _ballot(where: Place, raw: Any, at: str) -> tuple[str, dict[str, list[str]], list[str]]:
    """One CVR's (style, selections, invalid), or ValidationError naming what is wrong."""
    styles, contests = where.styles(), contests_of(where)
    if not isinstance(raw, Mapping) or set(raw) - {"ballot_style", "votes", "invalid"}:
        raise ValidationError(
            f"{at}: a CVR is {{ballot_style, votes, invalid}}.", {at: ["Unexpected members."]}
        )
    style = raw.get("ballot_style")
    if style not in styles:
        raise ValidationError(f"{at}: {style!r} is not a ballot style here.", {at: ["Unknown ballot style."]})
    votes, invalid = raw.get("votes") or {}, raw.get("invalid") or []
    if not isinstance(votes, Mapping) or not isinstance(invalid, Sequence) or isinstance(invalid, str):
        raise ValidationError(
            f"{at}: votes is {{contest: [choices]}}, invalid a list of contests.", {at: ["Malformed."]}
        )
    carried = set(styles[style])
    problems = [f"{c!r} is not on ballot style {style}" for c in [*votes, *invalid] if c not in carried]
    problems += [f"{c} is both voted and invalid" for c in votes if c in invalid]
    for code, choices in votes.items():
        contest = contests.get(code)
        if contest is None or code not in carried:
            continue
        if not isinstance(choices, list) or not all(isinstance(c, str) for c in choices):
            problems.append(f"{code}: list the choices by name")
        elif len(set(choices)) != len(choices):
            problems.append(f"{code}: a choice is marked twice")
        elif len(choices) > contest.votes_allowed:
            problems.append(
                f"{code}: {len(choices)} marks for {contest.votes_allowed} allowed: record it as invalid"
            )
        else:
            problems += [f"{code}: {c!r} is not a choice" for c in choices if c not in contest.choices]
    if problems:
        raise ValidationError(f"{at}: {problems[0]}.", {at: problems})
    selections = {code: sorted(choices) for code, choices in votes.items() if choices}
    return style, selections, sorted(set(invalid))


def cvr_leaf(cvr: CastVoteRecord) -> dict[str, Any]:
    """A CVR as published and hashed into the station's CVR root."""
    return {"id": cvr.id, "ballot_style": cvr.ballot_style, "votes": cvr.selections, "invalid": cvr.invalid}


def add_cvrs(session: Session, actor: Actor, where: Place, items: Any) -> int:
    """Store a batch of CVRs (all or none) and log its size and Merkle root."""
    authorize(actor, Permission.CHECK_IN_VOTERS, where.code)
    require_state(where, StationState.CLOSED)
    require_mode(where, "cvr")
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH:
        raise ValidationError(f"Send 1 to {MAX_BATCH:,} CVRs.", {"cvrs": ["Expected a list of CVRs."]})
    batch = []
    for i, raw in enumerate(items):
        style, selections, invalid = _ballot(where, raw, f"cvrs[{i}]")
        cvr = CastVoteRecord(
            id=secrets.token_hex(16),
            polling_station_id=where.polling.id,
            ballot_style=style,
            selections=selections,
            invalid=invalid,
        )
        batch.append(cvr)
    session.add_all(batch)
    root = audit.MerkleRootBuilder()
    for cvr in sorted(batch, key=lambda c: c.id):  # random ids: the order says nothing
        root.add(audit.canonical_json(cvr_leaf(cvr)))
    payload = {"station": where.code, "count": len(batch), "root": root.root().hex()}
    record(session, E.BALLOTS_COUNTED, actor, where.scope(), payload)
    return len(batch)


def station_cvrs(session: Session, where: Place) -> list[CastVoteRecord]:
    """The station's CVRs in id order (random ids, so no order of casting)."""
    return list(
        session.scalars(
            select(CastVoteRecord)
            .where(CastVoteRecord.polling_station_id == where.polling.id)
            .order_by(CastVoteRecord.id)
        )
    )


# --- tally sheets ------------------------------------------------------------------------


def _sheet(where: Place, raw: Any) -> dict[str, Any]:
    """`{"ballots_in_box": n, "contests": {code: {"choices": {name: n}, "blank": n, "invalid": n}}}`
    with every contest of the station's styles and every choice."""
    contests = contests_of(where)
    carried = sorted({c for codes in where.styles().values() for c in codes})

    def count(value: Any, at: str) -> int:
        if type(value) is not int or not 0 <= value <= MAX_COUNT:
            raise ValidationError(f"{at}: a whole number from 0 to {MAX_COUNT:,}.", {at: ["A count."]})
        return value

    if not isinstance(raw, Mapping) or not isinstance(raw.get("contests"), Mapping):
        raise ValidationError("A tally sheet is {ballots_in_box, contests}.", {"contests": ["Missing."]})
    sheet: dict[str, Any] = {
        "ballots_in_box": count(raw.get("ballots_in_box"), "ballots_in_box"),
        "contests": {},
    }
    given = raw["contests"]
    for code in carried:
        entry = given.get(code)
        if not isinstance(entry, Mapping) or not isinstance(entry.get("choices"), Mapping):
            raise ValidationError(
                f"contests.{code}: give its choices, blank and invalid.", {f"contests.{code}": ["Missing."]}
            )
        choices = entry["choices"]
        names = list(contests[code].choices)
        if set(choices) != set(names):
            raise ValidationError(
                f"contests.{code}: give every choice, by name.", {f"contests.{code}": names}
            )
        sheet["contests"][code] = {
            "choices": {n: count(choices[n], f"contests.{code}.{n}") for n in names},
            "blank": count(entry.get("blank"), f"contests.{code}.blank"),
            "invalid": count(entry.get("invalid"), f"contests.{code}.invalid"),
        }
    unknown = set(given) - set(carried)
    if unknown:
        raise ValidationError(
            f"Not contests here: {', '.join(sorted(unknown))}.", {"contests": sorted(unknown)}
        )
    return sheet


def enter_tally_sheet(session: Session, actor: Actor, where: Place, raw: Any) -> TallySheet:
    """One clerk's entry of the hand count (a second entry by the same clerk replaces theirs)."""
    authorize(actor, Permission.CHECK_IN_VOTERS, where.code)
    require_state(where, StationState.CLOSED)
    require_mode(where, "tally_sheet")
    figures = _sheet(where, raw)
    sheet = session.scalar(
        select(TallySheet).where(
            TallySheet.polling_station_id == where.polling.id, TallySheet.clerk == actor.name
        )
    )
    if sheet is None:
        sheet = TallySheet(polling_station_id=where.polling.id, clerk=actor.name, figures=figures)
        session.add(sheet)
    else:
        sheet.figures = figures
    digest = audit.document_digest(figures)
    record(
        session,
        E.TALLY_SHEET_ENTERED,
        actor,
        where.scope(),
        {"station": where.code, "clerk": actor.name, "sha256": digest},
    )
    return sheet


def agreed_sheet(session: Session, where: Place) -> tuple[dict[str, Any] | None, str]:
    """The figures two different clerks entered alike, or None and why not."""
    sheets = session.scalars(
        select(TallySheet).where(TallySheet.polling_station_id == where.polling.id)
    ).all()
    if len(sheets) < 2:
        return None, f"{len(sheets)} of the 2 entries by different clerks are in."
    first = sheets[0].figures
    if any(s.figures != first for s in sheets[1:]):
        return None, "The entries differ: each clerk checks and enters the count again."
    return first, ""


# --- figures for the tally ---------------------------------------------------------------

# Per station × ballot style: votes per (contest, choice) with, among them, the ballots'
# first choice in the contest (summed per contest: the ballots with a vote in it), invalid
# per contest ("(invalid)") and ballots ("", "(ballots)"). One statement: one pass over the
# CVRs' selections, JSON expanded in SQL, so the tally adds up millions of ballots without
# loading one into Python.
_FIGURES = {
    "postgresql": """
SELECT ps.station_code, c.ballot_style, s.key, v.value, count(*), count(*) FILTER (WHERE v.n = 1)
  FROM cvrs c JOIN polling_stations ps ON ps.id = c.polling_station_id
 CROSS JOIN LATERAL json_each(c.selections) s
 CROSS JOIN LATERAL json_array_elements_text(s.value) WITH ORDINALITY v(value, n)
 WHERE ps.election_code = :election {where}
 GROUP BY ps.station_code, c.ballot_style, s.key, v.value
UNION ALL
SELECT ps.station_code, c.ballot_style, i.value, '(invalid)', count(*), 0
  FROM cvrs c JOIN polling_stations ps ON ps.id = c.polling_station_id
 CROSS JOIN LATERAL json_array_elements_text(c.invalid) i(value)
 WHERE ps.election_code = :election {where} AND c.invalid::text <> '[]'
 GROUP BY ps.station_code, c.ballot_style, i.value
UNION ALL
SELECT ps.station_code, c.ballot_style, '', '(ballots)', count(*), 0
  FROM cvrs c JOIN polling_stations ps ON ps.id = c.polling_station_id
 WHERE ps.election_code = :election {where}
 GROUP BY ps.station_code, c.ballot_style
""",
    "sqlite": """
SELECT ps.station_code, c.ballot_style, s.key, v.value, count(*), sum(v.key = 0)
  FROM cvrs c JOIN polling_stations ps ON ps.id = c.polling_station_id,
       json_each(c.selections) s, json_each(s.value) v
 WHERE ps.election_code = :election {where}
 GROUP BY ps.station_code, c.ballot_style, s.key, v.value
UNION ALL
SELECT ps.station_code, c.ballot_style, i.value, '(invalid)', count(*), 0
  FROM cvrs c JOIN polling_stations ps ON ps.id = c.polling_station_id, json_each(c.invalid) i
 WHERE ps.election_code = :election {where} AND c.invalid <> '[]'
 GROUP BY ps.station_code, c.ballot_style, i.value
UNION ALL
SELECT ps.station_code, c.ballot_style, '', '(ballots)', count(*), 0
  FROM cvrs c JOIN polling_stations ps ON ps.id = c.polling_station_id
 WHERE ps.election_code = :election {where}
 GROUP BY ps.station_code, c.ballot_style
""",
}


def figures_sql(dialect: str, one_station: bool) -> str:
    where = "AND ps.station_code = :station" if one_station else ""
    return _FIGURES["postgresql" if dialect == "postgresql" else "sqlite"].format(where=where)


def cvr_figures(
    session: Session, election: str, station: str | None = None
) -> list[tuple[str, str, str, str, int]]:
    """(station, ballot style, contest, choice or a "(…)" marker, count) rows; "(voted)"
    counts the ballots with at least one vote in the contest."""
    from sqlalchemy import text

    sql = figures_sql(session.get_bind().dialect.name, station is not None)
    params = {"election": election, **({"station": station} if station else {})}
    rows: list[tuple[str, str, str, str, int]] = []
    voted: dict[tuple[str, str, str], int] = {}
    for station_code, style, contest, choice, n, firsts in session.execute(text(sql), params):
        rows.append((station_code, style, contest, choice, int(n)))
        if firsts:
            key = (station_code, style, contest)
            voted[key] = voted.get(key, 0) + int(firsts)
    rows += [(a, b, c, "(voted)", n) for (a, b, c), n in voted.items()]
    return rows
