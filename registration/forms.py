"""Registration forms: shape only; the election's rules are checked in the service."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    DateField,
    Field,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Optional

from ocv.errors import ValidationError
from ocv.text import Text

DOCUMENT_SLOTS = 2


class CheckedByTheService:
    """A required field whose check is the service's (registration.voter_data): marks the
    field required, and lets the form reach the service, so that every problem of the voter
    is reported at once and in the service's words."""

    field_flags = {"required": True}

    def __call__(self, form: object, field: Field) -> None:
        return None


def _copied(**attributes: object) -> dict[str, object]:
    """The `render_kw` of a box for a code or a date copied from a card or a file: left to right
    whatever the page's direction, never filled in by the browser."""
    return {"autocomplete": "off", "dir": "ltr", **attributes}


NO_SPELLING = _copied(spellcheck="false", autocapitalize="off")


class SelfCheckForm(FlaskForm):
    reg_no = StringField(
        _l("Registration number"),
        validators=[DataRequired(), Text(max=20)],
        render_kw=_copied(autocapitalize="characters", spellcheck="false", placeholder="K7M-4QX-9T2"),
    )
    date_of_birth = DateField(_l("Date of birth"), validators=[DataRequired()])
    submit = SubmitField(_l("Check my registration"))


class EnrolForm(FlaskForm):
    """Keyboard first: fields in the order an officer reads an ID card, no mouse needed."""

    family_name = StringField(
        _l("Family name"),
        validators=[CheckedByTheService(), Text(max=100)],
        render_kw={"autofocus": True, "autocomplete": "off"},
    )
    given_name = StringField(
        _l("Given name"), validators=[CheckedByTheService(), Text(max=100)], render_kw={"autocomplete": "off"}
    )
    father_name = StringField(_l("Father's name"), validators=[Optional(), Text(max=100)])
    grandfather_name = StringField(_l("Grandfather's name"), validators=[Optional(), Text(max=100)])
    names_original_script = StringField(
        _l("Names in the original script"),
        validators=[Optional(), Text(max=300)],
        render_kw={"dir": "auto"},
    )
    # One text box, typed as on the document: a browser's date input takes a tab stop per
    # part (and a picker button), and orders the parts by the browser's language.
    date_of_birth = StringField(
        _l("Date of birth (YYYY-MM-DD)"),
        validators=[CheckedByTheService(), Text(max=32)],
        render_kw=_copied(inputmode="numeric", placeholder="YYYY-MM-DD", maxlength=10),
    )
    sex = SelectField(_l("Sex"), choices=[], validators=[Optional()])
    # No default: the officer chooses for each voter (the first in a list is wrong for most).
    constituency = SelectField(_l("Home constituency"), choices=[], validators=[CheckedByTheService()])
    host_country = SelectField(_l("Host country"), choices=[], validators=[CheckedByTheService()])
    city = StringField(_l("City of residence"), validators=[Optional(), Text(max=100)])
    station = SelectField(_l("Station (leave empty to assign by city)"), choices=[], validators=[Optional()])
    doc1_type = SelectField(_l("Document"), choices=[], validators=[CheckedByTheService()])
    doc1_number = StringField(
        _l("Document number"),
        validators=[CheckedByTheService(), Text(max=40)],
        render_kw={"autocomplete": "off", "autocapitalize": "characters"},
    )
    doc2_type = SelectField(_l("Second document"), choices=[], validators=[Optional()])
    doc2_number = StringField(
        _l("Second document number"),
        validators=[Optional(), Text(max=40)],
        render_kw={"autocomplete": "off", "autocapitalize": "characters"},
    )
    phone = StringField(_l("Phone"), validators=[Optional(), Text(max=32)], render_kw={"type": "tel"})
    email = StringField(_l("E-mail"), validators=[Optional(), Text(max=200)], render_kw={"type": "email"})
    submit = SubmitField(_l("Enrol"))

    # The order of the page, which Tab follows and the error summary lists.
    ORDER = (
        "family_name",
        "given_name",
        "father_name",
        "grandfather_name",
        "names_original_script",
        "date_of_birth",
        "sex",
        "doc1_type",
        "doc1_number",
        "doc2_type",
        "doc2_number",
        "constituency",
        "host_country",
        "city",
        "station",
        "phone",
        "email",
    )

    def ordered(self) -> list[Field]:
        return [getattr(self, name) for name in self.ORDER]

    def _slots(self) -> list[int]:
        """The document slots sent to the service, in order: the first always (it is
        required), the second when anything of it is filled in."""
        return [
            i
            for i in range(1, DOCUMENT_SLOTS + 1)
            if i == 1 or getattr(self, f"doc{i}_type").data or getattr(self, f"doc{i}_number").data
        ]

    def voter_data(self) -> dict[str, object]:
        """The raw voter for the service, in the API's shape."""
        documents = [
            {
                "type": getattr(self, f"doc{i}_type").data or "",
                "number": getattr(self, f"doc{i}_number").data or "",
            }
            for i in self._slots()
        ]
        fields = (
            "given_name",
            "family_name",
            "father_name",
            "grandfather_name",
            "names_original_script",
            "sex",
            "constituency",
            "host_country",
            "city",
            "station",
            "phone",
            "email",
        )
        raw: dict[str, object] = {name: getattr(self, name).data or None for name in fields}
        raw["date_of_birth"] = self.date_of_birth.data
        raw["documents"] = documents
        return raw

    def show_errors(self, error: ValidationError) -> None:
        """The service's problems at the fields they are about; a document's at its slot
        (a repeated type at the type, anything else at the number)."""
        for name, messages in error.fields.items():
            if name != "documents" and hasattr(self, name):
                field = getattr(self, name)
                field.errors = [*field.errors, *messages]
        placed = getattr(error, "documents_at", None) or {0: error.fields.get("documents", [])}
        slots = self._slots()
        for position, messages in placed.items():
            slot = slots[position] if position < len(slots) else 1
            for message in messages:
                name = f"doc{slot}_type" if message.startswith("Only one") else f"doc{slot}_number"
                field = getattr(self, name)
                field.errors = [*field.errors, message]

    def focus_first_error(self) -> Field | None:
        """After a refusal the focus goes to the first wrong field, not the first field."""
        wrong = next((f for f in self.ordered() if f.errors), None)
        if wrong is not None:
            self.family_name.render_kw = {
                k: v for k, v in (self.family_name.render_kw or {}).items() if k != "autofocus"
            }
            wrong.render_kw = {**(wrong.render_kw or {}), "autofocus": True}
        return wrong


