"""The verifier's replay of polling day (docs/specs/audit-log-format.md, "Polling replay"):
no voter marked twice, every station's ballot accounts rebuilt from its entries, and each
station protocol's figures equal to them, balanced, and signed by the key of that
station's presiding officer.

Written from the spec page alone: it reads entries by their type names, never the
polling package's code, so it checks what polling wrote rather than trusting it.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from audit.jcs import canonical_bytes

# The account entries tell who holds which role at which station, at each point of the log.
ACCOUNT_TYPES = frozenset({"auth.user_created", "auth.role_changed"})


class PollingRuleBroken(Exception):
    """An entry that breaks a polling rule; the verifier reports it as that entry's failure."""


@dataclass
class StationAccounts:
    """Ballot papers per style, as the station's entries tell them."""

    received: Counter[str] = field(default_factory=Counter)
    resupplied: Counter[str] = field(default_factory=Counter)
    transferred: Counter[str] = field(default_factory=Counter)
    checked_in: Counter[str] = field(default_factory=Counter)
    tendered: Counter[str] = field(default_factory=Counter)
    spoiled: Counter[str] = field(default_factory=Counter)
    unused: dict[str, int] = field(default_factory=dict)  # the last count: a close-out or the close
    signed: str | None = None  # the digest of the protocol its presiding officer signed


@dataclass(frozen=True)
class Mark:
    station: str
    ballot_style: str
    seq: int


class PollingReplay:
    def __init__(self) -> None:
        self.roles: dict[str, tuple[str, str | None]] = {}  # user → (role, station)
        self.marks: dict[tuple[str, str], Mark] = {}  # (election, reg_no) → where it was marked
        self.stations: dict[tuple[str, str], StationAccounts] = {}
        self.protocols = 0

    def entry(self, seq: int, entry: dict[str, Any], keys: dict[str, Any]) -> None:
        kind, payload = entry["type"], entry["payload"]
        if kind == "auth.user_created":
            self.roles[_text(payload, "username")] = (_text(payload, "role"), payload.get("station"))
        elif kind == "auth.role_changed":
            after = payload.get("to")
            if type(after) is not dict:
                raise PollingRuleBroken("a role change names the role it changes to")
            self.roles[_text(payload, "username")] = (_text(after, "role"), after.get("station"))
        elif kind.startswith("polling."):
            self._polling(seq, kind, entry, keys)

    def _polling(self, seq: int, kind: str, entry: dict[str, Any], keys: dict[str, Any]) -> None:
        payload, election = entry["payload"], entry["scope"].get("election")
        if type(election) is not str or "station" not in payload:
            return  # not a station's entry: nothing to replay
        station = _text(payload, "station")
        accounts = self.stations.setdefault((election, station), StationAccounts())
        if kind == "polling.voter_checked_in":
            reg_no, style = _text(payload, "reg_no"), _text(payload, "ballot_style")
            earlier = self.marks.get((election, reg_no))
            if earlier is not None:
                raise PollingRuleBroken(
                    f"voter {reg_no} is marked twice in {election}: "
                    f"at {earlier.station} (entry {earlier.seq}) and at {station}"
                )
            self.marks[election, reg_no] = Mark(station, style, seq)
            accounts.checked_in[style] += 1
        elif kind == "polling.check_in_undone":
            reg_no = _text(payload, "reg_no")
            mark = self.marks.get((election, reg_no))
            if mark is None or mark.station != station:
                raise PollingRuleBroken(f"undoes a check-in of {reg_no} at {station} the log does not hold")
            del self.marks[election, reg_no]
            accounts.checked_in[mark.ballot_style] -= 1
        elif kind == "polling.tendered_ballot_issued":
            accounts.tendered[_text(payload, "ballot_style")] += 1
        elif kind == "polling.ballot_spoiled":
            accounts.spoiled[_text(payload, "ballot_style")] += 1
        elif kind == "polling.station_opened" and payload.get("day") == 1:
            accounts.received.update(_counts(payload, "ballots"))
        elif kind == "polling.ballots_resupplied":
            accounts.resupplied[_text(payload, "ballot_style")] += _count(payload)
        elif kind == "polling.ballots_transferred":
            accounts.transferred[_text(payload, "ballot_style")] += _count(payload)
        elif kind in ("polling.station_paused", "polling.station_closed"):
            accounts.unused = dict(_counts(payload, "unused"))
        elif kind == "polling.protocol_signed":
            self._signed(entry, election, station, accounts, keys)
        elif kind == "polling.protocol_countersigned":
            self._countersigned(entry, station, accounts, keys)

    def _signed(
        self,
        entry: dict[str, Any],
        election: str,
        station: str,
        accounts: StationAccounts,
        keys: dict[str, Any],
    ) -> None:
        payload, signer = entry["payload"], entry["actor"].get("user")
        if self.roles.get(signer) != ("presiding_officer", station):
            raise PollingRuleBroken(
                f"{station}'s protocol is signed by {signer!r}, not its presiding officer"
            )
        _signed_by(payload, signer, "presiding_officer", keys)
        document = payload["document"]
        if document.get("election") != election or document.get("station") != station:
            raise PollingRuleBroken(f"the protocol signed for {station} is another station's")
        if payload.get("sha256") != _digest(document):
            raise PollingRuleBroken(f"the protocol of {station}: sha256 is not the document's digest")
        _figures_match(station, document, accounts)
        accounts.signed = payload["sha256"]
        self.protocols += 1

    def _countersigned(
        self, entry: dict[str, Any], station: str, accounts: StationAccounts, keys: dict[str, Any]
    ) -> None:
        payload = entry["payload"]
        _signed_by(payload, entry["actor"].get("user"), "observer", keys)
        signed = accounts.signed
        if signed is None or payload.get("sha256") != signed or _digest(payload["document"]) != signed:
            raise PollingRuleBroken(f"countersigns a protocol of {station} other than the one signed")


