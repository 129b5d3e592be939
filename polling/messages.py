"""Polling's service messages as templates, for pages in the reader's language.

As in registration (registration/messages.py): the services raise their errors in English,
which the API, the CLI and the log keep; `ocv.i18n.translate` matches a message against
these templates and shows the catalog's translation with the values it found. A template
reads exactly as the message its service builds (tests/integration/test_polling_messages.py
raises each kind and reads it back in French and Arabic); a message no template matches is
shown in English.

The values are put back as the reader's language writes them: a state, a counting mode or
a role by its name, a number with the locale's digit grouping, a nested message (the reason
a count is not ready, a ballot's problem) translated in turn. In the Arabic catalog every
code, number, time and name the sentence carries is wrapped in a directional isolate
(U+2066 … U+2069 for codes, numbers and times, U+2068 … U+2069 for names), as registration's
pages wrap such runs in <bdi>: `DE-BER-01` or `2027-04-18 14:05 CEST` keeps its order
inside a right-to-left sentence.
"""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l

from ocv.auth.views import role_name
from ocv.errors import OCVError, ValidationError
from ocv.i18n import N_, register_messages, translate
from polling.wording import check_name, state_name

TEMPLATES = (
    # First the messages that carry another one: the first template that matches is used, and
    # "%(n)s of the 2 entries…" would otherwise match "The count is not ready: 1 of the 2…".
    N_("The count is not ready: %(why)s"),
    N_("cvrs[%(i)s]: %(problem)s."),
    # the station's lifecycle (polling/stations.py)
    N_("Station %(station)s is %(state)s; this needs it %(wanted)s."),
    N_("The list of %(election)s is not frozen yet: polling cannot start."),
    N_("Give %(member)s per ballot style."),
    N_("%(style)s is not a ballot style of %(election)s."),
    N_("Give the count for %(style)s."),
    N_("%(at)s: a whole number from 0 to %(max)s."),
    N_("List the seal numbers."),
    N_("At least one seal number."),
    N_("Seal numbers are text of 1 to 40 characters."),
    N_("Check each seal."),
    N_("A seal number appears twice."),
    N_("Each seal once."),
    N_("Name the officials present."),
    N_("At least one name."),
    N_("Each official is a name of 1 to 100 characters."),
    N_("Check each name."),
    N_("Give a reason (at most 500 characters)."),
    N_("A reason is required."),
    N_("This morning's count differs from last night's: explain it."),
    N_("%(style)s: %(evening)s last night, %(morning)s now"),
    # resupply and transfers
    N_("Give 1 to %(max)s ballot papers."),
    N_("A whole number."),
    N_("The station holds fewer than %(n)s papers of %(style)s."),
    N_("More than held."),
    N_("Unknown."),
    # the desk (polling/checkin.py, and the registry's look-up of a number)
    N_("No voter %(voter)s on the list of %(election)s."),
    N_("No station '%(station)s' in %(election)s."),
    N_("No station '%(station)s'."),
    N_("This card is for %(card)s, not %(election)s."),
    N_("%(voter)s is not on the list: the registration was cancelled."),
    N_("%(voter)s votes at %(station)s, not here."),
    N_("Registered at %(station)s."),
    N_("No ballot papers of style %(style)s left: resupply first."),
    N_("Out of ballots."),
    N_("The station changed while checking in: try again."),
    N_("%(voter)s already voted at %(station)s at %(time)s."),
    N_("%(voter)s was not checked in at %(station)s."),
    N_("This voter spoiled a ballot already: the check-in stands."),
    N_("This voter had a spoiled ballot replaced already: only once."),
    N_("%(style)s is not a ballot style here."),
    # the count (polling/counting.py)
    N_("%(election)s counts by %(mode)s."),
    N_("Send 1 to %(max)s CVRs."),
    N_("%(style)s is not a ballot style here"),
    N_("%(contest)s is not on ballot style %(style)s"),
    N_("%(contest)s is both voted and invalid"),
    N_("%(contest)s: list the choices by name"),
    N_("%(contest)s: a choice is marked twice"),
    N_("%(contest)s: %(n)s marks for %(allowed)s allowed: record it as invalid"),
    N_("%(contest)s: %(choice)s is not a choice"),
    N_("contests.%(contest)s: give its choices, blank and invalid."),
    N_("contests.%(contest)s: give every choice, by name."),
    N_("Not contests here: %(contests)s."),
    N_("%(n)s of the 2 entries by different clerks are in."),
    N_("The entries differ: each clerk checks and enters the count again."),
    # the protocol (polling/protocol.py) and its signatures (audit/signing.py)
    N_("A check does not hold: explain it in writing to sign."),
    N_("An explanation has at most %(max)s characters."),
    N_("Too long."),
    N_("You have countersigned this protocol already."),
    N_("The protocol of %(station)s is public once it is submitted."),
    N_("%(signer)s holds no signing key as %(role)s: ask an administrator."),
    N_("Wrong password: the key stays sealed."),
)

# The counting modes as a sentence names them ("GE2027 counts by tally sheet.").
MODES = {"cvr": _l("cast-vote records"), "tally sheet": _l("tally sheet")}

# The roles a protocol is signed in, as a sentence names them ("… as presiding officer").
ROLES = {"presiding officer": _l("presiding officer"), "observer": _l("observer")}

# The members of an API body a message names ("Give ballots per ballot style.").
MEMBERS = {"ballots": _l("the ballot papers received"), "unused": _l("the unused ballot papers")}


def number(text: str) -> str:
    """A number as the service wrote it (`10,000`), grouped as the reader's language does."""
    try:
        return str(format_decimal(int(text.replace(",", ""))))
    except ValueError:
        return text


def _states(text: str) -> str:
    return " / ".join(state_name(s) for s in text.split(" or "))


def _looked_up(table: dict[str, object]) -> Callable[[str], str]:
    return lambda text: str(table[text]) if text in table else text


def words() -> dict[str, Callable[[str], str]]:
    """Placeholders whose values are words or numbers of ours, put in the reader's language."""
    return {
        "state": state_name,
        "wanted": _states,
        "mode": _looked_up(MODES),
        "member": _looked_up(MEMBERS),
        "role": lambda text: str(ROLES[text]) if text in ROLES else role_name(text.replace(" ", "_")),
        "max": number,
        "n": number,
        "evening": number,
        "morning": number,
        "allowed": number,
        "why": translate,
        "problem": translate,
    }


def register() -> None:
    register_messages(TEMPLATES, words())


def _detail(message: str) -> str:
    """A field's message in the reader's language; a protocol check (an imbalance's) by
    its reader's name."""
    shown = translate(message)
    return shown if shown != message else check_name(message)


def shown(error: OCVError) -> str:
    """A refusal as a page says it: the message, then up to five of the fields' own
    messages that add to it, each in the reader's language."""
    fields = error.fields if isinstance(error, ValidationError) else {}
    details = [m for messages in fields.values() for m in messages if m != error.message]
    return " ".join([translate(error.message), *(_detail(m) for m in details[:5])])
