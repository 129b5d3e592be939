"""`operation`: one declaration per API endpoint that enforces its access, parses its input,
shapes its answer and is what the OpenAPI document describes."""

from __future__ import annotations

import enum
import functools
import re
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec
from flask import Response, request
from flask_wtf import FlaskForm

from ocv import text
from ocv.acting import Actor, authorize
from ocv.auth.permissions import Permission
from ocv.errors import OCVError, ValidationError
from ocv.security import limiter
from ocv.web import MAX_JSON_BYTES, BodyTooLarge, api_user, parse_json

ATTRIBUTE = "__openapi__"


class Access(enum.Enum):
    PUBLIC = "public"  # anyone, no token
    TOKEN = "token"  # noqa: S105 (a kind of access, not a secret): any valid API token, any role


PUBLIC = Access.PUBLIC
TOKEN = Access.TOKEN


@dataclass(frozen=True)
class Answer:
    """A successful answer: a msgspec type encoded as JSON, or another media type that the
    view returns as a ready `Response` (text, a JSON-lines stream, an archive)."""

    type: Any = None
    media_type: str = "application/json"
    description: str = ""
    example: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)  # name → description


@dataclass(frozen=True)
class Operation:
    summary: str
    description: str
    access: Access | Permission
    answers: Mapping[int, Answer]
    errors: tuple[type[OCVError], ...]
    query: type[FlaskForm] | None
    body: Any
    max_bytes: int
    example: Any
    limit: str | Callable[[], str] | None
    examples: Mapping[int, Any]  # error status → example answer, where a default will not do

    @property
    def success(self) -> int:
        return min(self.answers)


def operation(
    summary: str,
    *,
    access: Access | Permission,
    answers: Mapping[int, Answer | Any],
    errors: tuple[type[OCVError], ...] = (),
    query: type[FlaskForm] | None = None,
    body: Any = None,
    max_bytes: int = MAX_JSON_BYTES,
    example: Any = None,
    limit: str | Callable[[], str] | None = None,
    examples: Mapping[int, Any] | None = None,
    description: str = "",
) -> Callable[[Callable[..., Any]], Callable[..., Response]]:
    """Declare an API endpoint. The view receives `actor` (unless public), `query` (the
    validated form) and `body` (the decoded type) as keywords besides its path arguments, and
    returns an instance of its answer's type (or `(value, status)`, or a `Response`)."""
    declared = Operation(
        summary=summary,
        description=description,
        access=access,
        answers={status: a if isinstance(a, Answer) else Answer(a) for status, a in answers.items()},
        errors=errors,
        query=query,
        body=body,
        max_bytes=max_bytes,
        example=example,
        limit=limit,
        examples=examples or {},
    )

    def decorate(view: Callable[..., Any]) -> Callable[..., Response]:
        @functools.wraps(view)
        def run(**arguments: Any) -> Response:
            if declared.access is not Access.PUBLIC:
                user = api_user()
                assert user is not None  # api_user() raised without a token
                actor = Actor.of(user)
                if isinstance(declared.access, Permission):
                    # The service decides too (a station official's station among it); refusing
                    # here as well makes the role the description names the one enforced.
                    authorize(actor, declared.access)
                arguments["actor"] = actor
            if declared.query is not None:
                arguments["query"] = parsed_query(declared.query)
            if declared.body is not None:
                arguments["body"] = decoded_body(declared.body, declared.max_bytes)
            return encoded(declared, view(**arguments))

        endpoint = limiter.limit(declared.limit)(run) if declared.limit else run
        setattr(endpoint, ATTRIBUTE, declared)
        return endpoint

    return decorate


def described(view: Callable[..., Any]) -> Operation | None:
    found: Operation | None = getattr(view, ATTRIBUTE, None)
    return found


def parsed_query(form_class: type[FlaskForm]) -> FlaskForm:
    form = form_class(formdata=request.args, meta={"csrf": False})
    if not form.validate():
        raise ValidationError("Invalid parameters.", {k: list(v) for k, v in form.errors.items()})
    return form


_AT = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_MISSING = re.compile(r"missing required field `(?P<name>[^`]+)`")


def decoded_body(body_type: Any, max_bytes: int = MAX_JSON_BYTES) -> Any:
    """The body as its declared type, within its size (413 past it); every text in it passes
    the one text check (ocv.text: no control characters, no lone surrogates)."""
    if (request.content_length or 0) > max_bytes:
        raise BodyTooLarge(f"A body holds at most {max_bytes:,} bytes here.")
    raw = request.stream.read(max_bytes + 1)
    if len(raw) > max_bytes:
        raise BodyTooLarge(f"A body holds at most {max_bytes:,} bytes here.")
    try:
        if body_type is Any or typing.get_origin(body_type) is dict and typing.get_args(body_type)[1] is Any:
            body = parse_json(raw)  # free-form: nesting bounded as for every JSON body
            if not isinstance(body, dict):
                raise ValidationError("Send a JSON object.", {"body": ["Expected a JSON object."]})
        else:
            body = msgspec.json.decode(raw, type=body_type)
    except msgspec.ValidationError as error:
        raise ValidationError("The request body has problems.", _fields(str(error))) from None
    except (msgspec.DecodeError, ValueError) as error:
        if isinstance(error, ValidationError):
            raise
        raise ValidationError("Send a JSON object.", {"body": ["Not valid JSON."]}) from None
    _check_texts(msgspec.to_builtins(body))
    return body


def _check_texts(value: Any, at: str = "body") -> None:
    stack = [(at, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            if problem := text.problem(item, multiline=True):
                raise ValidationError(f"{where}: {problem}", {where.split(".")[0].split("[")[0]: [problem]})
        elif isinstance(item, dict):
            for key, child in item.items():
                stack.append((f"{where}.{key}" if where != "body" else str(key), key))
                stack.append((f"{where}.{key}" if where != "body" else str(key), child))
        elif isinstance(item, list):
            stack.extend((f"{where}[{i}]", child) for i, child in enumerate(item))


def _fields(message: str) -> dict[str, list[str]]:
    """msgspec names the first problem by its JSON path: file it under its top-level member."""
    at = _AT.search(message)
    text = message[: at.start()] if at else message
    path = at.group("path") if at else ""
    member = re.match(r"\.(\w+)", path)
    if member is None:
        missing = _MISSING.search(text)
        return {missing.group("name") if missing else "body": [text]}
    name = member.group(1)
    deeper = path[member.end() :]
    return {name: [f"{text} (at {path[1:]})" if deeper else text]}


def encoded(declared: Operation, result: Any) -> Response:
    if isinstance(result, Response):
        return result
    status = declared.success
    if isinstance(result, tuple):
        result, status = result
    answer = declared.answers[status]
    # Converting checks the value against its declared type: an answer that would not match
    # its description fails here, in the tests, rather than in a client.
    payload = msgspec.json.encode(msgspec.convert(result, answer.type, from_attributes=True))
    return Response(payload, status=status, mimetype=answer.media_type)
