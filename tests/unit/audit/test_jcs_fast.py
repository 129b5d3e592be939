"""The writer's fast path yields exactly the reference JCS bytes."""

from __future__ import annotations

import unicodedata

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
