"""Query and body forms of the observer pages and the audit API (one parser for both)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, IntegerField, StringField
from wtforms.validators import InputRequired, NumberRange, Optional

from ocv.bounds import int64_range
from ocv.text import Text

# A tree size or index the log could ever reach: a stored-hash index runs to twice the size
# (audit.merkle), and must stay within the 64 bits of its column.
MAX_TREE_SIZE = 2**62


def tree_range(low: int) -> NumberRange:
    return int64_range(low, MAX_TREE_SIZE)


class QueryForm(FlaskForm):
    """Read-only GET parameters: no CSRF token (nothing changes)."""

    class Meta:
        csrf = False


class EntryRangeForm(QueryForm):
    start = IntegerField(validators=[InputRequired(), tree_range(0)])
    end = IntegerField(validators=[InputRequired(), tree_range(0)])


class InclusionForm(QueryForm):
    index = IntegerField(validators=[InputRequired(), tree_range(0)])
    size = IntegerField(validators=[InputRequired(), tree_range(1)])


class ConsistencyForm(QueryForm):
    to = IntegerField(validators=[InputRequired(), tree_range(0)])


# The spec's parameter is `from`, a Python keyword, so the field is attached by name.
# RFC 9162 has no consistency proof from the empty tree, so `from` starts at 1.
setattr(ConsistencyForm, "from", IntegerField(validators=[InputRequired(), tree_range(1)]))  # noqa: B010


class LogFilterForm(QueryForm):
    type = StringField(_l("Event type"), validators=[Optional(), Text(max=80)])
    station = StringField(_l("Station"), validators=[Optional(), Text(max=32)])
    since = DateTimeLocalField(_l("From (UTC)"), validators=[Optional()], format="%Y-%m-%dT%H:%M")
    until = DateTimeLocalField(_l("Until (UTC)"), validators=[Optional()], format="%Y-%m-%dT%H:%M")
    before = IntegerField(validators=[Optional(), int64_range(0)])
