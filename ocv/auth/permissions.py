"""What each role may do. Services call `require`; views only render its refusal."""

from __future__ import annotations

import enum

from ocv.auth.models import Role, User
from ocv.errors import PermissionDenied


class Permission(enum.StrEnum):
    MANAGE_USERS = "manage_users"
    MANAGE_KEYS = "manage_keys"
    MANAGE_ELECTION = "manage_election"
    REGISTER_VOTERS = "register_voters"
    RUN_STATION = "run_station"
    CHECK_IN_VOTERS = "check_in_voters"
    TALLY = "tally"
    OBSERVE = "observe"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(
        {
            Permission.MANAGE_USERS,
            Permission.MANAGE_KEYS,
            Permission.MANAGE_ELECTION,
            Permission.REGISTER_VOTERS,
            Permission.OBSERVE,
        }
    ),
    Role.REGISTRATION_OFFICER: frozenset({Permission.REGISTER_VOTERS}),
    Role.PRESIDING_OFFICER: frozenset({Permission.RUN_STATION, Permission.CHECK_IN_VOTERS}),
    Role.CLERK: frozenset({Permission.CHECK_IN_VOTERS}),
    Role.TALLY_OFFICER: frozenset({Permission.TALLY, Permission.OBSERVE}),
    Role.OBSERVER: frozenset({Permission.OBSERVE}),
}


def can(user: User | None, permission: Permission, station_code: str | None = None) -> bool:
    if user is None or not user.is_active:
        return False
    if permission not in ROLE_PERMISSIONS[user.role_enum]:
        return False
    # Station officials act only for their own station.
    return not (
        station_code is not None and user.role_enum.is_station_official and user.station_code != station_code
    )


def require(user: User | None, permission: Permission, station_code: str | None = None) -> User:
    if user is None or not can(user, permission, station_code):
        raise PermissionDenied("You do not have permission to do this.")
    return user
