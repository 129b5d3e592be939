"""Small helpers shared by every blueprint: settings, session, API authentication."""

from __future__ import annotations

from flask import current_app, flash, request
from flask_login import current_user
from flask_wtf import FlaskForm

from ocv.acting import Actor
from ocv.auth import service as accounts
from ocv.auth.models import User
from ocv.db import request_session
from ocv.errors import AuthenticationFailed, ValidationError
from ocv.settings import Settings


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
