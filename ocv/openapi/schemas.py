"""JSON Schemas of what the declarations name: query forms (WTForms), error answers (from the
error classes) and path arguments (from Flask's converters)."""

from __future__ import annotations

import inspect
import typing
from typing import Any

import msgspec
from flask_wtf import FlaskForm
from sqlalchemy import BigInteger
from werkzeug.routing import BaseConverter, IntegerConverter, UnicodeConverter
from wtforms import DateField, Field, IntegerField, StringField
from wtforms.fields.core import UnboundField
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange

from ocv.errors import OCVError, ValidationError
from ocv.text import Text


class Error(msgspec.Struct, forbid_unknown_fields=True):
    """A refusal: `error` says why, in words fit to show the person who sent the request."""

    error: str


class Invalid(msgspec.Struct, forbid_unknown_fields=True):
    """Input that breaks a rule: `fields` lists each problem under the member it concerns."""

    error: str
    fields: dict[str, list[str]] = {}


def column_text(column: Any, **meta: Any) -> msgspec.Meta:
    """The constraints of a text member stored in `column` (a mapped attribute): at most its
    length, so the description tells clients the limit the database holds them to."""
    length = column.property.columns[0].type.length
    return msgspec.Meta(max_length=length, **meta)


def column_integer(column: Any, **meta: Any) -> msgspec.Meta:
    """The range of an integer member stored in `column`: what its SQL type holds (`meta`
    may narrow it), so no accepted value overflows the database."""
    bits = 64 if isinstance(column.property.columns[0].type, BigInteger) else 32
    bounds = {"ge": -(2 ** (bits - 1)), "le": 2 ** (bits - 1) - 1}
    return msgspec.Meta(**{**bounds, **meta})


_ERROR_TYPES: dict[type[OCVError], type[msgspec.Struct]] = {}


def error_type(error_class: type[OCVError]) -> type[msgspec.Struct]:
    """The answer an error class produces (`ocv.errors_web`): `Invalid` for validation errors,
    else `error` and the members the class's constructor takes besides its message."""
    if error_class not in _ERROR_TYPES:
        _ERROR_TYPES[error_class] = _answer_type(error_class)
    return _ERROR_TYPES[error_class]


def _answer_type(error_class: type[OCVError]) -> type[msgspec.Struct]:
    if issubclass(error_class, ValidationError):
        return Invalid
    members = _detail_members(error_class)
    if not members:
        return Error
    return msgspec.defstruct(
        error_class.__name__,
        [("error", str), *members],
        forbid_unknown_fields=True,
        module=error_class.__module__,
    )


def _detail_members(error_class: type[OCVError]) -> list[tuple[str, Any]]:
    owner = next((c for c in error_class.__mro__ if "__init__" in c.__dict__), OCVError)
    if owner is OCVError:
        return []
    init = owner.__dict__["__init__"]
    hints = typing.get_type_hints(init)
    return [
        (name, hints.get(name, str))
        for name, parameter in inspect.signature(init).parameters.items()
        if name not in ("self", "message") and parameter.kind is parameter.POSITIONAL_OR_KEYWORD
    ]


def error_description(error_class: type[OCVError]) -> str:
    """The class's own docstring (not an inherited one), if it has one."""
    doc = error_class.__dict__.get("__doc__")
    return inspect.cleandoc(doc) if doc else ""


# --- query forms -------------------------------------------------------------------------


def form_fields(form_class: type[FlaskForm]) -> list[tuple[str, UnboundField]]:
    unbound = [
        (name, value)
        for name in dir(form_class)
        if not name.startswith("_") and isinstance(value := getattr(form_class, name), UnboundField)
    ]
    return sorted(unbound, key=lambda item: item[1].creation_counter)


def query_parameters(form_class: type[FlaskForm]) -> list[dict[str, Any]]:
    """One OpenAPI query parameter per field, its constraints read from the field's validators."""
    parameters = []
    for name, unbound in form_fields(form_class):
        if not issubclass(unbound.field_class, IntegerField | StringField | DateField):
            if unbound.field_class.__name__ == "SubmitField":
                continue
            raise TypeError(f"{form_class.__name__}.{name}: no schema for {unbound.field_class.__name__}")
        validators = unbound.kwargs.get("validators", ())
        label = unbound.kwargs.get("label", unbound.args[0] if unbound.args else "")
        parameter: dict[str, Any] = {
            "name": name,
            "in": "query",
            "required": any(isinstance(v, InputRequired | DataRequired) for v in validators),
            "schema": _field_schema(unbound.field_class, validators),
        }
        if label:
            parameter["description"] = str(label)
        parameters.append(parameter)
    return parameters


def _field_schema(field_class: type[Field], validators: Any) -> dict[str, Any]:
    schema: dict[str, Any]
    if issubclass(field_class, IntegerField):
        schema = {"type": "integer"}
    elif issubclass(field_class, DateField):
        schema = {"type": "string", "format": "date"}
    else:
        schema = {"type": "string"}
    for validator in validators:
        if isinstance(validator, NumberRange):
            if validator.min is not None:
                schema["minimum"] = validator.min
            if validator.max is not None:
                schema["maximum"] = validator.max
        elif isinstance(validator, Length):
            if validator.min > 0:
                schema["minLength"] = validator.min
            if validator.max >= 0:
                schema["maxLength"] = validator.max
        elif isinstance(validator, Text) and validator.max is not None:
            schema["maxLength"] = validator.max
        elif isinstance(validator, DataRequired) and schema["type"] == "string" and "format" not in schema:
            schema.setdefault("minLength", 1)
    return schema


# --- path arguments ----------------------------------------------------------------------


def path_schema(converter: BaseConverter) -> dict[str, Any]:
    """What Flask's converter lets through to the view (anything else is a 404)."""
    if isinstance(converter, IntegerConverter):
        schema: dict[str, Any] = {"type": "integer"}
        if not converter.signed:
            schema["minimum"] = 0
        if converter.min is not None:
            schema["minimum"] = converter.min
        if converter.max is not None:
            schema["maximum"] = converter.max
        return schema
    if isinstance(converter, UnicodeConverter):
        # Its regex is "[^/]{min,max}": no slash, at least one character by default.
        low, _, high = converter.regex.removeprefix("[^/]{").removesuffix("}").partition(",")
        schema = {"type": "string", "minLength": int(low or 1)}
        if high:
            schema["maxLength"] = int(high)
        return schema
    raise TypeError(f"no schema for the path converter {type(converter).__name__}")
