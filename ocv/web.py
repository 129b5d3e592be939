"""Small helpers shared by every blueprint: settings, session, API authentication, JSON bodies."""

from __future__ import annotations

import json
from typing import Any

import orjson
from flask import current_app, flash, request
from flask_login import current_user
from flask_wtf import FlaskForm

from ocv.acting import Actor
from ocv.auth import service as accounts
from ocv.auth.models import User
from ocv.db import request_session
from ocv.errors import AuthenticationFailed, OCVError, ValidationError
from ocv.settings import Settings

# A JSON request body: large enough for any voter or cosignature, small enough that a
# client cannot make a worker parse megabytes; nesting as deep as any body we define, and
# far from where a parser's recursion would fail.
MAX_JSON_BYTES = 64 * 1024
MAX_JSON_DEPTH = 16


class BodyTooLarge(OCVError):
    http_status = 413


def current_settings() -> Settings:
    settings: Settings = current_app.config["OCV_SETTINGS"]
    return settings


def signed_in_user() -> User | None:
    """The user of a browser session, or None."""
    if current_user.is_authenticated:
        user: User = current_user._get_current_object()
        return user
    return None


def signed_in_actor() -> Actor:
    """The signed-in user as the actor of a service call (pages behind login_required)."""
    user = signed_in_user()
    if user is None:
        raise AuthenticationFailed("Sign in first.")
    return Actor.of(user)


def api_user(required: bool = True) -> User | None:
    """The user of a JSON API call, from `Authorization: Bearer <token>` only.

    The API never accepts the session cookie, which is why it can be exempt from CSRF.
    """
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        if required:
            raise AuthenticationFailed("Send an API token: 'Authorization: Bearer <token>'.")
        return None
    return accounts.user_for_token(request_session(), token.strip())


def api_actor() -> Actor:
    """The token's user as the actor of a service call."""
    user = api_user()
    assert user is not None  # required: api_user raised otherwise
    return Actor.of(user)


def json_body() -> Any:
    """The request's JSON body, parsed within the size and depth limits; every JSON endpoint
    reads its body here. None without a JSON content type (the caller says what it expects);
    ValidationError for a body that is not JSON, BodyTooLarge for one past the size."""
    if not request.is_json:
        return None
    if (request.content_length or 0) > MAX_JSON_BYTES:
        raise BodyTooLarge(f"A JSON body holds at most {MAX_JSON_BYTES} bytes.")
    raw = request.stream.read(MAX_JSON_BYTES + 1)  # a body without Content-Length too
    if len(raw) > MAX_JSON_BYTES:
        raise BodyTooLarge(f"A JSON body holds at most {MAX_JSON_BYTES} bytes.")
    try:
        return parse_json(raw)
    except json.JSONDecodeError as error:
        raise ValidationError(f"The body is not JSON: {error}.") from None


def parse_json(raw: bytes | str) -> Any:
    """JSON nesting at most MAX_JSON_DEPTH deep, or json.JSONDecodeError. NaN, infinities
    and lone surrogates are refused, as RFC 8259 says; orjson's own depth limit (1024)
    keeps its parser from ever recursing too deep."""
    value = orjson.loads(raw)  # raises orjson.JSONDecodeError, a json.JSONDecodeError
    if _depth(value) > MAX_JSON_DEPTH:
        text = raw if isinstance(raw, str) else raw.decode()
        raise json.JSONDecodeError(f"nests deeper than {MAX_JSON_DEPTH} levels", text, 0)
    return value


def _depth(value: Any) -> int:
    """How deeply `value` nests lists and objects, without recursion."""
    deepest, level = 0, [(value, 1)]
    while level:
        item, depth = level.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            children = item.values() if isinstance(item, dict) else item
            level.extend((child, depth + 1) for child in children)
    return deepest


def show_errors(form: FlaskForm, error: ValidationError) -> None:
    """Put a service's field errors on the form; the rest becomes a flash message."""
    shown = False
    for name, messages in error.fields.items():
        field = getattr(form, name, None)
        if field is not None:
            field.errors = [*field.errors, *messages]
            shown = True
    if not shown:
        flash(error.message, "error")
