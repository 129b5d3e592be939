"""Sign-in, account and user administration pages."""

from __future__ import annotations

import segno
from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import login_required, logout_user
from werkzeug.wrappers import Response

from ocv.acting import Actor
from ocv.auth import service as accounts
from ocv.auth.forms import (
    ROLE_LABELS,
    ActionForm,
    ChangePasswordForm,
    ConfirmPasswordForm,
    EnableTotpForm,
    LoginForm,
    NewUserForm,
    ResetPasswordForm,
    RoleForm,
    SecondFactorForm,
    TokenForm,
)
from ocv.auth.models import User
from ocv.auth.session import refresh_session, start_session
from ocv.db import request_session
from ocv.errors import ValidationError
from ocv.security import limiter
from ocv.web import current_settings, show_errors, signed_in_actor, signed_in_user

bp = Blueprint("auth", __name__)


@bp.app_template_filter("role_name")
def role_name(role: str) -> str:
    """A role's name in the reader's language (the log and the API keep the stored word)."""
    for known, label in ROLE_LABELS.items():
        if known.value == role:
            return str(label)
    if role == "operator":  # the console's operator, in the log
        return _("operator")
    return role.replace("_", " ")


def _me() -> User:
    user = signed_in_user()
    assert user is not None  # guarded by login_required
    return user


def login_error_message(code: str | None) -> str:
    # The same words for an unknown user, a wrong password and a locked-out address.
    return _("Wrong user name or password.")


def _login_limit() -> str:
    return current_settings().login_rate_limit


# --- sign in and out -----------------------------------------------------------------


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def login() -> Response | str:
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        outcome = accounts.authenticate(
            request_session(),
            current_settings(),
            form.username.data or "",
            form.password.data or "",
            remote_addr=request.remote_addr or "",
        )
        if outcome.needs_totp and outcome.user is not None:
            session["pending_user"] = outcome.user.get_id()
            return redirect(url_for("auth.second_factor"))
        if outcome.ok and outcome.user is not None:
            start_session(outcome.user)
            return redirect(url_for("core.home"))
        error = login_error_message(outcome.error)
    return render_template("auth/login.html", form=form, error=error)


