"""The audit event types of the whole system: each package defines its own as named
constants and registers them here; `ocv.acting.record` takes those constants."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


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
