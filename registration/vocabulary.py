"""Registration's words as people read them: phases, the stored words of the registry
(statuses, decisions, history, documents), and the sentence a page shows when its phase
forbids its form. The pages use them as the template filters `phase` and `term`."""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice

from registration.models import Election, ElectionStatus

# The phases as people read them, in every page and message that names one.
PHASES = {
    ElectionStatus.SETUP: _l("setup"),
    ElectionStatus.REGISTRATION_OPEN: _l("registration open"),
    ElectionStatus.EXHIBITION: _l("exhibition"),
    ElectionStatus.FROZEN: _l("frozen"),
}

# The words the registry stores (statuses, decisions, history, documents) as people read
# them; the English is the stored word itself, so what officers learnt stays true.
TERMS = {
    "registered": _l("registered"),
    "cancelled": _l("cancelled"),
    "filed": _l("filed"),
    "notified": _l("notified"),
    "replied": _l("replied"),
    "decided": _l("decided"),
    "upheld": _l("upheld"),
    "dismissed": _l("dismissed"),
    "enrolled": _l("enrolled"),
    "imported": _l("imported"),
    "corrected": _l("corrected"),
    "transferred": _l("transferred"),
    "reinstated": _l("reinstated"),
    "passport": _l("passport"),
    "national_id": _l("national ID"),
    "consular_card": _l("consular card"),
    "open": _l("open"),
    "same_person": _l("same person"),
    "different": _l("different people"),
    "grounds": _l("grounds"),
    "method": _l("way the voter was notified"),
    "reply": _l("reply"),
    "reason": _l("reason"),
    "no_reply": _l("no reply in time"),
    "objection_filed": _l("objection filed"),
    "objection_notified": _l("voter notified of the objection"),
    "objection_replied": _l("voter replied"),
    "objection_decided": _l("objection decided"),
}

# The voter's fields as a history line names them (the enrolment form's labels).
FIELDS = {
    "family_name": _l("Family name"),
    "given_name": _l("Given name"),
    "father_name": _l("Father's name"),
    "grandfather_name": _l("Grandfather's name"),
    "names_original_script": _l("Names in the original script"),
    "date_of_birth": _l("Date of birth"),
    "sex": _l("Sex"),
    "constituency": _l("Home constituency"),
    "host_country": _l("Host country"),
    "city": _l("City of residence"),
    "station": _l("Polling station"),
    "phone": _l("Phone"),
    "email": _l("E-mail"),
}

SEXES = [
    SelectChoice("", "—"),
    SelectChoice("F", _l("female")),
    SelectChoice("M", _l("male")),
    SelectChoice("X", _l("other")),
]


def phase_name(status: str) -> str:
    """The display name of an election phase, in the reader's language."""
    try:
        return str(PHASES[ElectionStatus(status)])
    except ValueError:
        return status


def term(word: str) -> str:
    """A stored word in the reader's language; one the list does not know, as it is
    (underscores as spaces: a document type the list lacks still reads as words)."""
    found = TERMS.get(word)
    return str(found) if found is not None else word.replace("_", " ")


def field_name(key: str) -> str:
    """A voter field's name in the reader's language."""
    found = FIELDS.get(key)
    return str(found) if found is not None else key.replace("_", " ")


CHOOSE = _l("— choose —")


def closed_notice(e: Election, needed: ElectionStatus) -> str | None:
    """Why a page's form is not offered in this phase, or None when it is."""
    if e.status == needed.value:
        return None
    return _(
        "Election %(code)s is in its %(phase)s phase: voters are enrolled and imported only while"
        " registration is open.",
        code=e.code,
        phase=phase_name(e.status),
    )
