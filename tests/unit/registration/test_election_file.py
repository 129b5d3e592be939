"""The election file's checks that guard the database's own limits."""

from __future__ import annotations

import pytest

from registration import election_file
from registration.errors import ElectionFileError
from tests.integration.test_registration import demo_definition


def test_values_the_database_would_refuse_are_problems_of_the_file() -> None:
    data = demo_definition(
        name="x" * 201, eligibility={"minimum_age": 121, "documents": {"accepted": ["passport"]}}
    )
    data["stations"][2]["address"] = "y" * 301  # type: ignore[index]
    with pytest.raises(ElectionFileError) as caught:
        election_file.parse(data)
    assert caught.value.fields == {
        "name": ["must be at most 200 characters"],
        "eligibility.minimum_age": ["must be between 0 and 120"],
        "stations[2].address": ["must be at most 300 characters"],
    }
