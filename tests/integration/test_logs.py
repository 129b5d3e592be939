"""Logs: tracebacks in production's JSON lines, and never the personal data of a statement."""

from __future__ import annotations

import json
import logging
import sys

import pytest
from flask import Flask
from sqlalchemy import text

from ocv.db import request_session
from ocv.logs import JsonFormatter

PERSONAL = ("Amira Haddad", "1990-05-17")
PLAIN = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")


@pytest.fixture
def failing_app(app: Flask) -> Flask:
    def enrol_badly() -> str:
        # A statement that fails in the driver, with personal data in its parameters.
        request_session().execute(
            text("INSERT INTO no_such_table (name, born) VALUES (:name, :born)"),
            {"name": PERSONAL[0], "born": PERSONAL[1]},
        )
        return "unreachable"

    app.add_url_rule("/failing", view_func=enrol_badly)
    return app


def test_an_unhandled_error_is_logged_with_its_traceback_and_without_personal_data(
    failing_app: Flask, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="ocv"):
        response = failing_app.test_client().get("/failing")
    assert response.status_code == 500
    assert PERSONAL[0] not in response.get_data(as_text=True)
    [record] = [r for r in caplog.records if r.getMessage().startswith("unhandled error")]
    line = json.loads(JsonFormatter().format(record))
    assert line["level"] == "ERROR"
    assert line["exception"].startswith("Traceback (most recent call last):")
    assert "no_such_table" in line["exception"]
    assert "hidden due to hide_parameters" in line["exception"]
    for formatted in (JsonFormatter().format(record), PLAIN.format(record)):
        assert not [p for p in PERSONAL if p in formatted], formatted


def test_json_lines_carry_stacks_and_stay_one_line() -> None:
    logger = logging.getLogger("ocv.test_logs")
    try:
        raise ValueError("first line\nsecond line")
    except ValueError:
        record = logger.makeRecord(
            logger.name, logging.ERROR, __file__, 1, "failed", (), exc_info=sys.exc_info()
        )
    formatted = JsonFormatter().format(record)
    assert "\n" not in formatted
    assert "ValueError: first line\nsecond line" in json.loads(formatted)["exception"]
