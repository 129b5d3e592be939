"""API tokens (account page, API, revocation) and the optional TOTP second factor."""

from __future__ import annotations

import re

import pyotp
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from ocv.auth import service as accounts
from tests.conftest import csrf_token, login
from tests.factories import OPERATOR


def test_token_from_the_account_page_works_and_can_be_revoked(
    client: FlaskClient, make_user, db_session: Session
) -> None:
    make_user("tina", "tally_officer")
    login(client, "tina")
    token_field = csrf_token(client, "/account")
    client.post("/account/tokens", data={"csrf_token": token_field, "name": "laptop"})
    page = client.get("/account").get_data(as_text=True)
    token = re.search(r'id="new-token">([^<]+)<', page)
    assert token, "the new token is shown once"
    assert 'id="new-token"' not in client.get("/account").get_data(as_text=True)

    headers = {"Authorization": f"Bearer {token.group(1)}"}
    me = client.get("/api/v1/me", headers=headers)
    assert me.status_code == 200
    assert me.get_json() == {"username": "tina", "role": "tally_officer", "station": None}

    user = accounts.get_user(db_session, "tina")
    token_id = accounts.list_tokens(db_session, user)[0].id
    client.post(f"/account/tokens/{token_id}/revoke", data={"csrf_token": csrf_token(client, "/account")})
    refused = client.get("/api/v1/me", headers=headers)
    assert refused.status_code == 401
    assert "revoked" in refused.get_json()["error"]


def test_a_deactivated_users_token_is_refused_from_the_next_request_on(
    client: FlaskClient, make_user, db_session: Session
) -> None:
    """Token look-ups are not cached: a revocation or a deactivation holds at once."""
    make_user("tina", "tally_officer")
    user = accounts.get_user(db_session, "tina")
    headers = {"Authorization": f"Bearer {accounts.issue_token(db_session, OPERATOR, user, 'desk')}"}
    db_session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    user.is_active = False
    db_session.commit()
    refused = client.get("/api/v1/me", headers=headers)
    assert refused.status_code == 401
    user.is_active = True
    db_session.commit()
    assert client.get("/api/v1/me", headers=headers).status_code == 200


def test_api_ignores_the_session_cookie(client: FlaskClient, make_user) -> None:
    make_user("tina", "tally_officer")
    login(client, "tina")
    assert client.get("/api/v1/me").status_code == 401


def test_tokens_are_stored_hashed(make_user, db_session: Session) -> None:
    user = make_user("tina", "tally_officer")
    token = accounts.issue_token(db_session, OPERATOR, user, "x")
    stored = accounts.list_tokens(db_session, user)[0]
    assert token not in (stored.token_hash, stored.prefix)
    assert stored.token_hash != token


def test_bad_tokens_are_refused(client: FlaskClient) -> None:
    for header in ["Bearer ocv_nonsense", "Bearer ", "Basic abc", "ocv_x"]:
        response = client.get("/api/v1/me", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.get_json()["error"]


def test_totp_second_factor(client: FlaskClient, make_user) -> None:
    make_user("olga", "observer")
    login(client, "olga")
    page = client.get("/account/two-step").get_data(as_text=True)
    secret = re.search(r'<code class="token">([A-Z2-7]+)</code>', page)
    assert secret
    totp = pyotp.TOTP(secret.group(1))
    token = csrf_token(client, "/account/two-step")
    wrong = client.post("/account/two-step", data={"csrf_token": token, "code": "000000"})
    assert "does not match" in wrong.get_data(as_text=True)
    on = client.post("/account/two-step", data={"csrf_token": token, "code": totp.now()})
    assert on.status_code == 302

    fresh = client.application.test_client()
    step_one = login(fresh, "olga")
    assert step_one.headers["Location"] == "/login/second-factor"
    assert fresh.get("/account").status_code == 302  # not signed in yet
    token = csrf_token(fresh, "/login/second-factor")
    done = fresh.post("/login/second-factor", data={"csrf_token": token, "code": totp.now()})
    assert done.headers["Location"] == "/"
    assert fresh.get("/account").status_code == 200

    third = client.application.test_client()
    login(third, "olga")
    token = csrf_token(third, "/login/second-factor")
    bad = third.post("/login/second-factor", data={"csrf_token": token, "code": "123456"})
    assert bad.headers["Location"] == "/login"
    assert third.get("/account").status_code == 302


def test_second_factor_page_needs_the_password_first(client: FlaskClient) -> None:
    assert client.get("/login/second-factor").headers["Location"] == "/login"


def test_admin_creates_a_station_official(client: FlaskClient, make_user, db_session: Session) -> None:
    make_user("root", "admin")
    login(client, "root")
    token = csrf_token(client, "/admin/users/new")
    missing_station = client.post(
        "/admin/users/new",
        data={
            "csrf_token": token,
            "username": "po1",
            "role": "presiding_officer",
            "password": "temporary password 1",
        },
    )
    assert "must be assigned to a station" in missing_station.get_data(as_text=True)
    created = client.post(
        "/admin/users/new",
        data={
            "csrf_token": token,
            "username": "po1",
            "role": "presiding_officer",
            "station_code": "fr-par-01",
            "password": "temporary password 1",
        },
    )
    assert created.status_code == 302
    user = accounts.get_user(db_session, "po1")
    assert (user.role, user.station_code, user.must_change_password) == (
        "presiding_officer",
        "FR-PAR-01",
        True,
    )
