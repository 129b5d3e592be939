"""Tally's errors: each maps to an HTTP status, a flash and a CLI exit code via OCVError."""

from __future__ import annotations

import datetime as dt

from ocv.errors import Conflict, InvalidState, PermissionDenied, ValidationError


class Embargoed(PermissionDenied):
    """Results stay internal until the home country's polls close."""

    def __init__(self, ends_at: dt.datetime | None) -> None:
        when = ends_at.isoformat() if ends_at else "a time not set yet"
        super().__init__(f"Results are under embargo until {when}.")
        self.ends_at = ends_at
        self.details = {"ends_at": ends_at.isoformat() if ends_at else None}


class NotSubmitted(InvalidState):
    """The station has not submitted its protocol."""


class VerificationFailed(ValidationError):
    """The protocol itself cannot be trusted (signature, CVR root, log inclusion)."""


class NotQuarantined(InvalidState):
    """The station is not waiting for a resolution."""


class WrongProposalState(Conflict):
    """The proposal was decided already, or another is open."""


class SameOfficer(PermissionDenied):
    """A proposal is approved or rejected by a different tally officer than its proposer."""


class NothingToCertify(InvalidState):
    """No accepted station, or stations still quarantined."""