def _figures_match(station: str, document: dict[str, Any], accounts: StationAccounts) -> None:
    """The protocol states the accounts the log holds, and they balance (or it says why not)."""
    ballots, figures = document.get("ballots"), document.get("figures")
    if type(ballots) is not dict or type(figures) is not dict:
        raise PollingRuleBroken(f"the protocol of {station} has no ballots and figures")
    wrong = []
    for style, stated in sorted(ballots.items()):
        replayed = {
            "received": accounts.received[style],
            "resupplied": accounts.resupplied[style],
            "transferred": accounts.transferred[style],
            "issued": accounts.checked_in[style] + accounts.tendered[style],
            "spoiled": accounts.spoiled[style],
            "unused": accounts.unused.get(style, 0),
        }
        wrong += [
            f"{style} {name} {stated.get(name)} ≠ {n}"
            for name, n in replayed.items()
            if stated.get(name) != n
        ]
    totals = {"checked_in": accounts.checked_in.total(), "tendered": accounts.tendered.total()}
    wrong += [f"{name} {figures.get(name)} ≠ {n}" for name, n in totals.items() if figures.get(name) != n]
    if wrong:
        raise PollingRuleBroken(f"the protocol of {station} differs from its entries: " + "; ".join(wrong))
    unbalanced = [
        f"{style}: received + resupplied − transferred ≠ issued + spoiled + unused"
        for style, b in sorted(ballots.items())
        if b["received"] + b["resupplied"] - b["transferred"] != b["issued"] + b["spoiled"] + b["unused"]
    ]
    if figures.get("in_box") != totals["checked_in"]:
        unbalanced.append(f"ballots in the box {figures.get('in_box')} ≠ check-ins {totals['checked_in']}")
    if unbalanced and not str(document.get("explanation", "")).strip():
        why = "; ".join(unbalanced)
        raise PollingRuleBroken(f"the protocol of {station} does not balance and says not why: {why}")


def _signed_by(payload: dict[str, Any], user: Any, role: str, keys: dict[str, Any]) -> None:
    for signature in payload.get("signatures", []):
        key = keys[signature["key"]]  # the document replay found it registered and active
        if key.role != role or key.owner != user:
            kind = role.replace("_", " ")
            raise PollingRuleBroken(f"signed with {key.name!r}, not a {kind} key of {user!r}")


def _digest(document: Any) -> str:
    return hashlib.sha256(canonical_bytes(document)).hexdigest()


def _text(payload: dict[str, Any], name: str) -> str:
    value = payload.get(name)
    if type(value) is not str or not value:
        raise PollingRuleBroken(f"payload needs a non-empty string {name}")
    return value


def _count(payload: dict[str, Any]) -> int:
    value = payload.get("count")
    if type(value) is not int or value < 0:
        raise PollingRuleBroken("payload needs a whole number count")
    return value


def _counts(payload: dict[str, Any], name: str) -> dict[str, int]:
    value = payload.get(name)
    if type(value) is not dict or not all(type(n) is int and n >= 0 for n in value.values()):
        raise PollingRuleBroken(f"payload needs {name}: whole numbers per ballot style")
    return value
