"""Core pages: the home page, the language switch and the health check."""

from __future__ import annotations

from flask import Blueprint, jsonify, redirect, render_template, request, session, url_for
from sqlalchemy import text
from werkzeug.wrappers import Response

from ocv.auth.forms import ActionForm
from ocv.db import request_session
from ocv.web import current_settings, signed_in_user

bp = Blueprint("core", __name__)


@bp.get("/")
def home() -> str:
    return render_template("home.html", user=signed_in_user(), action_form=ActionForm())


@bp.post("/language")
def set_language() -> Response:
    form = ActionForm()
    language = request.form.get("lang", "")
    if form.validate_on_submit() and language in current_settings().languages:
        session["lang"] = language
    target = request.form.get("next", "")
    # Only same-site paths: an open redirect would help phishing.
    if not target.startswith("/") or target.startswith("//"):
        target = url_for("core.home")
    return redirect(target)


@bp.get("/healthz")
def health() -> tuple[Response, int]:
    request_session().execute(text("SELECT 1"))
    return jsonify({"status": "ok"}), 200
