"""The seam through which core services record audit events.

Core sits below the audit package (see DESIGN.md, dependency rule), so it cannot
import it; the app factory plugs ``audit.service.append`` in here. Every call runs
inside the caller's transaction, so a change and its entry commit together.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

Actor = Mapping[str, str] | None


@dataclass(frozen=True)
class EventType:
    """One kind of audit event and the payload members it carries."""

    name: str
    description: str
    fields: tuple[str, ...]
    optional: tuple[str, ...] = ()

    def check(self, payload: Mapping[str, Any]) -> None:
        missing = [f for f in self.fields if f not in payload]
        unknown = [k for k in payload if k not in self.fields and k not in self.optional]
        if missing or unknown:
            raise ValueError(
                f"payload of {self.name} does not match its registered fields: "
                f"missing {missing}, unknown {unknown}"
            )


# Every event type of the system, registered by the package that emits it.
REGISTRY: dict[str, EventType] = {}


def register(*types: EventType) -> None:
    for event_type in types:
        known = REGISTRY.setdefault(event_type.name, event_type)
        if known != event_type:
            raise ValueError(f"event type {event_type.name} registered twice, differently")


class Recorder(Protocol):
    def __call__(
        self,
        session: Session,
        type: str,
        actor: Actor,
        scope: Mapping[str, str],
        payload: Mapping[str, Any],
    ) -> object: ...


_recorder: Recorder | None = None


def set_recorder(recorder: Recorder) -> None:
    global _recorder
    _recorder = recorder


def record(
    session: Session,
    type: str,
    actor: Actor,
    payload: Mapping[str, Any],
    scope: Mapping[str, str] | None = None,
) -> None:
    if _recorder is None:
        # A change without its entry would break the log's promise: refuse it.
        raise RuntimeError("no audit recorder is wired; create the app with ocv.create_app()")
    log.debug("event %s actor=%s", type, actor["user"] if actor else "system")
    _recorder(session, type, actor, scope or {}, payload)
