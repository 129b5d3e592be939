"""An import file with hostile rows: each bad row is listed in the report, never a traceback."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ocv.auth.models import User
from ocv.errors import ValidationError
from ocv.settings import Settings
from registration.imports import service as imports
from registration.models import Election, Voter
from tests.integration.test_cli import run
from tests.integration.test_import import csv_file, person


def _hostile_file(tmp_path: Path) -> Path:
    rows = [
        person(1),
        person(2, father_name="F" * 101),
        person(3, family_name="Ha\x00ddad"),
        person(4, city="C" * 101, grandfather_name="G" * 101),
        person(5, names_original_script="\x1b[2J" + "ن" * 3),
        person(6),
    ]
    path = tmp_path / "hostile.csv"
    path.write_bytes(csv_file(rows))
    return path


@pytest.mark.parametrize("dry_run", [True, False], ids=["dry-run", "import"])
def test_bad_rows_are_listed_in_the_report(
    app: Flask, db_session: Session, election: Election, tmp_path: Path, dry_run: bool
) -> None:
    path = _hostile_file(tmp_path)
    options = ["--dry-run"] if dry_run else []
    result = run(app, "voters", "import", str(path), "--election", "GE2027", *options)
    assert result.exit_code == 65, result.output
    assert "Traceback" not in result.output
    assert "6 rows" in result.output, result.output
    assert "rejected 4" in result.output, result.output
    report = list(
        csv.reader((tmp_path / "hostile.csv.rejected.csv").read_text(encoding="utf-8").splitlines())
    )
    assert sorted((line, field) for line, field, _ in report[1:]) == [
        ("3", "father_name"),
        ("4", "family_name"),
        ("5", "city"),
        ("5", "grandfather_name"),
        ("6", "names_original_script"),
    ]
    db_session.expire_all()
    assert db_session.scalar(select(func.count()).select_from(Voter)) == 0


def test_a_file_name_with_a_control_character_is_refused(
    db_session: Session, settings: Settings, election: Election, officer: User
) -> None:
    with pytest.raises(ValidationError) as refused:
        imports.import_voters(
            db_session,
            settings,
            officer,
            election,
            io.BytesIO(csv_file([person(1)])),
            filename="vot\x00ers.csv",
        )
    assert "file" in refused.value.fields
    assert db_session.scalar(select(func.count()).select_from(Voter)) == 0
