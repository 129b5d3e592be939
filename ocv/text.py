"""The one check every text entering the system passes (forms, JSON bodies, imports, URLs).

A text is accepted in Unicode NFC, without NUL or other control characters (a multi-line
text may hold line breaks and tabs), without lone surrogates, and no longer than the column
that stores it. NUL and lone surrogates are what PostgreSQL and the UTF-8 codec refuse;
other control characters are refused too, because nobody types them and they hide text
(a tab or a carriage return in a name, a redirect target or a log line).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from flask_babel import gettext as _
from wtforms import Field, ValidationError

# C0 and C1 controls, DEL, and the surrogate range (only lone surrogates survive decoding).
_REFUSED = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
_REFUSED_MULTILINE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


# WTForms' own words for a text too long, which WTForms' catalogs translate (not ours).
WTFORMS_TOO_LONG = "Field cannot be longer than %(max)d characters."


class TextError(ValueError):
    """A text the system does not accept; the message says why, for the person who sent it."""

    def __init__(self, message: str, kind: str, char: str = "") -> None:
        super().__init__(message)
        self.kind, self.char = kind, char  # "control" (and which), "surrogate" or "length"


def problem(value: str, limit: int | None = None, *, multiline: bool = False) -> str | None:
    """Why `value` is refused, or None. Nothing is normalized: see `clean`."""
    error = _error(value, limit, multiline)
    return str(error) if error else None


def _error(value: str, limit: int | None, multiline: bool) -> TextError | None:
    refused = (_REFUSED_MULTILINE if multiline else _REFUSED).search(value)
    if refused:
        char = refused.group()
        if "\ud800" <= char <= "\udfff":
            return TextError("Holds an incomplete character (a lone surrogate).", "surrogate")
        return TextError(f"Holds a control character (U+{ord(char):04X}).", "control", char)
    if limit is not None and len(value) > limit:
        return TextError(f"At most {limit} characters.", "length")
    return None


def clean(value: str, limit: int | None = None, *, multiline: bool = False, normalize: bool = True) -> str:
    """`value` in NFC, or TextError. The limit is counted after normalizing, as stored.

    `normalize=False` keeps a secret (a password) exactly as typed.
    """
    if normalize and not value.isascii():  # ASCII is NFC already
        # A lone surrogate survives NFC, so the check below still sees it.
        value = unicodedata.normalize("NFC", value)
    error = _error(value, limit, multiline)
    if error:
        raise error
    return value


class Text:
    """WTForms validator for every text field: `clean` on its data, normalizing it in place.

    `Text(max=100)` replaces `Length(max=100)`: the maximum is the column's length.
    """

    def __init__(self, max: int | None = None, *, multiline: bool = False, normalize: bool = True) -> None:
        self.max, self.multiline, self.normalize = max, multiline, normalize
        self.field_flags = {"maxlength": max} if max is not None else {}

    def __call__(self, form: Any, field: Field) -> None:
        if not isinstance(field.data, str):
            return
        try:
            value = clean(field.data, multiline=self.multiline, normalize=self.normalize)
        except TextError as error:
            if error.kind == "surrogate":
                raise ValidationError(_("Holds an incomplete character (a lone surrogate).")) from None
            code = f"{ord(error.char):04X}"
            raise ValidationError(_("Holds a control character (U+%(code)s).", code=code)) from None
        if self.max is not None and len(value) > self.max:
            raise ValidationError(field.gettext(WTFORMS_TOO_LONG) % {"max": self.max})
        field.data = value
