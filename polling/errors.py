"""Polling's errors: each maps to an HTTP status, a flash and a CLI exit code via OCVError."""

from ocv.errors import Conflict, InvalidState, ValidationError


class AlreadyVoted(Conflict):
    """The voter is marked already: where and when (station time zone aside, UTC)."""

    def __init__(self, message: str, station: str, time: str) -> None:
        super().__init__(message, station=station, time=time)


class WrongStationState(InvalidState):
    """The station's lifecycle does not allow this now."""


class Unbalanced(ValidationError):
    """A protocol whose checks do not all hold needs a written explanation to be signed."""


class OtherElectionCard(ValidationError):
    """A voter card of another election shown at the desk."""

    def __init__(self, message: str, election: str) -> None:
        super().__init__(message, {"q": [message]})
        self.election = election
