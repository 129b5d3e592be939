"""The check-in benchmark's baseline: a minimal Flask + SQLAlchemy endpoint doing the
check-in's one essential write, a conditional UPDATE that marks a voter once, on its own
table in the same PostgreSQL database, served by the same gunicorn settings as OCV.

No sign-in, no audit log, no rules beyond "not marked yet": what is left of a check-in once
everything OCV adds is taken away. `bench.bench_checkin` creates the table and serves this
module as `bench.checkin_baseline:app`.
"""

from __future__ import annotations

import datetime as dt
import os

from flask import Flask, jsonify, request
from sqlalchemy import create_engine, text

TABLE = "bench_baseline_voters"
SCHEMA = f"""CREATE TABLE {TABLE} (
    reg_no VARCHAR(16) PRIMARY KEY, station_code VARCHAR(32) NOT NULL,
    ballot_style VARCHAR(32) NOT NULL, voted_at TIMESTAMP, voted_station VARCHAR(32))"""
MARK = text(
    f"UPDATE {TABLE} SET voted_at = :now, voted_station = :station "  # noqa: S608 (a constant)
    "WHERE reg_no = :reg_no AND voted_at IS NULL RETURNING ballot_style, voted_at"
)

app = Flask(__name__)
engine = create_engine(os.environ.get("OCV_DATABASE_URL", "postgresql+psycopg:///postgres"))


@app.post("/api/v1/stations/<station>/checkins")
def check_in(station: str):  # type: ignore[no-untyped-def]
    reg_no = str((request.get_json(silent=True) or {}).get("reg_no", "")).replace("-", "").upper()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    with engine.begin() as connection:
        row = connection.execute(MARK, {"now": now, "station": station, "reg_no": reg_no}).first()
    if row is None:
        return jsonify(error="already voted or not on the list"), 409
    return jsonify(reg_no=reg_no, ballot_style=row.ballot_style, time=row.voted_at.isoformat() + "Z"), 201