@bp.route("/login/second-factor", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
def second_factor() -> Response | str:
    pending = session.get("pending_user", "")
    user_id, _sep, version = pending.partition(".")
    user = request_session().get(User, int(user_id)) if user_id.isdigit() else None
    if user is None or str(user.session_version) != version:
        return redirect(url_for("auth.login"))
    form = SecondFactorForm()
    error = None
    if form.validate_on_submit():
        outcome = accounts.complete_second_factor(
            request_session(),
            current_settings(),
            user,
            form.code.data or "",
            remote_addr=request.remote_addr or "",
        )
        if outcome.ok:
            start_session(user)
            return redirect(url_for("core.home"))
        session.pop("pending_user", None)
        flash(login_error_message(outcome.error), "error")
        return redirect(url_for("auth.login"))
    return render_template("auth/second_factor.html", form=form, error=error)


@bp.post("/logout")
@login_required
def logout() -> Response:
    if ActionForm().validate_on_submit():
        accounts.record_logout(request_session(), _me())
        logout_user()
        language = session.get("lang")
        session.clear()
        if language:
            session["lang"] = language
        flash(_("You are signed out."), "info")
    return redirect(url_for("auth.login"))


# --- own account ---------------------------------------------------------------------


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password() -> Response | str:
    form = ChangePasswordForm()
    if form.validate_on_submit():
        try:
            user = accounts.change_password(
                request_session(),
                current_settings(),
                _me(),
                form.current_password.data or "",
                form.new_password.data or "",
            )
        except ValidationError as error:
            show_errors(form, error)
        else:
            refresh_session(user)
            flash(_("Your password is changed."), "success")
            return redirect(url_for("core.home"))
    return render_template("auth/change_password.html", form=form, forced=_me().must_change_password)


@bp.get("/account")
@login_required
def account() -> str:
    me = _me()
    return render_template(
        "auth/account.html",
        user=me,
        tokens=accounts.list_tokens(request_session(), me),
        token_form=TokenForm(),
        action_form=ActionForm(),
        new_token=session.pop("new_token", None),
    )


@bp.post("/account/tokens")
@login_required
def create_token() -> Response:
    form = TokenForm()
    if form.validate_on_submit():
        me = _me()
        token = accounts.issue_token(request_session(), Actor.of(me), me, form.name.data or "")
        # Shown once on the next page, then gone: only its hash is stored.
        session["new_token"] = token
    return redirect(url_for("auth.account"))


@bp.post("/account/tokens/<int:token_id>/revoke")
@login_required
def revoke_token(token_id: int) -> Response:
    if ActionForm().validate_on_submit():
        accounts.revoke_token(request_session(), signed_in_actor(), token_id)
        flash(_("The token is revoked."), "success")
    return redirect(url_for("auth.account"))


@bp.route("/account/two-step", methods=["GET", "POST"])
@login_required
def enable_totp() -> Response | str:
    me = _me()
    secret = session.get("totp_setup") or accounts.new_totp_secret()
    session["totp_setup"] = secret
    form = EnableTotpForm()
    if form.validate_on_submit():
        try:
            accounts.enable_totp(request_session(), current_settings(), me, secret, form.code.data or "")
        except ValidationError as error:
            show_errors(form, error)
        else:
            session.pop("totp_setup", None)
            flash(_("Two-step sign-in is on."), "success")
            return redirect(url_for("auth.account"))
    uri = accounts.totp_uri(me, secret)
    qr = segno.make(uri, error="m").svg_data_uri(scale=5)
    return render_template("auth/enable_totp.html", form=form, secret=secret, qr=qr)


@bp.route("/account/two-step/off", methods=["GET", "POST"])
@login_required
def disable_totp() -> Response | str:
    form = ConfirmPasswordForm()
    if form.validate_on_submit():
        try:
            accounts.disable_totp(request_session(), current_settings(), _me(), form.password.data or "")
        except ValidationError as error:
            show_errors(form, error)
        else:
            flash(_("Two-step sign-in is off."), "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/disable_totp.html", form=form)


# --- user administration -------------------------------------------------------------


@bp.get("/admin/users")
@login_required
def users() -> str:
    return render_template(
        "auth/users.html",
        users=accounts.list_users(request_session(), signed_in_actor()),
        action_form=ActionForm(),
    )


@bp.route("/admin/users/new", methods=["GET", "POST"])
@login_required
def new_user() -> Response | str:
    form = NewUserForm()
    if form.validate_on_submit():
        try:
            user = accounts.create_user(
                request_session(),
                current_settings(),
                signed_in_actor(),
                username=form.username.data or "",
                role=form.role.data or "",
                password=form.password.data or "",
                station_code=form.station_code.data,
                full_name=form.full_name.data or "",
            )
        except ValidationError as error:
            show_errors(form, error)
        else:
            flash(_("User %(name)s created.", name=user.username), "success")
            return redirect(url_for("auth.users"))
    else:
        # Refuse the page itself to those who may not create users.
        accounts.require_user_admin(signed_in_actor())
    return render_template("auth/new_user.html", form=form)


@bp.route("/admin/users/<username>", methods=["GET", "POST"])
@login_required
def user_detail(username: str) -> Response | str:
    me = signed_in_actor()
    accounts.require_user_admin(me)
    user = accounts.get_user(request_session(), username)
    role_form = RoleForm(obj=user) if request.method == "GET" else RoleForm()
    if role_form.validate_on_submit():
        try:
            accounts.change_role(
                request_session(), me, user, role_form.role.data or "", role_form.station_code.data
            )
        except ValidationError as error:
            show_errors(role_form, error)
        else:
            flash(_("Role changed."), "success")
            return redirect(url_for("auth.user_detail", username=user.username))
    return render_template(
        "auth/user_detail.html",
        user=user,
        role_form=role_form,
        reset_form=ResetPasswordForm(),
        action_form=ActionForm(),
    )


@bp.post("/admin/users/<username>/<any(unlock, deactivate, activate):action>")
@login_required
def user_action(username: str, action: str) -> Response:
    me = signed_in_actor()
    accounts.require_user_admin(me)
    user = accounts.get_user(request_session(), username)
    if ActionForm().validate_on_submit():
        if action == "unlock":
            accounts.unlock(request_session(), me, user)
        else:
            accounts.set_active(request_session(), me, user, action == "activate")
        flash(_("Done."), "success")
    return redirect(url_for("auth.user_detail", username=user.username))


@bp.post("/admin/users/<username>/password")
@login_required
def reset_password(username: str) -> Response:
    me = signed_in_actor()
    accounts.require_user_admin(me)
    user = accounts.get_user(request_session(), username)
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            accounts.reset_password(request_session(), current_settings(), me, user, form.password.data or "")
        except ValidationError as error:
            flash(error.fields.get("password", [error.message])[0], "error")
        else:
            flash(
                _("Temporary password set; %(name)s must change it at next sign-in.", name=user.username),
                "success",
            )
    return redirect(url_for("auth.user_detail", username=user.username))
