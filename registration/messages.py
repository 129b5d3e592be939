"""Registration's service messages as templates, for pages in the reader's language.

The services raise their errors in English (the API, the CLI and the import's CSV report
keep it); `ocv.i18n.translate` matches a message against these templates and shows the
catalog's translation, with the values it found. A template must read exactly as the
message its service builds (tests/integration/test_officials_pages.py checks the common
ones); a message no template matches is shown in English.
"""

from __future__ import annotations

from collections.abc import Callable

from ocv.i18n import N_

TEMPLATES = (
    # voter_data.validate: the enrolment form, the API and every import row
    N_("The voter's data has problems."),
    N_("This is required."),
    N_("Must be text."),
    N_("Use the form YYYY-MM-DD."),
    N_("%(date)s is not a real date."),
    N_("Must be at least %(age)s on polling day (%(day)s)."),
    N_("This date of birth is not plausible."),
    N_("%(code)s is not a constituency of %(election)s."),
    N_("%(code)s is not a host country of %(election)s."),
    N_("%(code)s is not a station of %(election)s."),
    N_("Station %(station)s is not in %(country)s."),
    N_("%(document)s is not accepted; use %(documents)s."),
    N_("The %(document)s number must have 4 to 32 letters or digits."),
    N_("Only one %(document)s per voter."),
    N_("%(count)s accepted document(s) required."),
    N_("Each document needs a type and a number."),
    N_("Use F, M or X."),
    N_("Not a phone number."),
    N_("Not an e-mail address."),
    N_(
        "No station is in %(city)s (%(country)s). Choose the station, or leave the city empty to"
        " place the voter at the least busy station in %(country2)s (stations are in: %(cities)s)."
    ),
    N_(
        "No station is in %(city)s (%(country)s). Choose the station, or leave the city empty to"
        " place the voter at the least busy station in %(country2)s."
    ),
    # enrolment, changes, reviews
    N_("This document is registered already, to %(reg_no)s."),
    N_("No place left at %(where)s: every station is at capacity."),
    N_("Give a reason."),
    N_("A reason is required for every change."),
    N_("This registration is cancelled already."),
    N_("Only a cancelled registration can be reinstated."),
    N_("Only a registered voter can be transferred."),
    N_("The voter is at that station already."),
    N_("Station %(station)s is full."),
    N_("Station %(station)s is full; transfer the voter instead."),
    N_("This review is resolved already."),
    N_("Choose one."),
    N_("Nothing changes."),
    # the lifecycle
    N_("Election %(code)s is in its %(phase)s phase; this is done only in the %(phases)s phase."),
    N_("Election %(code)s is in its %(phase)s phase; it can only move to the %(next)s phase next."),
    N_("Election %(code)s is frozen, which is final."),
    N_(
        "The list cannot be frozen yet: %(count)s objection(s) or duplicate review(s) are still"
        " open; decide them first."
    ),
    # objections
    N_("The %(what)s is required."),
    N_("Objection %(id)s is %(status)s; this step needs %(needed)s."),
    N_("Objection %(id)s is %(status)s; notify the voter first."),
    N_("Only a registered entry can be objected to."),
    # the import's row problems
    N_("document already registered to %(reg_no)s"),
    N_("same document as line %(line)s"),
)


def words(phase: Callable[[str], str], term: Callable[[str], str]) -> dict[str, Callable[[str], str]]:
    """Placeholders whose values are our own words, translated by the pages' filters."""

    def phases(text: str) -> str:
        return " / ".join(phase(p.replace(" ", "_")) for p in text.split(" or "))

    return {
        "phase": lambda text: phase(text.replace(" ", "_")),
        "next": lambda text: phase(text.replace(" ", "_")),
        "phases": phases,
        "document": term,
        "status": term,
        "needed": term,
        "what": term,
        "documents": lambda text: ", ".join(term(d) for d in text.split(", ")),
    }
