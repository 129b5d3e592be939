"""A voter's history as the voter page shows it: the record's changes and the steps of
its objections, in the order they happened."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from flask_babel import gettext as _
from markupsafe import Markup, escape

from registration.models import Objection, Voter
from registration.vocabulary import field_name, term


@dataclass(frozen=True)
class Event:
    """One line of a voter's history: a change of the record, or a step of an objection;
    `details`, what the change did, as sentences."""

    at: dt.datetime
    kind: str
    officer: str
    text: str = ""
    details: tuple[str, ...] = ()


def details(kind: str, changes: dict[str, object] | None) -> tuple[Markup, ...]:
    """A change's stored facts as people read them: a correction keeps the values it
    replaced, a transfer its two stations, an enrolment or import the station given. Each
    value is isolated, so a Latin code in an Arabic sentence keeps its order."""
    changes = changes or {}
    if kind == "transferred":
        sentence = escape(_("from %(origin)s to %(target)s"))  # escaped, then filled in
        return (
            sentence % {"origin": _isolated(changes.get("from")), "target": _isolated(changes.get("to"))},
        )
    said = escape(_("%(field)s was %(value)s") if kind == "corrected" else _("%(field)s: %(value)s"))
    return tuple(said % {"field": field_name(k), "value": _isolated(v)} for k, v in changes.items())


def _isolated(value: object) -> Markup:
    return Markup("<bdi>{}</bdi>").format(value)


def history_of(voter: Voter, objections: list[Objection]) -> list[Event]:
    events = [Event(h.at, h.kind, h.officer, h.reason, details(h.kind, h.changes)) for h in voter.history]
    for o in objections:
        label = _("Objection %(id)s", id=o.id)
        events.append(Event(o.filed_at, "objection_filed", o.filed_by, f"{label}: {o.grounds}"))
        if o.notified_at:
            events.append(
                Event(o.notified_at, "objection_notified", o.notified_by or "", f"{label}: {o.notice_method}")
            )
        if o.replied_at:
            events.append(Event(o.replied_at, "objection_replied", "", f"{label}: {o.reply}"))
        if o.decided_at:
            decision = term(o.decision or "")
            if not o.replied_at:
                decision = _("%(decision)s, without a reply", decision=decision)
            events.append(
                Event(
                    o.decided_at,
                    "objection_decided",
                    o.decided_by or "",
                    f"{label} ({decision}): {o.decision_reason}",
                )
            )
    return sorted(events, key=lambda e: e.at)
