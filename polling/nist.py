"""A scanner's NIST SP 1500-103 cast vote record report, read into our CVRs.

The report must validate against NIST's schema (`polling/schemas/`). Its contests are
matched to the election's by `Name` (or `Abbreviation`), choices by the candidate's
`Name` or the ballot measure's `Selection`, ballot styles by `BallotStyleId`. Of each
CVR the current snapshot counts; a contest with overvotes is invalid.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from jsonschema import Draft4Validator

from ocv.errors import ValidationError

SCHEMA = Path(__file__).parent / "schemas" / "NIST_V0_cast_vote_records.json"


@functools.cache
def _validator() -> Draft4Validator:
    return Draft4Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))


def is_report(data: Any) -> bool:
    return isinstance(data, dict) and data.get("@type") == "CVR.CastVoteRecordReport"


def cvrs_of(report: Any) -> list[dict[str, Any]]:
    """Our CVRs (`{ballot_style, votes, invalid}`) of a CVR report; ValidationError names
    the first problem with the report."""
    errors = sorted(_validator().iter_errors(report), key=lambda e: list(e.absolute_path))
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path) or "the report"
        raise ValidationError(
            f"Not a NIST SP 1500-103 CVR report: {where}: {errors[0].message}", {"cvrs": [where]}
        )
    names: dict[str, str] = {}  # @id → our name, for contests and selections
    for election in report["Election"]:
        candidates = {c["@id"]: c.get("Name", c["@id"]) for c in election.get("Candidate", [])}
        for contest in election["Contest"]:
            names[contest["@id"]] = contest.get("Name") or contest.get("Abbreviation") or contest["@id"]
            for selection in contest["ContestSelection"]:
                if "Selection" in selection:
                    names[selection["@id"]] = selection["Selection"]
                else:
                    ids = selection.get("CandidateIds") or []
                    names[selection["@id"]] = (
                        " & ".join(candidates.get(i, i) for i in ids) or selection["@id"]
                    )
    return [_cvr(cvr, names) for cvr in report.get("CVR", [])]


def _cvr(cvr: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    current = next((s for s in cvr["CVRSnapshot"] if s["@id"] == cvr["CurrentSnapshotId"]), None)
    if current is None:
        raise ValidationError(
            "A CVR's CurrentSnapshotId names none of its snapshots.", {"cvrs": ["CurrentSnapshotId"]}
        )
    votes: dict[str, list[str]] = {}
    invalid: list[str] = []
    for contest in current.get("CVRContest", []):
        code = names.get(contest["ContestId"], contest["ContestId"])
        if contest.get("Overvotes", 0) > 0:
            invalid.append(code)
            continue
        marked = [
            names.get(s.get("ContestSelectionId", ""), s.get("ContestSelectionId", ""))
            for s in contest.get("CVRContestSelection", [])
            if any(
                p["HasIndication"] == "yes" and p["NumberVotes"] > 0 and p.get("IsAllocable") != "no"
                for p in s["SelectionPosition"]
            )
        ]
        if marked:
            votes[code] = marked
    return {"ballot_style": cvr.get("BallotStyleId", ""), "votes": votes, "invalid": invalid}
