"""The event registry and its published page agree."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from audit.events import registry_markdown
from ocv import events

DOC = Path(__file__).resolve().parents[2] / "docs" / "audit-events.md"


def test_docs_list_every_registered_event_type(app: Flask) -> None:
    assert events.REGISTRY, "the app factory registers the event types"
    assert DOC.read_text(encoding="utf-8") == registry_markdown(
        {k: v for k, v in events.REGISTRY.items() if not k.startswith("test.")}
    ), "docs/audit-events.md is stale: regenerate it with `ocv audit event-types`"
