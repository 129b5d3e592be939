"""Every route × every role: who may reach what. A new route must be added to ACCESS."""

from __future__ import annotations

import json

import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from ocv.auth import service as accounts
from ocv.auth.models import Role
from registration import service
from tests.conftest import csrf_token, login
from tests.factories import OPERATOR
from tests.integration.test_registration import DEMO

PUBLIC = "public"  # anyone, signed in or not
SIGNED_IN = "signed_in"  # any signed-in account
TOKEN = "token"  # any valid API token
ADMIN = frozenset({Role.ADMIN})
OFFICERS = frozenset({Role.ADMIN, Role.REGISTRATION_OFFICER})
WATCHERS = frozenset({Role.ADMIN, Role.TALLY_OFFICER, Role.OBSERVER})  # Permission.OBSERVE
TALLY = frozenset({Role.TALLY_OFFICER})
# Public, but until the home polls close only watchers read it; anyone else is answered 403
# with the embargo's end.
EMBARGOED = "embargoed"

ACCESS: dict[str, object] = {
    "core.home": PUBLIC,
    "core.set_language": PUBLIC,
    "core.health": PUBLIC,
    "auth.login": PUBLIC,
    "auth.second_factor": PUBLIC,
    "auth.logout": SIGNED_IN,
    "auth.change_password": SIGNED_IN,
    "auth.account": SIGNED_IN,
    "auth.create_token": SIGNED_IN,
    "auth.revoke_token": SIGNED_IN,
    "auth.enable_totp": SIGNED_IN,
    "auth.disable_totp": SIGNED_IN,
    "auth.users": ADMIN,
    "auth.new_user": ADMIN,
    "auth.user_detail": ADMIN,
    "auth.user_action": ADMIN,
    "auth.reset_password": ADMIN,
    "auth_api.api_me": TOKEN,
    "openapi.openapi_json": PUBLIC,
    "openapi.reference": PUBLIC,
    "audit.log": PUBLIC,
    "audit.entry": PUBLIC,
    "audit.checkpoint_history": PUBLIC,
    "audit.log_vkey": PUBLIC,
    "audit_api.checkpoint": PUBLIC,
    "audit_api.checkpoint_at": PUBLIC,
    "audit_api.entries": PUBLIC,
    "audit_api.inclusion": PUBLIC,
    "audit_api.consistency": PUBLIC,
    "audit_api.bundle": PUBLIC,
    "audit_api.cosign": frozenset({Role.ADMIN, Role.TALLY_OFFICER, Role.OBSERVER}),
    "registration.self_check": PUBLIC,
    "registration.elections": OFFICERS,
    "registration.load_election": ADMIN,
    "registration.election": OFFICERS,
    "registration.advance": ADMIN,
    "registration.enrol": OFFICERS,
    "registration.voters": OFFICERS,
    "registration.voter": OFFICERS,
    "registration.voter_action": OFFICERS,
    "registration.card": OFFICERS,
    "registration.reviews": OFFICERS,
    "registration.objection_list": OFFICERS,
    # The walker's station is the sample's: its own officials read its list.
    "registration.station_list": OFFICERS | {Role.PRESIDING_OFFICER, Role.CLERK},
    # Polling at the walker's station (its officials are the sample station's).
    "polling_api.status": PUBLIC,
    "polling_api.protocol": PUBLIC,
    **dict.fromkeys(
        [f"polling_api.{name}" for name in ("open_station", "close_station", "pause_station", "resupply")]
        + [f"polling_api.{name}" for name in ("transfer", "undo_check_in", "finish_count", "sign", "submit")],
        frozenset({Role.PRESIDING_OFFICER}),
    ),
    **dict.fromkeys(
        [
            f"polling_api.{name}"
            for name in ("check_in", "spoiled", "tendered", "cvrs", "cvrs_nist", "tally_sheet")
        ],
        frozenset({Role.PRESIDING_OFFICER, Role.CLERK}),
    ),
    "polling_api.countersign": frozenset({Role.ADMIN, Role.TALLY_OFFICER, Role.OBSERVER}),
    "polling.station_page": SIGNED_IN,
    "polling.protocol": PUBLIC,
    **dict.fromkeys(
        [f"polling.{name}" for name in ("check_in", "spoil", "tendered", "ballot", "tally_sheet")],
        frozenset({Role.PRESIDING_OFFICER, Role.CLERK}),
    ),
    **dict.fromkeys(
        [f"polling.{name}" for name in ("undo", "move", "open_station", "close", "step", "sign")],
        frozenset({Role.PRESIDING_OFFICER}),
    ),
    "polling.countersign": frozenset({Role.ADMIN, Role.TALLY_OFFICER, Role.OBSERVER}),
    "registration_api.elections": PUBLIC,
    "registration_api.election": PUBLIC,
    "registration_api.enrol": OFFICERS,
    "registration_api.self_check": PUBLIC,
    "registration_import.upload": OFFICERS,
    "registration_import.job": OFFICERS,
    "registration_import.rejected_rows": OFFICERS,
    "registration_import.template": OFFICERS,
    "registration_setup.edit": ADMIN,
    "tally.results": PUBLIC,
    "tally.constituency": PUBLIC,
    "tally.country": PUBLIC,
    "tally.station": PUBLIC,
    "tally.dashboard": WATCHERS,
    "tally.intake": TALLY,
    "tally.propose": TALLY,
    "tally.decide": TALLY,
    "tally.certify": TALLY,
    "tally_api.results": EMBARGOED,
    "tally_api.results_csv": EMBARGOED,
    "tally_api.results_nist": EMBARGOED,
    "tally_api.station_protocol": PUBLIC,
}

