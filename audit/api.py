"""The observer API (docs/specs/audit-log-format.md, "API"): public reads, observer cosigning."""

from __future__ import annotations

import base64
from typing import TypeVar

from flask import Blueprint, Response, jsonify, request
from werkzeug.datastructures import MultiDict

from audit import checkpoints, export, service
from audit.forms import ConsistencyForm, CosignatureForm, EntryRangeForm, InclusionForm, QueryForm
from audit.models import Checkpoint
from ocv.auth.permissions import Permission, require
from ocv.db import request_session
from ocv.errors import NotFound, ValidationError
from ocv.security import csrf, limiter
from ocv.web import api_user, json_body

bp = Blueprint("audit_api", __name__, url_prefix="/api/v1/audit")
csrf.exempt(bp)  # reads, and token-authenticated writes only


F = TypeVar("F", bound=QueryForm)


def parsed(form_class: type[F], data: MultiDict[str, str] | None = None) -> F:
    form = form_class(formdata=data if data is not None else request.args)
    if not form.validate():
        raise ValidationError("Invalid parameters.", {k: list(v) for k, v in form.errors.items()})
    return form


def _b64(hashes: list[bytes]) -> list[str]:
    return [base64.b64encode(h).decode() for h in hashes]


def _text(body: str) -> Response:
    return Response(body, mimetype="text/plain", headers={"Cache-Control": "no-cache"})


def _latest() -> Checkpoint:
    """The latest signed checkpoint. A GET never signs one or appends to the log: checkpoints
    come from the schedule (`ocv audit schedule`), exports (`ocv audit export`) and the
    events that call for them."""
    latest = checkpoints.latest(request_session())
    if latest is None:
        raise NotFound("No checkpoint has been signed yet.")
    return latest


@bp.get("/checkpoint")
def checkpoint() -> Response:
    return _text(checkpoints.full_text(_latest()))


@bp.get("/checkpoints/<int:size>")
def checkpoint_at(size: int) -> Response:
    return _text(checkpoints.full_text(checkpoints.get(request_session(), size)))


@bp.get("/entries")
def entries() -> Response:
    form = parsed(EntryRangeForm)
    leaves = service.entries(request_session(), form.start.data, form.end.data)
    return Response(b"".join(leaf + b"\n" for leaf in leaves), mimetype="application/jsonl")


@bp.get("/proof/inclusion")
def inclusion() -> Response:
    form = parsed(InclusionForm)
    index, size = form.index.data, form.size.data
    hashes = service.inclusion_proof(request_session(), index, size)
    return jsonify({"index": index, "size": size, "hashes": _b64(hashes)})


@bp.get("/proof/consistency")
def consistency() -> Response:
    form = parsed(ConsistencyForm)
    old, new = form["from"].data, form["to"].data
    hashes = service.consistency_proof(request_session(), old, new)
    return jsonify({"from": old, "to": new, "hashes": _b64(hashes)})


@bp.get("/bundle")
@limiter.limit("10 per minute")
def bundle() -> Response:
    """The log up to the latest checkpoint, as `ocv-verify` reads it."""
    session, size = request_session(), _latest().size
    return Response(
        export.bundle_tar_gz(session, size),
        mimetype="application/gzip",
        headers={"Content-Disposition": f'attachment; filename="ocv-audit-{size}.tar.gz"'},
    )


@bp.post("/cosignatures")
def cosign() -> tuple[Response, int]:
    user = require(api_user(), Permission.OBSERVE)
    body = json_body()
    if not isinstance(body, dict):
        raise ValidationError('Send a JSON object: {"size": N, "signature": "— name sig"}.')
    form = parsed(CosignatureForm, MultiDict({k: str(v) for k, v in body.items()}))
    cosignature = checkpoints.add_cosignature(request_session(), user, form.size.data, form.signature.data)
    return jsonify({"size": cosignature.checkpoint_size, "key": cosignature.key_name}), 201
