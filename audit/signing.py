"""Documents with legal weight signed by the people who answer for them (a station's
results protocol, a certification): Ed25519 over the document's JCS bytes, by the
signer's personal key, opened with their password for this one signature
(docs/specs/audit-log-format.md, "signed documents")."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from audit import jcs, keys
from audit.models import SigningKey
from ocv.acting import Actor
from ocv.crypto import SealError
from ocv.errors import AuthenticationFailed, InvalidState


def digest(document: Mapping[str, Any]) -> str:
    """SHA-256 of the document's JCS bytes, hex: what a printed copy's QR code carries."""
    return hashlib.sha256(jcs.canonical_bytes(document)).hexdigest()


def sign(
    session: Session, signer: Actor, role: str, password: str, document: Mapping[str, Any]
) -> dict[str, str]:
    """`{"key", "sig"}` by the signer's active key for `role`. AuthenticationFailed for a
    wrong password, InvalidState when the signer holds no such key."""
    key = session.scalars(
        select(SigningKey)
        .where(
            SigningKey.owner == signer.name,
            SigningKey.role == role,
            SigningKey.revoked_seq.is_(None),
            SigningKey.sealed_private.is_not(None),
        )
        .order_by(SigningKey.created_at.desc())
        .limit(1)
        # Held until the signer's transaction ends: a revocation waits for it, so the signed
        # document's entry comes before the revocation's in the log (audit.keys.revoke_key).
        .with_for_update(read=True)
    ).one_or_none()
    if key is None:
        raise InvalidState(
            f"{signer.name} holds no signing key as {role.replace('_', ' ')}: ask an administrator."
        )
    try:
        private = keys.open_personal_key(key, password)
    except SealError:
        raise AuthenticationFailed("Wrong password: the key stays sealed.") from None
    signature = private.sign(jcs.canonical_bytes(document))
    return {"key": key.name, "sig": base64.b64encode(signature).decode()}
