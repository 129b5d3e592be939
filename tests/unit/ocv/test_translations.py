"""The catalogs: every message of the template translated in every language, placeholders kept."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

TRANSLATIONS = Path(__file__).resolve().parents[3] / "ocv" / "translations"
LANGUAGES = sorted(p.name for p in TRANSLATIONS.iterdir() if (p / "LC_MESSAGES" / "messages.po").exists())
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _untranslated(string: object) -> bool:
    return not all(string) if isinstance(string, tuple) else not string


def _read(path: Path) -> Catalog:
    with path.open("rb") as po:
        return read_po(po)


def test_there_are_catalogs() -> None:
    assert {"fr", "ar"} <= set(LANGUAGES)


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_is_translated(language: str) -> None:
    template = _read(TRANSLATIONS / "messages.pot")
    catalog = _read(TRANSLATIONS / language / "LC_MESSAGES" / "messages.po")
    wanted = {m.id for m in template if m.id}
    assert wanted - {m.id for m in catalog if m.id} == set()
    assert [m.id for m in catalog if m.id in wanted and (_untranslated(m.string) or m.fuzzy)] == []
    changed = [
        m.id
        for m in catalog
        if m.id in wanted
        and isinstance(m.id, str)
        and isinstance(m.string, str)
        and set(PLACEHOLDER.findall(m.string)) != set(PLACEHOLDER.findall(m.id))
    ]
    assert changed == []  # a placeholder lost or renamed in translation fails at run time
