"""Polling's forms. Per-style and per-contest fields depend on the election, so those
forms are built for it (`for_styles`, `ballot_form`); the service checks every value again."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    IntegerField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

MAX_BALLOTS = 1_000_000


class SearchForm(FlaskForm):
    """The desk's one box: a registration number, the card's QR code, or a name."""

    class Meta:
        csrf = False  # a GET search changes nothing

    q = StringField(_l("Registration number, QR code or name"), validators=[Length(max=200)])


class CheckInForm(FlaskForm):
    reg_no = StringField(_l("Registration number"), validators=[DataRequired(), Length(max=20)])
    submit = SubmitField(_l("Check in and hand out the ballot"))


class SpoilForm(FlaskForm):
    reg_no = StringField(_l("Registration number of the voter"), validators=[DataRequired(), Length(max=20)])
    submit = SubmitField(_l("Replace a spoiled ballot"))


class UndoForm(FlaskForm):
    reg_no = StringField(_l("Registration number"), validators=[DataRequired(), Length(max=20)])
    reason = StringField(
        _l("Reason (public, in the audit log)"), validators=[DataRequired(), Length(max=500)]
    )
    submit = SubmitField(_l("Undo the check-in"))


class TenderedForm(FlaskForm):
    ballot_style = SelectField(_l("Ballot style"), choices=[])
    claim = TextAreaField(
        _l("Who the person says they are, and why they should vote (kept at the station)"),
        validators=[DataRequired(), Length(max=500)],
    )
    submit = SubmitField(_l("Issue a tendered ballot"))


class MoveForm(FlaskForm):
    kind = RadioField(
        _l("Movement"),
        choices=[
            SelectChoice("resupplied", _l("Received (resupply)")),
            SelectChoice("transferred", _l("Sent to another station")),
        ],
        default="resupplied",
    )
    ballot_style = SelectField(_l("Ballot style"), choices=[])
    count = IntegerField(_l("Ballot papers"), validators=[InputRequired(), NumberRange(1, MAX_BALLOTS)])
    reason = StringField(
        _l("Reason (public, in the audit log)"), validators=[DataRequired(), Length(max=500)]
    )
    submit = SubmitField(_l("Record the movement"))


class SignForm(FlaskForm):
    password = PasswordField(_l("Your password (opens your signing key)"), validators=[DataRequired()])
    explanation = TextAreaField(
        _l("Explanation of any check that does not hold (printed on the protocol)"),
        validators=[Optional(), Length(max=2000)],
    )
    submit = SubmitField(_l("Sign the protocol"))


class CountersignForm(FlaskForm):
    password = PasswordField(_l("Your password (opens your signing key)"), validators=[DataRequired()])
    submit = SubmitField(_l("Countersign"))


class ActionForm(FlaskForm):
    """A button that changes state (submit, finish the count): CSRF and nothing else."""


def for_styles(styles: list[str], *, opening: bool, reopening: bool = False) -> FlaskForm:
    """Opening (ballots per style, seals, officials; on a later polling day, why this
    morning's count differs from last night's) or closing (unused per style, seals)."""

    class StylesForm(FlaskForm):
        pass

    for style in styles:
        label = (
            _l("Ballot papers received: %(style)s", style=style)
            if opening
            else _l("Unused ballot papers: %(style)s", style=style)
        )
        field = IntegerField(label, validators=[InputRequired(), NumberRange(0, MAX_BALLOTS)])
        setattr(StylesForm, f"style_{style}", field)
    StylesForm.seals = TextAreaField(
        _l("Seal numbers on the ballot boxes, one per line"), validators=[DataRequired()]
    )
    if opening:
        StylesForm.officials = TextAreaField(
            _l("Officials present, one per line"), validators=[DataRequired()]
        )
    if reopening:
        StylesForm.explanation = TextAreaField(
            _l("If this morning's count differs from last night's, why"),
            validators=[Optional(), Length(max=2000)],
        )
    StylesForm.submit = SubmitField(_l("Open the station") if opening else _l("Close"))
    return StylesForm()


def per_style(form: FlaskForm, styles: list[str]) -> dict[str, Any]:
    return {style: form[f"style_{style}"].data for style in styles}


def lines(text: str | None) -> list[str]:
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


class _Checkboxes(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def ballot_form(style: str, contests: list[Any]) -> FlaskForm:
    """One ballot of `style` as a keyboard form: per contest, its choices (radio buttons, or
    checkboxes where several votes are allowed), blank, or invalid."""

    class BallotForm(FlaskForm):
        submit = SubmitField(_l("Record this ballot"))

    for contest in contests:
        marks = [SelectChoice(c, c) for c in contest.choices]
        rest = [
            SelectChoice("__blank", _l("Blank")),
            SelectChoice("__invalid", _l("Invalid (overvoted or unreadable)")),
        ]
        if contest.votes_allowed == 1:
            field: Any = RadioField(contest.name, choices=[*marks, *rest], default="__blank")
        else:
            field = _Checkboxes(f"{contest.name} ({contest.votes_allowed})", choices=[*marks, *rest])
        setattr(BallotForm, f"contest_{contest.code}", field)
    return BallotForm(prefix=f"ballot-{style}")


def cvr_of(form: FlaskForm, style: str, contests: list[Any]) -> dict[str, Any]:
    """The CVR the service takes, from a filled `ballot_form`."""
    votes: dict[str, list[str]] = {}
    invalid: list[str] = []
    for contest in contests:
        value = form[f"contest_{contest.code}"].data
        chosen = value if isinstance(value, list) else [value]
        if "__invalid" in chosen:
            invalid.append(contest.code)
        else:
            picked = [c for c in chosen if c and not c.startswith("__")]
            if picked:
                votes[contest.code] = picked
    return {"ballot_style": style, "votes": votes, "invalid": invalid}


class StationQuery(FlaskForm):
    class Meta:
        csrf = False

    election = StringField("The election's code, when several hold the station", [Optional(), Length(max=32)])


def sheet_fields(contests: list[Any]) -> list[tuple[str, Any, tuple[str, ...]]]:
    """The tally sheet's boxes as (field name, label, where the figure goes in the sheet):
    ballots in the box, then per contest each choice, blank and invalid."""
    boxes: list[tuple[str, Any, tuple[str, ...]]] = [
        ("ballots_in_box", _l("Ballots in the box"), ("ballots_in_box",))
    ]
    for contest in contests:
        for i, choice in enumerate(contest.choices):
            boxes.append((f"t_{contest.code}_{i}", choice, ("contests", contest.code, "choices", choice)))
        boxes.append((f"t_{contest.code}_blank", _l("Blank"), ("contests", contest.code, "blank")))
        boxes.append((f"t_{contest.code}_invalid", _l("Invalid"), ("contests", contest.code, "invalid")))
    return boxes


def figure(sheet: dict[str, Any], path: tuple[str, ...]) -> Any:
    """One figure of a tally sheet by its place (None where the sheet has none)."""
    value: Any = sheet
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def tally_form(contests: list[Any], entered: dict[str, Any] | None = None) -> FlaskForm:
    """The hand count as the protocol's paper form has it; `entered` (this clerk's own
    earlier entry, never another's) fills it in again."""

    class TallyForm(FlaskForm):
        submit = SubmitField(_l("Enter the count"))

    for name, label, _path in sheet_fields(contests):
        field = IntegerField(label, validators=[InputRequired(), NumberRange(0, MAX_BALLOTS)])
        setattr(TallyForm, name, field)
    form = TallyForm(prefix="tally")
    if entered and not form.is_submitted():
        for name, _label, path in sheet_fields(contests):
            form[name].data = figure(entered, path)
    return form


def sheet_of(form: FlaskForm, contests: list[Any]) -> dict[str, Any]:
    """The sheet the service takes, from a filled `tally_form`."""
    sheet: dict[str, Any] = {"ballots_in_box": form["ballots_in_box"].data, "contests": {}}
    for contest in contests:
        sheet["contests"][contest.code] = {
            "choices": {c: form[f"t_{contest.code}_{i}"].data for i, c in enumerate(contest.choices)},
            "blank": form[f"t_{contest.code}_blank"].data,
            "invalid": form[f"t_{contest.code}_invalid"].data,
        }
    return sheet
