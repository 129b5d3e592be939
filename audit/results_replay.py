"""The verifier's recount: the result recomputed from the log alone — the signed station
protocols, the tally's acceptances, exclusions and resolutions — and compared with every
certified result (`tally.results_certified`). Part of ocv-verify: no Flask, no database.

What must hold, or the bundle fails:
- an accepted station's protocol is in the log, with the same digest; accepted without a
  resolution, its counted figures are the protocol's own;
- a resolution takes effect only once approved, by another officer than its proposer;
- a certification lists exactly the stations accepted (not excluded) before it, each with
  the figures its acceptance logged, and totals that are their sums; its checkpoint was
  issued after every entry it counts and matches the bundle's checkpoint of that size.
"""

from __future__ import annotations

from typing import Any


class ResultsBad(Exception):
    pass


class ResultsReplay:
    def __init__(self) -> None:
        self.protocols: dict[tuple[str, str], dict[str, Any]] = {}
        self.accepted: dict[tuple[str, str], tuple[int, dict[str, Any]]] = {}
        self.excluded: dict[str, set[str]] = {}
        self.proposals: dict[int, dict[str, Any]] = {}
        self.approved: set[int] = set()
        self.certifications = 0
        self.last_counted: dict[str, int] = {}

    def entry(self, seq: int, entry: dict[str, Any], roots: dict[int, str]) -> None:
        kind, payload, scope = entry["type"], entry["payload"], entry.get("scope") or {}
        election, station = scope.get("election", ""), scope.get("station", "")
        who = (entry.get("actor") or {}).get("user")
        if kind == "polling.protocol_signed":
            self.protocols[(election, station)] = {
                "sha256": payload["sha256"],
                "contests": payload["document"].get("contests"),
            }
        elif kind == "tally.resolution_proposed":
            self.proposals[payload["proposal"]] = {"by": who, "station": station, "action": payload["action"]}
        elif kind == "tally.resolution_approved":
            proposal = self.proposals.get(payload["proposal"])
            if proposal is None:
                raise ResultsBad(f"approves proposal {payload['proposal']}, never proposed")
            if proposal["by"] == who:
                raise ResultsBad(f"proposal {payload['proposal']} approved by its own proposer {who}")
            self.approved.add(payload["proposal"])
        elif kind == "tally.station_accepted":
            self._accepted(seq, election, station, payload)
        elif kind == "tally.station_excluded":
            self._resolved(payload.get("proposal"), station, "exclude")
            self.accepted.pop((election, station), None)
            self.excluded.setdefault(election, set()).add(station)
            self.last_counted[election] = seq
        elif kind == "tally.results_certified":
            self._certified(seq, election, payload, roots)

    def _resolved(self, proposal: Any, station: str, *actions: str) -> None:
        if proposal not in self.approved:
            raise ResultsBad(f"station {station}: proposal {proposal} takes effect without an approval")
        if self.proposals[proposal]["action"] not in actions:
            raise ResultsBad(f"station {station}: proposal {proposal} was not to {' or '.join(actions)}")

    def _accepted(self, seq: int, election: str, station: str, payload: dict[str, Any]) -> None:
        protocol = self.protocols.get((election, station))
        if protocol is None or protocol["sha256"] != payload["sha256"]:
            raise ResultsBad(
                f"station {station} accepted with protocol {payload['sha256']}, not the one signed in the log"
            )
        counted = payload["figures"]["contests"]
        if "proposal" in payload:
            self._resolved(payload["proposal"], station, "accept", "recount", "reenter")
        elif counted != protocol["contests"]:
            raise ResultsBad(f"station {station} accepted with figures that are not its signed protocol's")
        self.accepted[(election, station)] = (seq, counted)
        self.excluded.get(election, set()).discard(station)
        self.last_counted[election] = seq

    def _certified(self, seq: int, election: str, payload: dict[str, Any], roots: dict[int, str]) -> None:
        document = payload["document"]
        number = document.get("number")
        stations = {s: c for (e, s), (_, c) in self.accepted.items() if e == election}
        certified = document.get("stations") or {}
        for code in sorted(set(stations) | set(certified)):
            if code not in certified:
                raise ResultsBad(f"certification {number} leaves out accepted station {code}")
            if code not in stations:
                raise ResultsBad(
                    f"certification {number} counts station {code}, which the log never accepted"
                )
            if certified[code].get("contests") != stations[code]:
                raise ResultsBad(
                    f"certification {number}: station {code}'s figures differ from the ones the log accepted"
                )
            if certified[code].get("sha256") != self.protocols[(election, code)]["sha256"]:
                raise ResultsBad(
                    f"certification {number}: station {code}'s protocol digest differs from the log's"
                )
        if sorted(self.excluded.get(election, set())) != sorted(document.get("excluded") or []):
            raise ResultsBad(f"certification {number}: the stations excluded differ from the log's")
        totals = _sum(stations.values())
        for contest, figures in (document.get("totals") or {}).items():
            mine = totals.get(contest, {"choices": {}, "blank": 0, "invalid": 0})
            theirs = {k: figures.get(k) for k in ("choices", "blank", "invalid")}
            if _nonzero(theirs) != _nonzero(mine):
                raise ResultsBad(
                    f"certification {number}: the totals of {contest} are not the stations' sums"
                )
        checkpoint = document.get("checkpoint") or {}
        size = checkpoint.get("size")
        if type(size) is not int or not self.last_counted.get(election, -1) < size <= seq:
            raise ResultsBad(
                f"certification {number} is bound to checkpoint {size}, which does not cover what it counts"
            )
        if size in roots and roots[size] != checkpoint.get("root"):
            raise ResultsBad(f"certification {number}: checkpoint {size}'s root is not the bundle's")
        self.certifications += 1


def _nonzero(figures: dict[str, Any]) -> dict[str, Any]:
    return {**figures, "choices": {k: v for k, v in (figures.get("choices") or {}).items() if v}}


def _sum(stations: Any) -> dict[str, dict[str, Any]]:
    totals: dict[str, dict[str, Any]] = {}
    for contests in stations:
        for code, figures in contests.items():
            t = totals.setdefault(code, {"choices": {}, "blank": 0, "invalid": 0})
            for choice, n in figures["choices"].items():
                t["choices"][choice] = t["choices"].get(choice, 0) + n
            t["blank"] += figures["blank"]
            t["invalid"] += figures["invalid"]
    return totals
