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

from audit import jcs
from audit.models import Entry
from audit.service import append

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


def append_digest(session: Session, actor: dict[str, str] | None = None) -> tuple[int, dict[str, Any]]:
    """Append a state digest; return its seq and the state it commits to."""
    state = current_state(session)
    payload = {
        "entries_by_type": entries_by_type(session),
        "state": {name: digest_of(value) for name, value in state.items()},
    }
    return append(session, "audit.state_digest", actor, {}, payload), state
