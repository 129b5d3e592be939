"""Signed checkpoints (C2SP tlog-checkpoint as signed notes) and witness cosignatures."""

from __future__ import annotations

import base64
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from audit import events as E
from audit import merkle, note, sequencer
from audit.keys import get_key, open_log_key
from audit.models import Checkpoint, Cosignature, SigningKey
from audit.service import consistency_proof, root
from audit.service import size as log_size
from ocv.acting import Actor, authorize, record
from ocv.auth.permissions import Permission
from ocv.errors import Conflict, NotFound, PermissionDenied, ValidationError
from ocv.settings import Settings

REASONS = ("schedule", "demand", "export", "station_close", "certification")


def latest(session: Session) -> Checkpoint | None:
    return session.scalar(select(Checkpoint).order_by(Checkpoint.size.desc()).limit(1))


def get(session: Session, size: int) -> Checkpoint:
    checkpoint = session.get(Checkpoint, size)
    if checkpoint is None:
        raise NotFound(f"No checkpoint at size {size}.")
    return checkpoint


def history(session: Session, limit: int = 100) -> Sequence[Checkpoint]:
    return session.scalars(select(Checkpoint).order_by(Checkpoint.size.desc()).limit(limit)).all()


def issue(session: Session, settings: Settings, reason: str = "demand") -> Checkpoint:
    """Integrate the pending entries, then sign the tree head, unless a checkpoint of this
    size exists already. The sequencer's lock, held to the end of the transaction, fixes
    the size while we sign and serializes issuers."""
    if reason not in REASONS:
        raise ValidationError(f"Unknown checkpoint reason {reason!r}.")
    sequencer.integrate(session)  # InvalidState if the log has not been created
    tree_size = log_size(session)
    existing = session.get(Checkpoint, tree_size)
    if existing is not None:
        return existing
    name, key = open_log_key(session, settings)
    tree_root = root(session, tree_size)
    body = note.Checkpoint(origin=name, size=tree_size, root=tree_root).format()
    signed = body + "\n" + note.sign_note(body, name, key)
    checkpoint = Checkpoint(size=tree_size, root=tree_root, note=signed, reason=reason)
    session.add(checkpoint)
    session.flush()  # a concurrent issuer of the same size loses on the primary key
    return checkpoint


def full_text(checkpoint: Checkpoint) -> str:
    """The signed note with every cosignature line appended."""
    lines = "".join(c.signature_line + "\n" for c in checkpoint.cosignatures)
    return checkpoint.note + lines


def last_cosigned_size(session: Session, key_name: str) -> int | None:
    return session.scalar(
        select(Cosignature.checkpoint_size)
        .where(Cosignature.key_name == key_name)
        .order_by(Cosignature.checkpoint_size.desc())
        .limit(1)
    )


def add_cosignature(session: Session, actor: Actor, size: int, signature_line: str) -> Cosignature:
    """Store an observer's cosignature of checkpoint `size`.

    The observer checked, before signing, that this checkpoint is consistent with the
    last one they cosigned (they fetch the consistency proof from the API); the server
    re-checks the same proof against its own stored roots, and never lets a witness
    move backwards.
    """
    authorize(actor, Permission.OBSERVE)
    checkpoint = get(session, size)
    key_name = _signature_key_name(signature_line)
    key = get_key(session, key_name)
    _check_witness_key(key, actor.name)
    body = checkpoint.note.split("\n\n", 1)[0] + "\n"
    try:
        note.verify_signature_line(body, signature_line, key.vkey)
    except ValueError as error:
        raise ValidationError(f"The cosignature does not verify: {error}") from None
    previous = last_cosigned_size(session, key_name)
    if previous is not None:
        if previous == size:
            raise Conflict(f"{key_name} has cosigned checkpoint {size} already.")
        if previous > size:
            raise ValidationError(
                f"{key_name} cosigned checkpoint {previous} already; a witness never goes back."
            )
        old = get(session, previous)
        merkle.verify_consistency(
            previous, size, consistency_proof(session, previous, size), old.root, checkpoint.root
        )
    cosignature = Cosignature(checkpoint=checkpoint, key_name=key_name, signature_line=signature_line)
    session.add(cosignature)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(f"{key_name} has cosigned checkpoint {size} already.") from None
    record(
        session,
        E.CHECKPOINT_COSIGNED,
        actor,
        {},
        {"size": size, "key": key_name, "signature": signature_line},
    )
    return cosignature


def _signature_key_name(line: str) -> str:
    prefix = "\u2014 "
    parts = line.strip("\n").split(" ")
    if not line.startswith(prefix) or len(parts) != 3:
        raise ValidationError("A cosignature is one line: '— <key name> <base64 signature>'.")
    try:
        base64.b64decode(parts[2], validate=True)
    except ValueError:
        raise ValidationError("The signature is not valid base64.") from None
    return parts[1]


def _check_witness_key(key: SigningKey, witness: str) -> None:
    if key.owner != witness or key.role != "observer":
        raise PermissionDenied("That key is not one of your observer keys.")
    if key.revoked_seq is not None:
        raise PermissionDenied("That key is revoked.")
