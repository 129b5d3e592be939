"""The tally officers' forms: take protocols in, propose a resolution, approve or reject
one, certify. The service checks every value again."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectChoice, SelectField, StringField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional


class IntakeForm(FlaskForm):
    submit = SubmitField(_l("Take in the submitted protocols"))


class ProposeForm(FlaskForm):
    action = SelectField(
        _l("Proposal"),
        choices=[
            SelectChoice("accept", _l("Accept as it is")),
            SelectChoice("recount", _l("Recount from the stored ballots")),
            SelectChoice("reenter", _l("Re-enter the tally sheet")),
            SelectChoice("exclude", _l("Exclude the station")),
        ],
    )
    reason = TextAreaField(
        _l("Reason (public, in the audit log)"), validators=[DataRequired(), Length(max=2000)]
    )
    submit = SubmitField(_l("Propose"))


class DecideForm(FlaskForm):
    reason = StringField(_l("Reason (required to reject)"), validators=[Optional(), Length(max=2000)])
    approve = SubmitField(_l("Approve"))
    reject = SubmitField(_l("Reject"))


class CertifyForm(FlaskForm):
    password = PasswordField(
        _l("Your password (opens your signing key)"), validators=[DataRequired(), Length(max=200)]
    )
    reason = TextAreaField(
        _l("Reason (required for a correction)"), validators=[Optional(), Length(max=2000)]
    )
    submit = SubmitField(_l("Sign and certify the results"))
