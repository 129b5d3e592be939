"""Tally's audit event types. Every step a tally officer takes, and every intake, is an
entry; the certification is a signed document in the log (replayed by ocv-verify)."""

from ocv.events import EventType

PROTOCOL_VERIFIED = EventType(
    "tally.protocol_verified",
    "A submitted protocol was verified (signature, countersignatures, CVR root, figures, log "
    "inclusion) and its reconciliation checks run: accepted, or quarantined with the failing checks.",
    ("station", "sha256", "status", "failing", "figures"),
    ("checkpoint",),
)
STATION_QUARANTINED = EventType(
    "tally.station_quarantined",
    "A station failed a check: it counts nowhere until resolved.",
    ("station", "sha256", "failing"),
)
STATION_ACCEPTED = EventType(
    "tally.station_accepted",
    "A station's figures count: every check held, or an approved resolution accepted them.",
    ("station", "sha256", "figures"),
    ("proposal",),
)
STATION_EXCLUDED = EventType(
    "tally.station_excluded",
    "An approved resolution excluded a station: it counts nowhere.",
    ("station", "sha256", "proposal", "reason"),
)
RESOLUTION_PROPOSED = EventType(
    "tally.resolution_proposed",
    "A tally officer proposed what to do with a quarantined station or its tendered ballots.",
    ("proposal", "station", "subject", "action", "reason"),
)
RESOLUTION_APPROVED = EventType(
    "tally.resolution_approved",
    "A second tally officer approved a proposal: it takes effect.",
    ("proposal", "station", "subject", "action", "reason"),
)
RESOLUTION_REJECTED = EventType(
    "tally.resolution_rejected",
    "A second tally officer rejected a proposal: nothing changes.",
    ("proposal", "station", "subject", "action", "reason"),
)
TENDERED_DECIDED = EventType(
    "tally.tendered_decided",
    "A station's tendered ballots were accepted or rejected (approved by a second officer).",
    ("station", "tendered", "accepted", "proposal"),
)
RESULTS_CERTIFIED = EventType(
    "tally.results_certified",
    "Tally officers signed the results document, bound to a checkpoint that covers every "
    "protocol and resolution it counts. A correction is a new certification with a reason.",
    ("number", "sha256", "document", "signatures", "reason"),
)

TALLY_EVENTS = (
    PROTOCOL_VERIFIED,
    STATION_QUARANTINED,
    STATION_ACCEPTED,
    STATION_EXCLUDED,
    RESOLUTION_PROPOSED,
    RESOLUTION_APPROVED,
    RESOLUTION_REJECTED,
    TENDERED_DECIDED,
    RESULTS_CERTIFIED,
)
