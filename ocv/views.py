"""Core pages: the home page, the language switch and the health check."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, jsonify, redirect, render_template, request, session, url_for
from sqlalchemy import text
from werkzeug.wrappers import Response

from ocv.auth.forms import ActionForm
from ocv.db import request_session
from ocv.text import problem
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
    return redirect(same_site_path(request.form.get("next", "")) or url_for("core.home"))


def same_site_path(target: str) -> str | None:
    """`target` if it is a path on this site, else None: an open redirect would help phishing.

    Browsers drop tabs and line breaks from a URL and read a backslash as a slash, so
    "/<tab>/evil.example" and "/\\evil.example" lead to another site; such a target holds a
    control character or a backslash, and is refused whole rather than cleaned.
    """
    if problem(target) or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.get("/healthz")
def health() -> tuple[Response, int]:
    request_session().execute(text("SELECT 1"))
    return jsonify({"status": "ok"}), 200
