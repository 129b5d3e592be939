"""Account forms. Validation of rules lives in the service; forms check shape only."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectChoice, SelectField, StringField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

from ocv.auth.models import Role
from ocv.text import Text

# Passwords pass the text check as typed: a secret is never normalized.
PASSWORD = Text(max=1024, normalize=False)

ROLE_LABELS = {
    Role.ADMIN: _l("Administrator"),
    Role.REGISTRATION_OFFICER: _l("Registration officer"),
    Role.PRESIDING_OFFICER: _l("Presiding officer"),
    Role.CLERK: _l("Clerk"),
    Role.TALLY_OFFICER: _l("Tally officer"),
    Role.OBSERVER: _l("Observer"),
}
ROLE_CHOICES = [SelectChoice(role.value, label) for role, label in ROLE_LABELS.items()]


class LoginForm(FlaskForm):
    username = StringField(
        _l("User name"),
        validators=[DataRequired(), Text(max=64)],
        render_kw={"autocomplete": "username", "autocapitalize": "none", "autofocus": True},
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), PASSWORD],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Sign in"))


class SecondFactorForm(FlaskForm):
    code = StringField(
        _l("Code from your authenticator app"),
        validators=[DataRequired(), Length(min=6), Text(max=8)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True},
    )
    submit = SubmitField(_l("Verify"))


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(), PASSWORD],
        render_kw={"autocomplete": "current-password"},
    )
    new_password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), PASSWORD],
        render_kw={"autocomplete": "new-password", "minlength": 12},
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), PASSWORD, EqualTo("new_password", message=_l("The passwords differ."))],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Change password"))


class EnableTotpForm(FlaskForm):
    code = StringField(
        _l("Code shown by the app"),
        validators=[DataRequired(), Length(min=6), Text(max=8)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )
    submit = SubmitField(_l("Turn on two-step sign-in"))


class ConfirmPasswordForm(FlaskForm):
    password = PasswordField(
        _l("Your password"),
        validators=[DataRequired(), PASSWORD],
        render_kw={"autocomplete": "current-password"},
    )
    submit = SubmitField(_l("Confirm"))


class TokenForm(FlaskForm):
    name = StringField(_l("What the token is for"), validators=[Optional(), Text(max=100)])
    submit = SubmitField(_l("Create API token"))


class ActionForm(FlaskForm):
    """A bare form: a button whose only field is the CSRF token (logout, revoke, unlock)."""


class NewUserForm(FlaskForm):
    username = StringField(_l("User name"), validators=[DataRequired(), Text(max=64)])
    full_name = StringField(_l("Full name"), validators=[Optional(), Text(max=200)])
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    station_code = StringField(
        _l("Station code (presiding officers and clerks)"), validators=[Optional(), Text(max=32)]
    )
    password = PasswordField(
        _l("Temporary password"),
        validators=[DataRequired(), PASSWORD],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Create user"))


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)
    station_code = StringField(_l("Station code"), validators=[Optional(), Text(max=32)])
    submit = SubmitField(_l("Change role"))


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("Temporary password"),
        validators=[DataRequired(), PASSWORD],
        render_kw={"autocomplete": "new-password"},
    )
    submit = SubmitField(_l("Set temporary password"))
