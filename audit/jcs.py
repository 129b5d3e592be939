"""RFC 8785 (JCS) canonical JSON, with the audit log's extra rules.

Extra rules (docs/specs/audit-log-format.md): no floating-point numbers, every
string NFC, no duplicate member names. The writer repairs what it can
(`normalize`) and serializes (`canonical_bytes`); the verifier only checks
(`is_canonical`) and must reject, never repair.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Mapping
from typing import Any, NoReturn

import orjson
import rfc8785

# JCS numbers are IEEE doubles: a larger integer would not survive another implementation.
MAX_INT = 2**53 - 1

_ORJSON_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_STRICT_INTEGER
_BELOW_F0 = bytes(range(0xF0))


class CanonicalError(ValueError):
    """Not canonical JSON in the log's sense."""


def normalize(obj: Any) -> Any:
    """A copy with every string, member names included, in NFC; mappings become dicts,
    tuples lists. Other values are kept as they are, for `canonical_bytes` to judge."""
    return _normal(obj, strict=False)


def canonical_form(obj: Any) -> bytes:
    """`canonical_bytes(normalize(obj))`, what the log appends, in one walk of `obj`: the
    second walk, to find and name what JCS cannot hold, runs only if something is there."""
    try:
        return _serialize(_normal(obj, strict=True))
    except _NotJSON:
        return canonical_bytes(normalize(obj))


class _NotJSON(Exception):
    pass


def _normal(obj: Any, *, strict: bool) -> Any:
    if isinstance(obj, str):
        return unicodedata.normalize("NFC", obj)
    if isinstance(obj, Mapping):
        out: dict[str, Any] = {}
        for key, value in obj.items():
            if not isinstance(key, str):
                raise CanonicalError(f"member name {key!r} is not a string")
            name = unicodedata.normalize("NFC", key)
            if name in out:
                raise CanonicalError(f"member names collide once NFC-normalized: {name!r}")
            out[name] = _normal(value, strict=strict)
        return out
    if isinstance(obj, list | tuple):
        return [_normal(item, strict=strict) for item in obj]
    if strict and not (obj is None or (isinstance(obj, int) and -MAX_INT <= obj <= MAX_INT)):
        raise _NotJSON  # a bool is an int
    return obj


def canonical_bytes(obj: Any) -> bytes:
    """The JCS bytes of `obj`; CanonicalError if it holds a float, a non-NFC string,
    a non-string member name, an integer beyond ±(2**53 - 1) or a non-JSON type."""
    problem = _problem(obj)
    if problem is not None:
        _fail(problem)
    return _serialize(obj)


def _serialize(obj: Any) -> bytes:
    """The JCS bytes of `obj`, once nothing in it is beyond JCS (checked by `_problem`, or
    by `_normal` as it copies)."""
    # Appends are on every check-in's path: orjson's sorted output is the JCS form
    # whenever no string needed an escape and no character lies beyond U+FFFF (where
    # code-point and UTF-16 key orders part); otherwise the reference serializer decides.
    try:
        fast = orjson.dumps(obj, option=_ORJSON_OPTIONS)
    except orjson.JSONEncodeError:  # lone surrogates: the reference path names the problem
        fast = b"\\"
    if b"\\" not in fast and not fast.translate(None, _BELOW_F0):
        return fast
    try:
        return rfc8785.dumps(obj)
    except rfc8785.CanonicalizationError as error:  # lone surrogates in a value
        raise CanonicalError(str(error)) from None
    except UnicodeEncodeError:  # in a member name: the reference fails sorting it
        raise CanonicalError("member name holds a lone surrogate (not UTF-8)") from None


