"""Query and body forms of the observer pages and the audit API (one parser for both)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, IntegerField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional


class QueryForm(FlaskForm):
    """Read-only GET parameters: no CSRF token (nothing changes)."""

    class Meta:
        csrf = False


class EntryRangeForm(QueryForm):
    start = IntegerField(validators=[InputRequired(), NumberRange(min=0)])
    end = IntegerField(validators=[InputRequired(), NumberRange(min=0)])


class InclusionForm(QueryForm):
    index = IntegerField(validators=[InputRequired(), NumberRange(min=0)])
    size = IntegerField(validators=[InputRequired(), NumberRange(min=1)])


class ConsistencyForm(QueryForm):
    to = IntegerField(validators=[InputRequired(), NumberRange(min=0)])


# The spec's parameter is `from`, a Python keyword, so the field is attached by name.
# RFC 9162 has no consistency proof from the empty tree, so `from` starts at 1.
setattr(ConsistencyForm, "from", IntegerField(validators=[InputRequired(), NumberRange(min=1)]))  # noqa: B010


class LogFilterForm(QueryForm):
    type = StringField(_l("Event type"), validators=[Optional(), Length(max=80)])
    station = StringField(_l("Station"), validators=[Optional(), Length(max=32)])
    since = DateTimeLocalField(_l("From (UTC)"), validators=[Optional()], format="%Y-%m-%dT%H:%M")
    until = DateTimeLocalField(_l("Until (UTC)"), validators=[Optional()], format="%Y-%m-%dT%H:%M")
    before = IntegerField(validators=[Optional(), NumberRange(min=0)])
