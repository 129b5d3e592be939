"""One place maps errors to responses: JSON under /api/, pages elsewhere."""

from __future__ import annotations

import logging

from flask import Flask, Response, has_request_context, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ocv import errors
from ocv.db import mark_for_rollback
from ocv.errors import OCVError, ValidationError
from ocv.i18n import translate

log = logging.getLogger(__name__)


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, message: str, **extra: object) -> tuple[Response | str, int]:
    mark_for_rollback()
    if wants_json():
        return jsonify({"error": message, **extra}), status
    return render_template("errors/error.html", status=status, message=message), status


def _roll_back_the_request(_error: OCVError) -> None:
    """A domain error in a request makes it change nothing, whether a view catches the error
    (to show the form again with its message) or the handlers below answer it: the service
    may have written half its change before it refused."""
    if has_request_context():
        mark_for_rollback()


def init_error_handlers(app: Flask) -> None:
    if _roll_back_the_request not in errors.on_error:
        errors.on_error.append(_roll_back_the_request)

    @app.errorhandler(OCVError)
    def _domain_error(error: OCVError) -> tuple[Response | str, int]:
        extra: dict[str, object] = dict(error.details)
        if isinstance(error, ValidationError) and error.fields:
            extra["fields"] = error.fields
        # The API keeps the service's English; a page speaks the reader's language.
        message = error.message if wants_json() else translate(error.message)
        return error_response(error.http_status, message, **extra)

    @app.errorhandler(CSRFError)
    def _csrf_error(error: CSRFError) -> tuple[Response | str, int]:
        log.warning("CSRF check failed on %s: %s", request.path, error.description)
        return error_response(
            400, _("This form has expired or was not sent from this site. Reload the page and try again.")
        )

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException) -> tuple[Response | str, int]:
        status = error.code or 500
        return error_response(status, _error_message(status, error.description or ""))

    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> tuple[Response | str, int]:
        log.error("unhandled error on %s", request.path, exc_info=error)
        return error_response(500, _("Something went wrong on our side. Nothing was saved."))


def _error_message(status: int, description: str) -> str:
    messages = {
        404: _("There is no page at this address."),
        405: _("This address does not accept that kind of request."),
        429: _("Too many attempts. Wait a minute and try again."),
    }
    return messages.get(status, description)
