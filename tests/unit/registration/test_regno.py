"""Registration numbers: the check character catches every single substitution and every
transposition, and what people type (any case, spaces, dashes, lookalikes) normalizes back."""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from registration import regno
from registration.regno import ALPHABET, DATA_LENGTH, LENGTH, InvalidRegNo

SAMPLE = [regno.generate(random.Random(seed)) for seed in range(300)]
data_chars = st.text(alphabet=ALPHABET, min_size=DATA_LENGTH, max_size=DATA_LENGTH)
reg_nos = data_chars.map(lambda data: data + regno.check_char(data))


def _reason(text: str) -> str:
    with pytest.raises(InvalidRegNo) as raised:
        regno.validate(text)
    return raised.value.reason


def test_alphabet() -> None:
    assert len(set(ALPHABET)) == len(ALPHABET) == 31
    assert all(len(ALPHABET) % d for d in range(2, len(ALPHABET)))  # prime
    assert ALPHABET.upper() == ALPHABET
    assert not set("ILOUZ") & set(ALPHABET)


def test_generated_numbers_are_valid_and_canonical() -> None:
    for reg_no in SAMPLE + [regno.generate(), regno.generate(random.SystemRandom())]:
        assert len(reg_no) == LENGTH
        assert regno.validate(reg_no) == reg_no
        assert regno.is_valid(reg_no)


def test_generate_is_reproducible_with_a_seeded_rng() -> None:
    assert regno.generate(random.Random(1)) == regno.generate(random.Random(1))
    assert len(set(SAMPLE)) == len(SAMPLE)


def test_every_single_substitution_is_detected() -> None:
    checked = 0
    for reg_no in SAMPLE:
        for position in range(LENGTH):
            for symbol in ALPHABET:
                if symbol == reg_no[position]:
                    continue
                wrong = reg_no[:position] + symbol + reg_no[position + 1 :]
                assert not regno.is_valid(wrong), (reg_no, wrong)
                checked += 1
    assert checked == len(SAMPLE) * LENGTH * (len(ALPHABET) - 1)


def test_every_transposition_is_detected() -> None:
    adjacent = 0
    for reg_no in SAMPLE:
        for i in range(LENGTH):
            for j in range(i + 1, LENGTH):
                if reg_no[i] == reg_no[j]:
                    continue
                chars = list(reg_no)
                chars[i], chars[j] = chars[j], chars[i]
                assert _reason("".join(chars)) == "check", (reg_no, i, j)
                adjacent += j == i + 1
    assert adjacent > 2000


@pytest.mark.parametrize("reg_no", SAMPLE[:50])
def test_normalization_round_trips(reg_no: str) -> None:
    shown = regno.format(reg_no)
    assert re.fullmatch(r"[0-9A-Z]{3}-[0-9A-Z]{3}-[0-9A-Z]{3}", shown)
    for typed in (
        shown,
        shown.lower(),
        reg_no.lower(),
        " ".join(reg_no),
        f"  {shown.replace('-', ' ')}\t",
        shown.replace("-", " - "),
        shown.replace("-", "\u2013"),  # en dash, as phones autocorrect
        reg_no.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")),  # Arabic keyboard digits
        reg_no.translate(str.maketrans("0123456789", "۰۱۲۳۴۵۶۷۸۹")),  # Persian keyboard digits
        reg_no.replace("0", "o").replace("1", "l").replace("V", "u").replace("2", "Z"),
        reg_no.replace("1", "I").replace("0", "O"),
    ):
        assert regno.normalize(typed) == reg_no, typed
        assert regno.validate(typed) == reg_no, typed
        assert regno.format(typed) == shown


@pytest.mark.parametrize("text", ["", "K7M-4QX", "K7M-4QX-9T2-A", "0" * 10, "A" * 8])
def test_wrong_length_is_a_format_error(text: str) -> None:
    assert _reason(text) == "format"
    assert not regno.is_valid(text)


@pytest.mark.parametrize("text", ["K7M-4QX-9T!", "K7M_4QX_9T2", "K7M.4QX.9T2", "К7М-4QX-9T2", "ABC/DEF/GHJ"])
def test_foreign_characters_are_a_format_error(text: str) -> None:
    with pytest.raises(InvalidRegNo, match="not a registration number") as raised:
        regno.normalize(text)
    assert raised.value.reason == "format"


def test_messages_tell_format_from_check_errors() -> None:
    reg_no = SAMPLE[0]
    wrong = reg_no[:-1] + next(s for s in ALPHABET if s != reg_no[-1])
    with pytest.raises(InvalidRegNo) as check:
        regno.validate(wrong)
    with pytest.raises(InvalidRegNo) as form:
        regno.validate(reg_no[:-1])
    assert check.value.reason == "check"
    assert "check the number" in str(check.value)
    assert form.value.reason == "format"
    assert "not a registration number" in str(form.value)
    assert isinstance(check.value, ValueError)
    assert regno.normalize(wrong) == wrong  # well formed, just wrong
    with pytest.raises(InvalidRegNo):
        regno.format(wrong)


@pytest.mark.parametrize("data", ["", "ABC", "ABCDEFGHJ", "ABCDEFGO", "abcdefgh"])
def test_check_char_wants_canonical_data(data: str) -> None:
    with pytest.raises(InvalidRegNo):
        regno.check_char(data)


@given(reg_nos)
def test_property_valid_and_format_round_trip(reg_no: str) -> None:
    assert regno.validate(reg_no) == reg_no
    assert regno.validate(regno.format(reg_no)) == reg_no
    assert regno.normalize(regno.normalize(reg_no)) == reg_no


@given(reg_nos, st.integers(0, LENGTH - 1), st.sampled_from(ALPHABET))
def test_property_substitution_detected(reg_no: str, position: int, symbol: str) -> None:
    wrong = reg_no[:position] + symbol + reg_no[position + 1 :]
    assert regno.is_valid(wrong) == (wrong == reg_no)


@given(reg_nos, st.integers(0, LENGTH - 2))
def test_property_adjacent_transposition_detected(reg_no: str, i: int) -> None:
    swapped = reg_no[:i] + reg_no[i + 1] + reg_no[i] + reg_no[i + 2 :]
    assert regno.is_valid(swapped) == (swapped == reg_no)


@given(
    reg_nos,
    st.lists(st.sampled_from([" ", "-", "  ", "\u2011"]), min_size=LENGTH, max_size=LENGTH),
    st.lists(st.booleans(), min_size=LENGTH, max_size=LENGTH),
)
def test_property_decorations_normalize_away(reg_no: str, separators: list[str], lower: list[bool]) -> None:
    typed = "".join(
        (ch.lower() if low else ch) + sep for ch, sep, low in zip(reg_no, separators, lower, strict=True)
    )
    assert regno.validate(typed) == reg_no


@given(st.text(max_size=20))
def test_property_is_valid_agrees_with_validate(text: str) -> None:
    if regno.is_valid(text):
        canonical = regno.validate(text)
        assert regno.validate(canonical) == canonical
    else:
        with pytest.raises(InvalidRegNo) as raised:
            regno.validate(text)
        assert raised.value.reason in {"format", "check"}
