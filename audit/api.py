"""The observer API (docs/specs/audit-log-format.md, "API"): public reads, observer cosigning."""

from __future__ import annotations

import base64
from typing import Annotated

import msgspec
from flask import Blueprint, Response

from audit import checkpoints, export, service
from audit.forms import ConsistencyForm, EntryRangeForm, InclusionForm
from audit.models import Checkpoint, Cosignature
from ocv.acting import Actor
from ocv.auth.permissions import Permission
from ocv.db import request_session
from ocv.errors import Conflict, NotFound, ValidationError
from ocv.openapi import PUBLIC, Answer, column_integer, column_text, operation
from ocv.security import csrf

bp = Blueprint("audit_api", __name__, url_prefix="/api/v1/audit")
csrf.exempt(bp)  # reads, and token-authenticated writes only

HASH = "q6XjF8Ht7mKvK2wQb1V+o8cC4R3nYJpL0sZ9dTfWgEU="
CHECKPOINT = Answer(
    media_type="text/plain",
    description="A C2SP tlog-checkpoint signed note: origin, size, root hash, then signature lines.",
    example=(f"test.ocv.example/audit\n42\n{HASH}\n\n— test.ocv.example/audit Az3gfU…\n"),
)
Hashes = Annotated[list[str], msgspec.Meta(description="Base64 SHA-256 hashes, RFC 9162 order.")]


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
@operation("The latest checkpoint", access=PUBLIC, answers={200: CHECKPOINT}, errors=(NotFound,))
def checkpoint() -> Response:
    return _text(checkpoints.full_text(_latest()))


@bp.get("/checkpoints/<int:size>")
@operation("The checkpoint at a tree size", access=PUBLIC, answers={200: CHECKPOINT}, errors=(NotFound,))
def checkpoint_at(size: int) -> Response:
    return _text(checkpoints.full_text(checkpoints.get(request_session(), size)))


@bp.get("/entries")
@operation(
    "Entries start ≤ seq < end",
    description=f"At most {service.MAX_ENTRIES_PER_PAGE} entries, fewer at the end of the log.",
    access=PUBLIC,
    query=EntryRangeForm,
    answers={
        200: Answer(
            media_type="application/jsonl",
            description="One entry a line, in canonical (RFC 8785) JSON: the bytes its leaf hash covers.",
        )
    },
    errors=(ValidationError,),
)
def entries(query: EntryRangeForm) -> Response:
    leaves = service.entries(request_session(), query.start.data, query.end.data)
    return Response(b"".join(leaf + b"\n" for leaf in leaves), mimetype="application/jsonl")


class InclusionProof(msgspec.Struct):
    index: int
    size: int
    hashes: Hashes


@bp.get("/proof/inclusion")
@operation(
    "Prove that an entry is in the tree of a size",
    access=PUBLIC,
    query=InclusionForm,
    answers={200: Answer(InclusionProof, example={"index": 3, "size": 8, "hashes": [HASH, HASH, HASH]})},
    errors=(ValidationError,),
)
def inclusion(query: InclusionForm) -> InclusionProof:
    index, size = query.index.data, query.size.data
    return InclusionProof(
        index=index, size=size, hashes=_b64(service.inclusion_proof(request_session(), index, size))
    )


class ConsistencyProof(msgspec.Struct):
    from_: int = msgspec.field(name="from")
    to: int
    hashes: Hashes


@bp.get("/proof/consistency")
@operation(
    "Prove that the tree of one size extends the tree of a smaller one",
    access=PUBLIC,
    query=ConsistencyForm,
    answers={200: Answer(ConsistencyProof, example={"from": 5, "to": 8, "hashes": [HASH, HASH]})},
    errors=(ValidationError,),
)
def consistency(query: ConsistencyForm) -> ConsistencyProof:
    old, new = query["from"].data, query["to"].data
    return ConsistencyProof(
        from_=old, to=new, hashes=_b64(service.consistency_proof(request_session(), old, new))
    )


@bp.get("/bundle")
@operation(
    "The whole log as a bundle for ocv-verify",
    access=PUBLIC,
    limit="10 per minute",
    answers={
        200: Answer(
            media_type="application/gzip",
            description="A tar.gz of entries, checkpoints and public keys (docs/specs/audit-log-format.md).",
            headers={"Content-Disposition": 'attachment; filename="ocv-audit-<size>.tar.gz"'},
        )
    },
    errors=(NotFound,),
)
def bundle() -> Response:
    """The log up to the latest checkpoint, as `ocv-verify` reads it."""
    session, size = request_session(), _latest().size
    return Response(
        export.bundle_tar_gz(session, size),
        mimetype="application/gzip",
        headers={"Content-Disposition": f'attachment; filename="ocv-audit-{size}.tar.gz"'},
    )


class NewCosignature(msgspec.Struct):
    size: Annotated[
        int, column_integer(Cosignature.checkpoint_size, ge=1, description="The checkpoint's size.")
    ]
    signature: Annotated[
        str,
        msgspec.Meta(min_length=1, max_length=500, description="The line '— <key name> <base64 signature>'."),
    ]


class Cosigned(msgspec.Struct):
    size: int
    key: Annotated[str, column_text(Cosignature.key_name)]


@bp.post("/cosignatures")
@operation(
    "Cosign a checkpoint",
    description="As a witness: the observer checked that the checkpoint is consistent with the "
    "last one their key cosigned; the server checks it again.",
    access=Permission.OBSERVE,
    body=NewCosignature,
    example={"size": 42, "signature": "— witness-1 Az3gfU…"},
    answers={201: Answer(Cosigned, description="Stored.", example={"size": 42, "key": "witness-1"})},
    errors=(NotFound, ValidationError, Conflict),
)
def cosign(actor: Actor, body: NewCosignature) -> Cosigned:
    cosignature = checkpoints.add_cosignature(request_session(), actor, body.size, body.signature)
    return Cosigned(size=cosignature.checkpoint_size, key=cosignature.key_name)