SAMPLE_ARGS = {
    "username": "target",
    "action": "unlock",
    "token_id": 1,
    "seq": 0,
    "size": 1,
    "code": "GE2027",
    "phase": "registration_open",
    "reg_no": "2222-2222-2",
    "job_id": "x",
    "station": "DE-BER-01",
    "how": "close",
    "step": "finish",
    "area": "OV-EU",
    "proposal": 1,
}
ARG_OVERRIDES = {"registration.voter_action": {"action": "cancel"}}
ROLES = [None, *Role]


def _routes(app: Flask, sample: dict[str, object] = SAMPLE_ARGS) -> list[tuple[str, str, str]]:
    routes = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        overrides = ARG_OVERRIDES.get(rule.endpoint, {})
        args = {name: overrides.get(name, sample[name]) for name in rule.arguments}
        with app.test_request_context():
            url = url_for(rule.endpoint, **args)
        method = "GET" if "GET" in (rule.methods or set()) else "POST"
        routes.append((rule.endpoint, method, url))
    return routes


def test_every_route_is_classified(app: Flask) -> None:
    assert {endpoint for endpoint, _, _ in _routes(app)} == set(ACCESS)


def _allowed(rule: object, role: Role | None) -> bool:
    if rule == PUBLIC:
        return True
    if rule in (SIGNED_IN, TOKEN):
        return role is not None
    assert isinstance(rule, frozenset)
    return role in rule


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r.value if r else "anonymous")
def test_route_access_by_role(
    app: Flask, client: FlaskClient, make_user, db_session: Session, role: Role | None
) -> None:
    make_user("target", "observer")
    service.load_election(db_session, OPERATOR, json.loads(DEMO.read_text(encoding="utf-8")))
    db_session.commit()
    api_headers = {}
    sample = dict(SAMPLE_ARGS)
    if role is not None:
        station = "DE-BER-01" if role.is_station_official else None
        user = make_user("walker", role.value, station)
        token = accounts.issue_token(db_session, OPERATOR, user, "walk")
        accounts.issue_token(db_session, OPERATOR, user, "to revoke during the walk")
        db_session.commit()
        # Their own token, and not the one the walk uses.
        sample["token_id"] = next(
            t.id for t in accounts.list_tokens(db_session, user) if t.name.startswith("to revoke")
        )
        api_headers = {"Authorization": f"Bearer {token}"}
        assert login(client, "walker").status_code == 302

    for endpoint, method, url in _routes(app, sample):
        if endpoint == "auth.logout":
            continue  # signing out mid-walk would end the walk; covered in test_auth_flow
        rule = ACCESS[endpoint]
        if endpoint.split(".")[0].endswith("_api"):
            response = client.open(url, method=method, headers=api_headers)
        elif method == "POST":
            response = client.post(url, data={"csrf_token": csrf_token(client, "/")})
        else:
            response = client.get(url)
        status, location = response.status_code, response.headers.get("Location", "")
        context = f"{role} {method} {url} -> {status} {location}"
        if rule == EMBARGOED:  # the demo election's home polls close in 2027
            if role in WATCHERS:
                assert status == 200, context
            else:
                assert status == 403, context
                assert response.json is not None, context
                assert response.json["ends_at"], context
        elif _allowed(rule, role):
            assert status not in (401, 403), context
            assert not location.startswith("/login?next="), context
        elif role is None:
            is_api = endpoint.split(".")[0].endswith("_api")
            assert status == 401 if is_api else location.startswith("/login?next="), context
        else:
            assert status == 403, context
