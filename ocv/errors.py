"""The one error root and its kinds; `ocv.app` maps them to HTTP, flashes and exit codes."""

from __future__ import annotations

from collections.abc import Callable

# Called with every domain error made: the web layer's makes the request roll back
# (ocv.errors_web), so a view that catches the error and answers anyway changes nothing.
on_error: list[Callable[[OCVError], None]] = []


class OCVError(Exception):
    """A domain error with a message fit to show the person who caused it."""

    http_status = 400
    exit_code = 1

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        for hook in on_error:
            hook(self)


class ConfigurationError(OCVError):
    exit_code = 78  # EX_CONFIG


class ValidationError(OCVError):
    http_status = 422
    exit_code = 65  # EX_DATAERR

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.fields = fields or {}


class NotFound(OCVError):
    http_status = 404
    exit_code = 66  # EX_NOINPUT


class Conflict(OCVError):
    http_status = 409
    exit_code = 65


class AuthenticationFailed(OCVError):
    http_status = 401
    exit_code = 77  # EX_NOPERM


class PermissionDenied(OCVError):
    http_status = 403
    exit_code = 77


class InvalidState(OCVError):
    """The object is not in a state that allows the operation."""

    http_status = 409
    exit_code = 65
