"""Fixtures shared by the integration tests: the demo election, open for registration."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from ocv.acting import Actor
from registration import service
from registration.models import Election
from tests.api_conformance import Conformance
from tests.factories import OPERATOR
from tests.integration.test_registration import demo_definition


@pytest.fixture(autouse=True)
def _api_answers_keep_to_the_description(request: pytest.FixtureRequest) -> Iterator[None]:
    """Whatever a test asks of the API, the answer must be one the description promises."""
    if "app" not in request.fixturenames:
        yield
        return
    watch = Conformance(request.getfixturevalue("app"))
    yield
    assert watch.mismatches == []


@pytest.fixture
def election(db_session: Session) -> Election:
    e = service.load_election(db_session, OPERATOR, demo_definition())
    service.advance(db_session, OPERATOR, e, "registration_open")
    db_session.commit()
    return e


@pytest.fixture
def officer(make_user) -> Actor:  # type: ignore[no-untyped-def]
    return Actor.of(make_user("reggie", "registration_officer"))
