"""Registration errors: each maps to an HTTP status, a flash and a CLI exit code via OCVError."""

from ocv.errors import Conflict, InvalidState, ValidationError


class ElectionFileError(ValidationError):
    """The election definition file is malformed; `fields` name each problem by its path."""


class DuplicateDocument(Conflict):
    """The document is registered already, to the voter `duplicate_of`."""

    def __init__(self, message: str, duplicate_of: str) -> None:
        super().__init__(message, duplicate_of=duplicate_of)
        self.duplicate_of = duplicate_of


class StationFull(Conflict):
    """Every station that could take the voter is at capacity."""


class WrongPhase(InvalidState):
    """The election's lifecycle does not allow this now."""


class MistypedRegNo(ValidationError):
    """Not a registration number (`reason` "format"), or one with a wrong check character ("check")."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message, {"reg_no": [message]})
        self.reason = reason
