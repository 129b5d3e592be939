"""Fixtures shared by the integration tests: the demo election, open for registration."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from ocv.auth.models import User
from registration import service
from registration.models import Election
from tests.integration.test_registration import demo_definition


@pytest.fixture
def election(db_session: Session) -> Election:
    e = service.load_election(db_session, None, demo_definition())
    service.advance(db_session, None, e, "registration_open")
    db_session.commit()
    return e


@pytest.fixture
def officer(make_user) -> User:  # type: ignore[no-untyped-def]
    return make_user("reggie", "registration_officer")
