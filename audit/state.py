"""State digests: the server commits, in the log, to the state it holds.

Domain packages register a provider per piece of state (the accounts, later the
registry, the marked register, the ballot accounts, the results). A digest entry
carries the SHA-256 of each piece's JCS form and the count of entries per type
before it, so a replay of the log can compare.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from audit import events as E
from audit import jcs
from audit.models import Entry
from audit.sequencer import append_now
from ocv.acting import SYSTEM, Actor

StateProvider = Callable[[Session], Any]
PROVIDERS: dict[str, StateProvider] = {}


def register_state(name: str, provider: StateProvider) -> None:
    PROVIDERS[name] = provider


def current_state(session: Session) -> dict[str, Any]:
    return {name: jcs.normalize(provider(session)) for name, provider in sorted(PROVIDERS.items())}


def digest_of(state: Any) -> str:
    return hashlib.sha256(jcs.canonical_bytes(state)).hexdigest()


def entries_by_type(session: Session) -> dict[str, int]:
    rows = session.execute(select(Entry.type, func.count()).group_by(Entry.type)).all()
    return {type_: count for type_, count in sorted(rows)}


def latest_digest_seq(session: Session) -> int | None:
    return session.scalar(select(func.max(Entry.seq)).where(Entry.type == "audit.state_digest"))


def append_digest(session: Session, actor: Actor = SYSTEM) -> tuple[int, dict[str, Any]]:
    """Append a state digest; return its seq and the state it commits to.

    Written straight into the log by the sequencer once every pending entry is integrated,
    so `entries_by_type` counts exactly the entries before it. The state is read in the
    same transaction; on PostgreSQL a change committed by then whose entry was still
    pending counts in it, its entry coming after the digest."""
    state: dict[str, Any] = {}

    def payload() -> dict[str, Any]:
        state.update(current_state(session))
        return {
            "entries_by_type": entries_by_type(session),
            "state": {name: digest_of(value) for name, value in state.items()},
        }

    return append_now(session, E.STATE_DIGEST.name, actor.entry(), {}, payload), state
