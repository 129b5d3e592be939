"""The reconciliation checks, per station and contest, each with its figures.

Three kinds:
- `verification`: the protocol can be trusted (signatures, CVR root, figures recomputed,
  log inclusion) — computed by tally.intake and passed in here;
- `identity`: arithmetic that must hold exactly — no tolerance, no setting;
- `flag`: statistical, with a tolerance from the election's settings (election file,
  "tally").
A station is accepted only if every check holds; any failure quarantines it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tally.types import CheckResult


def identity(
    name: str, left: int, right: int, *, holds: bool | None = None, contest: str | None = None
) -> CheckResult:
    return CheckResult(name, "identity", left, right, left == right if holds is None else holds, contest)


def _flag(
    name: str, share: float, tolerance: float, contest: str | None = None, detail: str = ""
) -> CheckResult:
    return CheckResult(
        name, "flag", round(share, 4), tolerance, share <= tolerance, contest, tolerance, detail
    )


def run(
    document: Mapping[str, Any],
    *,
    styles: Mapping[str, list[str]],
    contests: Mapping[str, Mapping[str, Any]],
    voted: Mapping[str, int] | None,
    checked_in_by_style: Mapping[str, int],
    voting_rule: str,
    double_votes: int,
    settings: Mapping[str, Any],
) -> list[CheckResult]:
    """Every identity and flag over a protocol document (polling.protocol's shape).

    `styles`: ballot style → contests it carries; `contests`: code → {votes_allowed};
    `checked_in_by_style`: the marked register's check-ins per style (ballots in the box);
    `voted`: ballots with at least one vote per contest, as counted from the CVRs (None
    for a tally sheet, which does not say: votes_allowed bounds are then checked instead).
    """
    figures, ballots = document["figures"], document["ballots"]
    results: list[CheckResult] = []
    for style, b in sorted(ballots.items()):
        results.append(
            identity(
                f"ballot style {style}: received + resupplied − transferred = issued + spoiled + unused",
                b["received"] + b["resupplied"] - b["transferred"],
                b["issued"] + b["spoiled"] + b["unused"],
            )
        )
    issued = sum(b["issued"] for b in ballots.values())
    results.append(
        identity("ballots issued = check-ins + tendered", issued, figures["checked_in"] + figures["tendered"])
    )
    results.append(
        identity(
            "ballots in the box (counted) = check-ins (issued − tendered, kept apart)",
            figures["in_box"],
            figures["checked_in"],
        )
    )
    if voting_rule == "assigned_station":
        bound = figures["voters_on_list"] + figures["tendered"]
        results.append(
            identity("ballots issued ≤ voters on the list + tendered", issued, bound, holds=issued <= bound)
        )
    results.append(identity("voters marked at this station and another (double votes)", double_votes, 0))
    for code, result in sorted(document["contests"].items()):
        carrying = sum(checked_in_by_style.get(s, 0) for s, carried in styles.items() if code in carried)
        allowed = int(contests[code]["votes_allowed"])
        votes = sum(result["choices"].values())
        blank, invalid = result["blank"], result["invalid"]
        if voted is not None or allowed == 1:
            with_votes = voted.get(code, 0) if voted is not None else votes
            results.append(
                identity(
                    f"{code}: ballots with votes + blank + invalid = ballots of the styles that carry it",
                    with_votes + blank + invalid,
                    carrying,
                    contest=code,
                )
            )
            results.append(
                identity(
                    f"{code}: votes between 1 and {allowed} per ballot with votes",
                    votes,
                    with_votes,
                    holds=with_votes <= votes <= allowed * with_votes,
                    contest=code,
                )
            )
        else:
            valid = carrying - blank - invalid
            results.append(
                identity(
                    f"{code}: votes between 1 and {allowed} per valid ballot",
                    votes,
                    valid,
                    holds=0 <= valid <= votes <= allowed * valid,
                    contest=code,
                )
            )
        counted = votes + blank + invalid
        if counted:
            results.append(
                _flag(
                    f"{code}: invalid share ≤ {settings['invalid_share_above']:.0%}",
                    invalid / max(blank + invalid + (voted or {}).get(code, votes if allowed == 1 else 0), 1),
                    settings["invalid_share_above"],
                    code,
                )
            )
        if votes:
            top, most = max(result["choices"].items(), key=lambda item: item[1])
            results.append(
                _flag(
                    f"{code}: no choice above {settings['choice_share_above']:.0%} of the votes",
                    most / votes,
                    settings["choice_share_above"],
                    code,
                    top,
                )
            )
    on_list = figures["voters_on_list"]
    if on_list:
        results.append(
            _flag(
                f"turnout ≤ {settings['turnout_above']:.0%}",
                figures["checked_in"] / on_list,
                settings["turnout_above"],
            )
        )
    return results