class ReasonForm(FlaskForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(_l("Give a reason.")), Text(max=500)])
    submit = SubmitField(_l("Confirm"))


class TransferForm(FlaskForm):
    station = SelectField(_l("New station"), choices=[])
    reason = StringField(_l("Reason"), validators=[DataRequired(_l("Give a reason.")), Text(max=500)])
    submit = SubmitField(_l("Transfer"))


class ObjectionForm(FlaskForm):
    grounds = TextAreaField(
        _l("Grounds of the objection"), validators=[DataRequired(), Text(max=2000, multiline=True)]
    )
    filed_by = StringField(_l("Filed by (if not you)"), validators=[Optional(), Text(max=64)])
    submit = SubmitField(_l("File objection"))


class ObjectionStepForm(FlaskForm):
    text = TextAreaField(_l("Details"), validators=[DataRequired(), Text(max=2000, multiline=True)])
    decision = SelectField(_l("Decision"), choices=[], validators=[Optional()])
    submit = SubmitField(_l("Record"))


class ReviewForm(FlaskForm):
    decision = SelectField(_l("Decision"), choices=[])
    reason = StringField(_l("Reason"), validators=[DataRequired(), Text(max=500)])
    submit = SubmitField(_l("Resolve"))


class ElectionFileForm(FlaskForm):
    file = FileField(_l("Election definition (JSON)"), validators=[FileRequired()])
    submit = SubmitField(_l("Load"))


class StationForm(Form):
    """One station's row; no CSRF token of its own (the page's form carries it)."""

    code = HiddenField()
    name = StringField(_l("Name"), validators=[DataRequired(), Text(max=200)])
    city = StringField(_l("City"), validators=[DataRequired(), Text(max=100)])
    address = StringField(_l("Address"), validators=[Optional(), Text(max=300)])
    time_zone = StringField(_l("Time zone"), validators=[DataRequired(), Text(max=64)], render_kw=NO_SPELLING)
    capacity = IntegerField(_l("Capacity"), validators=[InputRequired()], render_kw={"inputmode": "numeric"})


class ElectionEditForm(FlaskForm):
    name = StringField(_l("Name of the election"), validators=[DataRequired(), Text(max=200)])
    polling_day = DateField(_l("Polling day"), validators=[DataRequired()])
    minimum_age = IntegerField(
        _l("Minimum age on polling day"), validators=[InputRequired()], render_kw={"inputmode": "numeric"}
    )
    stations = FieldList(FormField(StationForm))
    submit = SubmitField(_l("Save"))


class DefinitionForm(FlaskForm):
    definition = TextAreaField(
        _l("The whole definition (JSON, docs/election-file.md)"),
        # As large as a definition's upload; its texts are checked one by one when parsed.
        validators=[DataRequired(), Text(max=1_000_000, multiline=True)],
        render_kw={**NO_SPELLING, "rows": 24, "class": "code"},
    )
    submit = SubmitField(_l("Save the definition"))


XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class VoterImportForm(FlaskForm):
    file = FileField(
        _l("Voters file (CSV UTF-8 or XLSX)"),
        validators=[FileRequired()],
        render_kw={"accept": f".csv,.xlsx,text/csv,{XLSX_TYPE}"},
    )
    mode = SelectField(
        _l("What to do"),
        choices=[
            SelectChoice("check", _l("Check only: report the rejected rows, change nothing")),
            SelectChoice("import", _l("Import, if every row is good")),
            SelectChoice("import_valid", _l("Import the good rows, skip the rejected ones")),
        ],
    )
    submit = SubmitField(_l("Upload"))
