"""The acting kernel: who acts, whether they may, and what the log says of them."""

from __future__ import annotations

import pytest

from ocv.acting import SYSTEM, Actor, authorize, may
from ocv.auth.models import User
from ocv.auth.permissions import Permission
from ocv.errors import PermissionDenied


def _user(role: str, station: str | None = None, active: bool = True) -> User:
    return User(id=7, username="pat", role=role, station_code=station, is_active=active)


def test_users_act_by_their_role_and_station_officials_only_at_their_station() -> None:
    clerk = Actor.of(_user("clerk", "DE-BER-01"))
    assert authorize(clerk, Permission.CHECK_IN_VOTERS, "DE-BER-01") is clerk
    assert not may(clerk, Permission.CHECK_IN_VOTERS, "FR-PAR-01")
    with pytest.raises(PermissionDenied):
        authorize(clerk, Permission.REGISTER_VOTERS)
    with pytest.raises(PermissionDenied):
        authorize(Actor.of(_user("admin", active=False)), Permission.MANAGE_USERS)


def test_the_console_and_the_system_are_trusted_and_nothing_else_without_an_account() -> None:
    assert may(Actor.operator("amal"), Permission.MANAGE_KEYS)
    assert may(SYSTEM, Permission.MANAGE_ELECTION, "DE-BER-01")
    # An actor that names a role but holds no account is nobody's console.
    with pytest.raises(PermissionDenied):
        authorize(Actor("mallory", "admin"), Permission.MANAGE_USERS)


def test_the_log_names_users_and_operators_and_null_for_the_system() -> None:
    assert Actor.of(_user("clerk", "DE-BER-01")).entry() == {"user": "pat", "role": "clerk"}
    assert Actor.operator(" amal ").entry() == {"user": "amal", "role": "operator"}
    assert SYSTEM.entry() is None


def test_an_actor_knows_its_own_account() -> None:
    pat = _user("observer")
    assert Actor.of(pat).is_(pat)
    assert not Actor.operator("pat").is_(pat)