def loads_strict(data: bytes | str) -> Any:
    """Parse JSON, rejecting duplicate member names, floats, NaN and Infinity."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        return json.loads(
            text,
            object_pairs_hook=_unique_members,
            parse_float=_reject_float,
            parse_constant=_reject_float,
        )
    except CanonicalError:
        raise
    except ValueError as error:  # includes UnicodeDecodeError and JSONDecodeError
        raise CanonicalError(f"not JSON: {error}") from None


def is_canonical(line: bytes, *, floats: bool = True) -> Any:
    """The parsed object if `line` is exactly the canonical form of it; else CanonicalError.

    Fast path: orjson's sorted output equals JCS for integers, strings and keys below
    U+10000 (tests/unit/audit/test_verify.py checks every code point), and it can never
    equal a line with duplicate names (it writes each name once) or whitespace. Floats
    would round-trip, so they are searched for; NFC is checked on the whole line, which
    is NFC only if every string in it is. Anything else takes the strict path.

    `floats=False` skips the search, for a caller that checks the exact type of every
    value it reads and calls `has_float` on the rest (audit.verify, once per entry).
    """
    try:
        obj = orjson.loads(line)
        same = orjson.dumps(obj, option=_ORJSON_OPTIONS) == line
    except (orjson.JSONDecodeError, orjson.JSONEncodeError):
        same = False
    if same and (line.isascii() or fast_path_holds(line)) and (not floats or not has_float(obj)):
        return obj
    return _strict_check(line)


def has_float(obj: Any) -> bool:
    """Whether a float is anywhere in `obj` (as parsed from JSON: exact types)."""
    values = obj.values() if type(obj) is dict else obj if type(obj) is list else (obj,)
    for value in values:
        kind = type(value)
        if kind is float or ((kind is dict or kind is list) and has_float(value)):
            return True
    return False


def fast_path_holds(line: bytes) -> bool:
    """Whether a sorted dump that equals these bytes proves them canonical beyond ASCII:
    every string NFC, and no character above U+FFFF, where a sort by code point (orjson,
    msgspec) and JCS's by UTF-16 unit can part. Its UTF-8 lead byte is F0 to F4."""
    return not line.translate(None, _BELOW_F0) and unicodedata.is_normalized("NFC", line.decode("utf-8"))


def _strict_check(line: bytes) -> Any:
    obj = loads_strict(line)
    canonical = canonical_bytes(obj)
    if canonical != line:
        at = next(
            (i for i, (a, b) in enumerate(zip(canonical, line, strict=False)) if a != b),
            min(len(canonical), len(line)),
        )
        raise CanonicalError(f"not in JCS canonical form (first difference at byte {at})")
    return obj


def _problem(obj: Any) -> tuple[str, str] | None:
    """(path, why) of the first thing JCS with the log's rules cannot hold, or None."""
    if obj is None or isinstance(obj, bool):
        return None
    if isinstance(obj, str):
        return None if unicodedata.is_normalized("NFC", obj) else ("", "string not in NFC")
    if isinstance(obj, int):
        return None if -MAX_INT <= obj <= MAX_INT else ("", "integer beyond ±(2**53 - 1)")
    if isinstance(obj, float):
        return ("", "floating-point number")
    if isinstance(obj, dict):
        for key, value in obj.items():
            if not isinstance(key, str):
                return (f"[{key!r}]", "member name is not a string")
            if not unicodedata.is_normalized("NFC", key):
                return (f".{key}", "member name not in NFC")
            found = _problem(value)
            if found is not None:
                return (f".{key}{found[0]}", found[1])
        return None
    if isinstance(obj, list | tuple):
        for index, item in enumerate(obj):
            found = _problem(item)
            if found is not None:
                return (f"[{index}]{found[0]}", found[1])
        return None
    return ("", f"{type(obj).__name__} is not a JSON type")


def _fail(problem: tuple[str, str]) -> NoReturn:
    path, why = problem
    raise CanonicalError(f"{path.lstrip('.')}: {why}" if path else why)


def _unique_members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        names = [name for name, _ in pairs]
        duplicate = next(n for n in names if names.count(n) > 1)
        raise CanonicalError(f"duplicate member name {duplicate!r}")
    return obj


def _reject_float(text: str) -> NoReturn:
    raise CanonicalError(f"floating-point number {text}")
