"""Browser sessions: Flask-Login wiring, session versions and the forced password change."""

from __future__ import annotations

from flask import Flask, redirect, request, session, url_for
from flask_babel import lazy_gettext as _l
from flask_login import LoginManager, current_user, login_user
from werkzeug.wrappers import Response

from ocv.auth.models import User
from ocv.db import request_session

login_manager = LoginManager()
login_manager.login_view = "auth.login"
login_manager.login_message = _l("Please sign in to see this page.")
login_manager.session_protection = "strong"

# Pages a user who must change their password may still reach.
_OPEN_DURING_PASSWORD_CHANGE = frozenset(
    {"auth.change_password", "auth.logout", "core.set_language", "static"}
)


@login_manager.user_loader
def _load_user(session_id: str) -> User | None:
    user_id, _, version = session_id.partition(".")
    if not user_id.isdigit() or not version.isdigit():
        return None
    user = request_session().get(User, int(user_id))
    # A changed password, role or deactivation ends every older session.
    if user is None or not user.is_active or user.session_version != int(version):
        return None
    return user


def start_session(user: User) -> None:
    """Sign in with a fresh session (no fixation), keeping only the language choice."""
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language
    session.permanent = True
    login_user(user)


def refresh_session(user: User) -> None:
    """Keep the signed-in user after a change that bumped their session version."""
    start_session(user)


def init_login(app: Flask) -> None:
    login_manager.init_app(app)

    @app.before_request
    def _force_password_change() -> Response | None:
        if (
            not request.path.startswith("/api/")  # first: the API never loads the cookie's user
            and current_user.is_authenticated
            and current_user.must_change_password
            and request.endpoint not in _OPEN_DURING_PASSWORD_CHANGE
        ):
            return redirect(url_for("auth.change_password"))
        return None
