"""The one error root and its kinds; `ocv.app` maps them to HTTP, flashes and exit codes."""


class OCVError(Exception):
    """A domain error with a message fit to show the person who caused it."""

    http_status = 400
    exit_code = 1

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


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
