"""The pieces the description is read from: forms, error classes, path converters, columns."""

from __future__ import annotations

import pytest
from werkzeug.routing import Map, Rule

from audit.forms import ConsistencyForm, EntryRangeForm
from audit.models import Cosignature
from ocv.errors import Conflict, NotFound
from ocv.openapi.operation import _fields
from ocv.openapi.schemas import (
    Error,
    Invalid,
    column_integer,
    column_text,
    error_description,
    error_type,
    path_schema,
    query_parameters,
)
from registration.errors import DuplicateDocument, MistypedRegNo, StationFull
from registration.forms import SelfCheckForm
from registration.models import Voter


def test_query_parameters_come_from_the_form_validators() -> None:
    assert query_parameters(EntryRangeForm) == [
        {
            "name": "start",
            "in": "query",
            "required": True,
            "schema": {"type": "integer", "minimum": 0, "maximum": 2**62},
        },
        {
            "name": "end",
            "in": "query",
            "required": True,
            "schema": {"type": "integer", "minimum": 0, "maximum": 2**62},
        },
    ]
    by_name = {p["name"]: p for p in query_parameters(ConsistencyForm)}
    assert by_name["from"]["schema"] == {
        "type": "integer",
        "minimum": 1,
        "maximum": 2**62,
    }  # attached by name
    check = {p["name"]: p for p in query_parameters(SelfCheckForm)}
    assert set(check) == {"reg_no", "date_of_birth"}  # the submit button is no parameter
    assert check["reg_no"]["schema"] == {"type": "string", "maxLength": 20, "minLength": 1}
    assert check["date_of_birth"]["schema"] == {"type": "string", "format": "date"}
    assert check["reg_no"]["description"] == "Registration number"


def test_error_answers_carry_the_members_of_their_class() -> None:
    duplicate = error_type(DuplicateDocument)
    assert duplicate.__struct_fields__ == ("error", "duplicate_of")
    assert error_type(StationFull) is Error  # no members of its own
    assert error_type(NotFound) is Error
    assert error_type(Conflict) is Error
    assert error_type(MistypedRegNo) is Invalid  # a ValidationError: `fields`, never `reason`
    assert error_description(DuplicateDocument).startswith("The document is registered already")
    assert error_description(NotFound) == ""  # not the parent's docstring


def test_path_schemas_follow_the_converters() -> None:
    rules = Map(
        [Rule("/a/<int:size>"), Rule("/b/<code>"), Rule("/c/<string(minlength=2, maxlength=8):code>")]
    )
    schemas = [path_schema(next(iter(rule._converters.values()))) for rule in rules.iter_rules()]
    assert schemas == [
        {"type": "integer", "minimum": 0},
        {"type": "string", "minLength": 1},
        {"type": "string", "minLength": 2, "maxLength": 8},
    ]


def test_column_limits_are_read_from_the_models() -> None:
    assert column_text(Voter.given_name).max_length == 100
    assert column_text(Voter.names_original_script).max_length == 300
    size = column_integer(Cosignature.checkpoint_size, ge=1)
    assert (size.ge, size.le) == (1, 2**63 - 1)


@pytest.mark.parametrize(
    ("message", "fields"),
    [
        ("Expected `str`, got `int` - at `$.given_name`", {"given_name": ["Expected `str`, got `int`"]}),
        (
            "Object missing required field `family_name`",
            {"family_name": ["Object missing required field `family_name`"]},
        ),
        (
            "Expected `str` of length <= 32 - at `$.documents[1].type`",
            {"documents": ["Expected `str` of length <= 32 (at documents[1].type)"]},
        ),
        ("Expected `object`, got `array`", {"body": ["Expected `object`, got `array`"]}),
    ],
)
def test_body_problems_are_filed_under_their_member(message: str, fields: dict[str, list[str]]) -> None:
    assert _fields(message) == fields
