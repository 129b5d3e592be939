"""Polling's audit event types. Voters appear by registration number in check-ins, never
in anything about ballots: no entry links a check-in to a cast-vote record."""

from ocv.events import EventType

STATION_OPENED = EventType(
    "polling.station_opened",
    "A station opened for a polling day: ballot papers received per style (first day) or "
    "counted unused (later days), the seals on the ballot boxes, the officials present.",
    ("station", "day", "ballots", "seals", "officials"),
)
STATION_PAUSED = EventType(
    "polling.station_paused",
    "The daily close-out of a station that polls on several days: unused ballots and new seals.",
    ("station", "day", "unused", "seals"),
)
BALLOTS_RESUPPLIED = EventType(
    "polling.ballots_resupplied",
    "Ballot papers arrived at a station.",
    ("station", "ballot_style", "count", "reason"),
)
BALLOTS_TRANSFERRED = EventType(
    "polling.ballots_transferred",
    "Ballot papers left a station for another.",
    ("station", "ballot_style", "count", "reason"),
)
VOTER_CHECKED_IN = EventType(
    "polling.voter_checked_in",
    "A voter was marked on the register and given a ballot.",
    ("reg_no", "station", "ballot_style"),
)
CHECK_IN_UNDONE = EventType(
    "polling.check_in_undone",
    "The presiding officer undid a check-in entered by mistake, before the ballot was cast.",
    ("reg_no", "station", "reason"),
)
TENDERED_BALLOT_ISSUED = EventType(
    "polling.tendered_ballot_issued",
    "A ballot was given, in an envelope kept apart, to someone not found on the list.",
    ("station", "ballot_style", "tendered"),
)
BALLOT_SPOILED = EventType(
    "polling.ballot_spoiled",
    "A voter spoiled their ballot and was given another.",
    ("station", "ballot_style"),
)
STATION_CLOSED = EventType(
    "polling.station_closed",
    "Polling ended at a station: unused ballots per style and the seals on the boxes.",
    ("station", "unused", "seals"),
)
BALLOTS_COUNTED = EventType(
    "polling.ballots_counted",
    "A batch of cast-vote records was stored: how many, and the Merkle root of the batch.",
    ("station", "count", "root"),
)
TALLY_SHEET_ENTERED = EventType(
    "polling.tally_sheet_entered",
    "A clerk typed in the hand count; the digest of the figures entered.",
    ("station", "clerk", "sha256"),
)
COUNT_FINISHED = EventType(
    "polling.count_finished",
    "The presiding officer ended the count: the ballots in the box.",
    ("station", "in_box"),
)
PROTOCOL_SIGNED = EventType(
    "polling.protocol_signed",
    "The presiding officer signed the station's results protocol.",
    ("station", "sha256", "document", "signatures"),
)
PROTOCOL_COUNTERSIGNED = EventType(
    "polling.protocol_countersigned",
    "An observer or party agent countersigned the station's results protocol.",
    ("station", "sha256", "document", "signatures"),
)
PROTOCOL_SUBMITTED = EventType(
    "polling.protocol_submitted",
    "The station's signed protocol went to the tally centre.",
    ("station", "sha256"),
)

POLLING_EVENTS = (
    STATION_OPENED,
    STATION_PAUSED,
    BALLOTS_RESUPPLIED,
    BALLOTS_TRANSFERRED,
    VOTER_CHECKED_IN,
    CHECK_IN_UNDONE,
    TENDERED_BALLOT_ISSUED,
    BALLOT_SPOILED,
    STATION_CLOSED,
    BALLOTS_COUNTED,
    TALLY_SHEET_ENTERED,
    COUNT_FINISHED,
    PROTOCOL_SIGNED,
    PROTOCOL_COUNTERSIGNED,
    PROTOCOL_SUBMITTED,
)
