"""Status columns are typed by their enums: read back as members, stored as the same strings,
and checked by a constraint written from the enum rather than by hand."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import CheckConstraint, Enum, TextClause, create_engine, select
from sqlalchemy.orm import Session

import audit.models  # noqa: F401  (all tables on the metadata)
import ocv.auth.models  # noqa: F401
import polling.models  # noqa: F401
from ocv.db import Base
from registration.models import (
    DuplicateReview,
    Election,
    ElectionStatus,
    Objection,
    ObjectionStatus,
    Voter,
    VoterStatus,
)


def test_status_columns_are_typed_by_their_enums() -> None:
    for column, kind in (
        (Election.__table__.c.status, ElectionStatus),
        (Voter.__table__.c.status, VoterStatus),
        (Objection.__table__.c.status, ObjectionStatus),
    ):
        assert isinstance(column.type, Enum)
        assert column.type.enum_class is kind
        assert column.type.enums == [member.value for member in kind]  # the stored strings
        assert not column.type.native_enum
    assert DuplicateReview.__table__.c.status.type.enums == ["open", "same_person", "different"]


def test_no_check_constraint_lists_values_by_hand() -> None:
    by_hand = [
        f"{table.name}.{constraint.name}"
        for table in Base.metadata.tables.values()
        for constraint in table.constraints
        if isinstance(constraint, CheckConstraint)
        and isinstance(constraint.sqltext, TextClause)
        and " IN (" in constraint.sqltext.text.upper()
        and "'" in constraint.sqltext.text
        and table.name != "users"  # its lists are written from the Role enum
    ]
    assert by_hand == []


def test_a_status_is_stored_as_its_string_and_read_back_as_a_member() -> None:
    engine = create_engine("sqlite://")
    table = Election.__table__
    table.create(engine)
    with Session(engine) as session:
        session.execute(
            table.insert().values(
                code="X",
                name="X",
                home_country="XX",
                polling_day=dt.date(2027, 1, 1),
                voting_rule="assigned_station",
                minimum_age=18,
                accepted_documents=[],
                documents_required=1,
                status=ElectionStatus.EXHIBITION,
                created_at=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            )
        )
        raw = session.connection().exec_driver_sql("SELECT status, voting_rule FROM elections").one()
        assert tuple(raw) == ("exhibition", "assigned_station")
        status = session.scalar(select(table.c.status))
        assert status is ElectionStatus.EXHIBITION
        assert isinstance(status, enum.StrEnum)
