"""Sign-in, lockout, forced password change, logout and CSRF, through the test client."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from audit import sequencer
from audit.models import Entry
from ocv.auth import service as accounts
from ocv.errors import ValidationError
from tests.conftest import CSRF_RE, PASSWORD, csrf_token, login
from tests.factories import OPERATOR


def _types(db_session: Session) -> list[str]:
    sequencer.integrate(db_session)
    return list(db_session.scalars(select(Entry.type).order_by(Entry.seq)))


def test_login_and_logout(client: FlaskClient, make_user, db_session: Session) -> None:
    make_user("alice", "admin")
    response = login(client, "alice")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"
    home = client.get("/").get_data(as_text=True)
    assert "Signed in as alice" in home

    token = csrf_token(client, "/")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/account").status_code == 302  # back to the sign-in page
    assert _types(db_session)[-2:] == ["auth.login", "auth.logout"]


def _copy_of_session(client: FlaskClient) -> FlaskClient:
    """Another browser holding the same session cookie (one stolen or left behind)."""
    cookie = client.get_cookie("ocv_session")
    assert cookie is not None
    thief = client.application.test_client()
    thief.set_cookie("ocv_session", cookie.value)
    return thief


def test_logout_ends_the_session_on_the_server(client: FlaskClient, make_user) -> None:
    make_user("alice", "admin")
    login(client, "alice")
    copied = _copy_of_session(client)
    assert copied.get("/account").status_code == 200
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    assert copied.get("/account").status_code == 302
    assert copied.get("/account").headers["Location"].startswith("/login")


def test_a_password_change_ends_the_session_it_was_made_in_for_its_copies(
    client: FlaskClient, make_user
) -> None:
    make_user("alice", "admin")
    login(client, "alice")
    copied = _copy_of_session(client)
    new = "a changed passphrase 7"
    client.post(
        "/account/password",
        data={
            "csrf_token": csrf_token(client, "/account/password"),
            "current_password": PASSWORD,
            "new_password": new,
            "confirm": new,
        },
    )
    assert client.get("/account").status_code == 200
    assert copied.get("/account").status_code == 302


def test_wrong_password_is_refused_without_saying_why(client: FlaskClient, make_user) -> None:
    make_user("alice")
    page = login(client, "alice", "wrong password!").get_data(as_text=True)
    assert "Wrong user name or password." in page
    unknown = login(client, "nobody", "wrong password!").get_data(as_text=True)
    assert "Wrong user name or password." in unknown


def _from(client: FlaskClient, address: str) -> FlaskClient:
    client.environ_base["REMOTE_ADDR"] = address
    return client


def _answer(client: FlaskClient, username: str, password: str) -> str:
    """The sign-in page as answered, less its CSRF token (which differs on every page) and
    the user name it shows back."""
    page = login(client, username, password).get_data(as_text=True).replace(f'value="{username}"', "")
    return CSRF_RE.sub("", page)


def test_ten_failures_lock_the_account_for_that_address_only_and_are_audited(
    client: FlaskClient, make_user, db_session: Session, caplog
) -> None:
    user = make_user("bob", "observer")
    attacker = _from(client, "203.0.113.7")
    for _ in range(10):
        login(attacker, "bob", "not the password")
    db_session.refresh(user)
    assert user.locked_until is not None  # shown to administrators, who may unlock
    # The right password no longer works from the address that failed...
    assert login(attacker, "bob", PASSWORD).status_code == 200
    assert attacker.get("/account").status_code == 302
    # ...but bob, elsewhere, is not locked out by someone else's failures.
    bob = _from(client.application.test_client(), "198.51.100.20")
    assert login(bob, "bob", PASSWORD).status_code == 302
    assert bob.get("/account").status_code == 200
    types = _types(db_session)
    assert types.count("auth.login_failed") == 11
    assert "auth.account_locked" in types
    messages = [r.getMessage() for r in caplog.records]
    assert any("account locked for an address: bob" in m for m in messages)
    assert not any(PASSWORD in m or "203.0.113.7" in m for m in messages)


def test_unknown_wrong_and_locked_are_answered_alike(client: FlaskClient, make_user) -> None:
    make_user("bob", "observer")
    for _ in range(10):
        login(client, "bob", "not the password")
    locked = _answer(client, "bob", PASSWORD)
    make_user("carl", "observer")
    wrong = _answer(client, "carl", "not the password")
    unknown = _answer(client, "nobody", "not the password")
    assert locked == wrong == unknown
    assert "Wrong user name or password." in locked


def test_an_administrator_unlocks_every_address(client: FlaskClient, make_user, db_session: Session) -> None:
    user = make_user("bob", "observer")
    for _ in range(10):
        login(client, "bob", "not the password")
    accounts.unlock(db_session, OPERATOR, user)
    db_session.commit()
    assert user.locked_until is None
    assert login(client, "bob", PASSWORD).status_code == 302


def test_unknown_user_name_is_not_written_to_the_public_log(client: FlaskClient, db_session: Session) -> None:
    login(client, "my-secret-password-typed-here", "x" * 12)
    leaf = db_session.scalars(select(Entry.leaf).order_by(Entry.seq.desc())).first()
    assert leaf is not None
    assert b"auth.login_failed" in leaf
    assert b"my-secret-password" not in leaf


def test_first_login_forces_a_password_change(client: FlaskClient, make_user) -> None:
    make_user("carol", "registration_officer", must_change_password=True)
    login(client, "carol")
    assert client.get("/account").headers["Location"] == "/account/password"
    token = csrf_token(client, "/account/password")
    weak = client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "new_password": "short",
            "confirm": "short",
        },
    )
    assert "at least 12 characters" in weak.get_data(as_text=True)
    new = "a much longer passphrase 42"
    done = client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "new_password": new,
            "confirm": new,
        },
    )
    assert done.status_code == 302
    assert client.get("/account").status_code == 200
    # The new password is the one that works now.
    other = client.application.test_client()
    assert login(other, "carol", new).status_code == 302


def test_password_change_ends_other_sessions(client: FlaskClient, make_user) -> None:
    make_user("dave", "observer")
    other = client.application.test_client()
    login(client, "dave")
    login(other, "dave")
    token = csrf_token(client, "/account/password")
    new = "another fine passphrase"
    client.post(
        "/account/password",
        data={
            "csrf_token": token,
            "current_password": PASSWORD,
            "new_password": new,
            "confirm": new,
        },
    )
    assert client.get("/account").status_code == 200
    assert other.get("/account").status_code == 302


def test_form_without_csrf_token_is_refused_and_changes_nothing(
    client: FlaskClient, make_user, db_session: Session
) -> None:
    make_user("erin", "admin")
    before = len(_types(db_session))
    response = client.post("/login", data={"username": "erin", "password": PASSWORD})
    assert response.status_code == 400
    assert "form has expired" in response.get_data(as_text=True)
    assert len(_types(db_session)) == before
    assert client.get("/account").status_code == 302


def test_a_view_that_catches_a_domain_error_changes_nothing(
    client: FlaskClient, make_user, db_session: Session, monkeypatch
) -> None:
    """The password page catches the service's ValidationError to show the form again (200);
    the change the service made before it refused must not be committed (ocv.errors_web)."""
    user = make_user("frank", "observer")
    login(client, "frank")
    before = len(_types(db_session))

    def refuse(session: Session, who: object, old: str | None, new: str) -> None:
        raise ValidationError("Your signing key could not be sealed.", {"new_password": ["Try again."]})

    monkeypatch.setattr(accounts, "password_hooks", [*accounts.password_hooks, refuse])
    new = "another fine passphrase"
    page = client.post(
        "/account/password",
        data={
            "csrf_token": csrf_token(client, "/account/password"),
            "current_password": PASSWORD,
            "new_password": new,
            "confirm": new,
        },
    )
    assert page.status_code == 200  # the form again, with its message
    assert "Try again." in page.get_data(as_text=True)
    db_session.expire_all()
    assert len(_types(db_session)) == before  # no auth.password_changed entry
    assert db_session.get(type(user), user.id).session_version == user.session_version  # unchanged
    assert login(client.application.test_client(), "frank").status_code == 302  # the old password works
