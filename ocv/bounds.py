"""Integers from URLs and bodies checked against the database's range before any SQL.

Every integer column is at most a signed 64-bit integer (PostgreSQL's BIGINT, SQLite's
INTEGER); a larger number would reach the driver and fail there as a server error. URL
segments pass the text check too: a NUL in a path is a 404, not a database error.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.routing import IntegerConverter, PathConverter, UnicodeConverter, ValidationError
from wtforms.validators import NumberRange

from ocv.text import problem

INT64_MAX = 2**63 - 1
INT32_MAX = 2**31 - 1  # PostgreSQL's INTEGER, for counts such as a station's capacity


def int64_range(low: int = 0, high: int = INT64_MAX) -> NumberRange:
    """The range validator of every IntegerField: `low`..`high`, never past 64 bits."""
    return NumberRange(min=low, max=min(high, INT64_MAX))


class Int64Converter(IntegerConverter):
    """`<int:...>` in every route: a number past 64 bits matches no route (404)."""

    def __init__(self, map: Any, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max", INT64_MAX)
        super().__init__(map, *args, **kwargs)


class TextConverter(UnicodeConverter):
    """`<name>` and `<string:name>`: a segment the text check refuses matches no route."""

    def to_python(self, value: str) -> Any:
        if problem(value):
            raise ValidationError()
        return super().to_python(value)


class TextPathConverter(PathConverter):
    def to_python(self, value: str) -> Any:
        if problem(value):
            raise ValidationError()
        return super().to_python(value)


def init_bounds(app: Flask) -> None:
    app.url_map.converters.update(
        int=Int64Converter, default=TextConverter, string=TextConverter, path=TextPathConverter
    )
