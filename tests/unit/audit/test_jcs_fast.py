"""The writer's fast path yields exactly the reference JCS bytes."""

from __future__ import annotations

import re
import unicodedata

import pytest
import rfc8785
from hypothesis import given
from hypothesis import strategies as st

from audit import jcs

MAX = 2**53 - 1
texts = st.text().map(lambda s: unicodedata.normalize("NFC", s))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-MAX, MAX) | texts,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(texts, children, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_fast_path_equals_reference_jcs(value: object) -> None:
    try:
        expected = rfc8785.dumps(value)
    except rfc8785.CanonicalizationError:
        return  # lone surrogates: refused either way
    assert jcs.canonical_bytes(value) == expected


def test_escapes_and_astral_keys_take_the_reference_path() -> None:
    for value in ({"a": 'quote " and \\n'}, {"\U0001f600": 1, "\ufb01": 2}, {"tab": "\t\u001f"}):
        assert jcs.canonical_bytes(value) == rfc8785.dumps(value)


@given(json_values)
def test_canonical_form_is_canonical_bytes_of_the_normal_form(value: object) -> None:
    try:
        expected = jcs.canonical_bytes(jcs.normalize(value))
    except jcs.CanonicalError:
        return
    assert jcs.canonical_form(value) == expected


def test_canonical_form_names_what_json_cannot_hold() -> None:
    for value, where in (
        ({"a": [1, {"b": 1.5}]}, "a[1].b: floating-point number"),
        ({"n": 2**53}, "n: integer beyond"),
        ({"when": object()}, "when: object is not a JSON type"),
    ):
        with pytest.raises(jcs.CanonicalError, match=re.escape(where)):
            jcs.canonical_form(value)
    assert jcs.canonical_form({"name": "Mu\u0308ller", "ok": [True, None, -7]}) == (
        '{"name":"Müller","ok":[true,null,-7]}'.encode()
    )
