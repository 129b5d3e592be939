"""Accounts JSON API: `GET /api/v1/me`, who a token belongs to."""

from __future__ import annotations

from typing import Annotated

import msgspec
from flask import Blueprint

from ocv.acting import Actor
from ocv.auth.models import Role
from ocv.openapi import TOKEN, Answer, operation
from ocv.security import csrf

bp = Blueprint("auth_api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # bearer tokens only, never the session cookie (ocv.web.api_user)


class Me(msgspec.Struct):
    """The account a token acts for."""

    username: str
    role: Role
    station: Annotated[str, msgspec.Meta(description="Station officials' own station.")] | None


@bp.get("/me")
@operation(
    "The account of this token",
    access=TOKEN,
    answers={
        200: Answer(Me, example={"username": "reggie", "role": "registration_officer", "station": None})
    },
)
def api_me(actor: Actor) -> Me:
    user = actor.user
    assert user is not None  # a token belongs to an account
    return Me(username=user.username, role=user.role_enum, station=user.station_code)
