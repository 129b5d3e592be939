"""Observer pages: the log browser, entries with their proofs, checkpoints, downloads."""

from __future__ import annotations

import datetime as dt
import json

from flask import Blueprint, Response, render_template, request
from flask_babel import lazy_gettext as _l

from audit import checkpoints, merkle, service
from audit.forms import LogFilterForm
from audit.keys import log_key
from ocv.db import request_session

bp = Blueprint("audit", __name__, url_prefix="/audit", template_folder="templates")

PAGE = 50

# Words of the log as people read them; the entries themselves keep the stored words.
CHECKPOINT_REASONS = {
    "schedule": _l("on schedule"),
    "demand": _l("on demand"),
    "export": _l("for an export"),
    "station_close": _l("at a station's close"),
    "certification": _l("at certification"),
}
SCOPES = {"election": _l("election"), "station": _l("station")}


@bp.app_template_filter("checkpoint_reason")
def checkpoint_reason(reason: str) -> str:
    return str(CHECKPOINT_REASONS.get(reason, reason))


@bp.app_template_filter("scope_name")
def scope_name(key: str) -> str:
    return str(SCOPES.get(key, key))


def _pretty(leaf: bytes) -> dict[str, object]:
    entry: dict[str, object] = json.loads(leaf)
    entry["pretty_payload"] = json.dumps(entry["payload"], ensure_ascii=False, indent=1)
    return entry


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    return value.replace(tzinfo=dt.UTC) if value else None


@bp.get("/")
def log() -> str:
    session = request_session()
    form = LogFilterForm(formdata=request.args)  # a GET form: FlaskForm reads only posted data
    valid = form.validate()
    rows = service.browse(
        session,
        type=form.type.data if valid else None,
        station=form.station.data if valid else None,
        since=_utc(form.since.data) if valid else None,
        until=_utc(form.until.data) if valid else None,
        before=form.before.data if valid else None,
        limit=PAGE,
    )
    return render_template(
        "audit/log.html",
        form=form,
        entries=[_pretty(leaf) for _, leaf in rows],
        next_before=rows[-1][0] if len(rows) == PAGE else None,
        types=service.event_types(session),
        size=service.size(session),
        latest=checkpoints.latest(session),
    )


@bp.get("/entries/<int:seq>")
def entry(seq: int) -> str:
    session = request_session()
    leaf = service.entry(session, seq)
    latest = checkpoints.latest(session)
    proof = None
    if latest is not None and seq < latest.size:
        proof = [h.hex() for h in service.inclusion_proof(session, seq, latest.size)]
    return render_template(
        "audit/entry.html",
        entry=_pretty(leaf),
        leaf=leaf.decode(),
        leaf_hash=merkle.leaf_hash(leaf).hex(),
        checkpoint=latest,
        checkpoint_text=checkpoints.full_text(latest) if latest else None,
        proof=proof,
    )


@bp.get("/checkpoints")
def checkpoint_history() -> str:
    session = request_session()
    return render_template(
        "audit/checkpoints.html",
        history=[(c, checkpoints.full_text(c)) for c in checkpoints.history(session)],
        log_vkey=log_key(session).vkey,
    )


@bp.get("/log-key")
def log_vkey() -> Response:
    return Response(log_key(request_session()).vkey + "\n", mimetype="text/plain")
