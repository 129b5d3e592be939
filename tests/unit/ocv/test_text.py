"""The one text check: NFC, no control characters, no lone surrogates, the column's length."""

from __future__ import annotations

import pytest
from wtforms import Form, StringField

from ocv.text import Text, TextError, clean, problem


def test_text_is_normalized_to_nfc_before_its_length_is_counted() -> None:
    assert clean("Jose\u0301", 4) == "Jos\u00e9"
    assert clean("a" * 5, 5) == "aaaaa"
    with pytest.raises(TextError, match="At most 5"):
        clean("a" * 6, 5)


@pytest.mark.parametrize("char", ["\x00", "\x07", "\t", "\n", "\r", "\x1b", "\x7f", "\x9b"])
def test_control_characters_are_refused_on_one_line(char: str) -> None:
    assert problem(f"a{char}b") == f"Holds a control character (U+{ord(char):04X})."


def test_a_multiline_text_keeps_its_line_breaks_and_tabs_but_no_nul() -> None:
    assert clean("one\r\ntwo\tthree", multiline=True) == "one\r\ntwo\tthree"
    with pytest.raises(TextError, match="U\\+0000"):
        clean("one\x00", multiline=True)


def test_lone_surrogates_are_refused_even_unnormalized() -> None:
    for value in ("\ud800", "x\udfffy", "é\udc80"):
        with pytest.raises(TextError, match="surrogate"):
            clean(value)
        with pytest.raises(TextError, match="surrogate"):
            clean(value, normalize=False)


def test_a_secret_is_checked_as_typed() -> None:
    assert clean("Jose\u0301", normalize=False) == "Jose\u0301"


def test_the_form_validator_normalizes_and_words_a_length_as_wtforms_does() -> None:
    class NameForm(Form):
        name = StringField(validators=[Text(max=4)])

    form = NameForm(data={"name": "Jose\u0301"})
    assert form.validate()
    assert form.name.data == "Jos\u00e9"
    too_long = NameForm(data={"name": "Josefa"})
    assert not too_long.validate()
    assert too_long.errors == {"name": ["Field cannot be longer than 4 characters."]}
    assert NameForm.name.kwargs["validators"][0].field_flags == {"maxlength": 4}
