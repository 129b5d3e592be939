"""Registration's audit event types. No names, birth dates or document numbers: voters
appear by registration number, documents by keyed hash, observers see counts."""

from ocv.events import EventType

E = ("code",)

ELECTION_LOADED = EventType(
    "registration.election_loaded",
    "An election definition was loaded (or reloaded during setup).",
    ("code", "definition_sha256", "constituencies", "contests", "host_countries", "stations"),
)

ELECTION_EDITED = EventType(
    "registration.election_edited",
    "The definition was edited during setup: the members that changed, its digests before and after.",
    ("code", "changed", "previous_sha256", "definition_sha256"),
)

ELECTION_STATUS_CHANGED = EventType(
    "registration.election_status_changed",
    "The election moved to its next phase (registration_open, exhibition, frozen).",
    ("code", "from", "to"),
)

VOTER_ENROLLED = EventType(
    "registration.voter_enrolled",
    "A voter was enrolled; documents appear as keyed hashes.",
    ("reg_no", "station", "constituency", "country", "documents"),
)

VOTER_CORRECTED = EventType(
    "registration.voter_corrected",
    "A voter's record was corrected; the names of the changed fields and the reason.",
    ("reg_no", "fields", "reason"),
)

VOTER_TRANSFERRED = EventType(
    "registration.voter_transferred",
    "A voter moved to another station.",
    ("reg_no", "from", "to", "reason"),
)

VOTER_CANCELLED = EventType(
    "registration.voter_cancelled", "A voter's registration was cancelled.", ("reg_no", "reason")
)

VOTER_REINSTATED = EventType(
    "registration.voter_reinstated", "A cancelled registration was reinstated.", ("reg_no", "reason")
)

DUPLICATE_FLAGGED = EventType(
    "registration.duplicate_flagged",
    "A likely duplicate was queued for review.",
    ("review", "reg_no", "candidate", "score"),
)

DUPLICATE_RESOLVED = EventType(
    "registration.duplicate_resolved",
    "An officer resolved a likely duplicate (same_person or different).",
    ("review", "decision", "reason"),
)

OBJECTION_FILED = EventType(
    "registration.objection_filed", "An objection to an entry was filed.", ("objection", "reg_no")
)

OBJECTION_NOTIFIED = EventType(
    "registration.objection_notified", "The voter was notified of an objection.", ("objection", "method")
)

OBJECTION_REPLIED = EventType(
    "registration.objection_replied", "The voter's reply was recorded.", ("objection",)
)

OBJECTION_DECIDED = EventType(
    "registration.objection_decided",
    "An objection was decided (upheld cancels the entry).",
    ("objection", "decision", "reason"),
)

IMPORT_COMPLETED = EventType(
    "registration.import_completed",
    "A bulk import committed: file digest, counts, the Merkle root of the records' commitments, "
    "and how many likely duplicates it queued (each announced by its own duplicate_flagged entry).",
    (
        "file_sha256",
        "rows",
        "imported",
        "rejected",
        "by_station",
        "by_constituency",
        "records_root",
        "flagged",
    ),
)

LIST_PUBLISHED = EventType(
    "registration.list_published",
    "A voter list was published (exhibition or final): each station's list digest.",
    ("code", "phase", "stations", "digest", "voters"),
)

REGISTRATION_EVENTS = (
    ELECTION_LOADED,
    ELECTION_EDITED,
    ELECTION_STATUS_CHANGED,
    VOTER_ENROLLED,
    VOTER_CORRECTED,
    VOTER_TRANSFERRED,
    VOTER_CANCELLED,
    VOTER_REINSTATED,
    DUPLICATE_FLAGGED,
    DUPLICATE_RESOLVED,
    OBJECTION_FILED,
    OBJECTION_NOTIFIED,
    OBJECTION_REPLIED,
    OBJECTION_DECIDED,
    IMPORT_COMPLETED,
    LIST_PUBLISHED,
)
