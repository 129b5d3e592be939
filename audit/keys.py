"""Signing keys: the log key (sealed with the environment secret) and personal keys
(sealed with their owner's password). Registration and revocation are log entries,
written straight into the log (`sequencer.append_now`): a key's `registered_seq` and
`revoked_seq` are what the verifier checks signatures against."""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
)
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from audit import events as E
from audit import note
from audit.models import LogHead, SigningKey
from audit.sequencer import append_now
from audit.service import exists
from ocv.acting import SYSTEM, Actor, authorize
from ocv.auth.models import User
from ocv.auth.permissions import Permission
from ocv.crypto import open_sealed, seal_with_password, seal_with_secret
from ocv.errors import Conflict, InvalidState, NotFound, ValidationError
from ocv.settings import Settings

LOG_ROLE = "log"
SIGNER_ROLES = ("admin", "presiding_officer", "tally_officer", "observer", "station")


def _raw_private(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def public_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def create_log(session: Session, settings: Settings) -> bool:
    """Create the log and its key, with the trust root as entry 0. False if it exists."""
    if exists(session):
        return False
    key = Ed25519PrivateKey.generate()
    vkey = note.format_vkey(settings.log_origin, public_bytes(key))
    session.add(LogHead(id=1, size=0, last_time=""))
    session.add(
        SigningKey(
            name=settings.log_origin,
            vkey=vkey,
            role=LOG_ROLE,
            owner="ocv",
            sealed_private=seal_with_secret(_raw_private(key), settings.key_secret),
            registered_seq=0,
        )
    )
    session.flush()  # the head row must exist before the sequencer reads it
    append_now(session, E.LOG_CREATED.name, SYSTEM.entry(), {}, {"origin": settings.log_origin, "vkey": vkey})
    return True


def log_key(session: Session) -> SigningKey:
    key = session.scalar(select(SigningKey).where(SigningKey.role == LOG_ROLE))
    if key is None:
        raise InvalidState("The audit log has not been created: run `ocv db upgrade`.")
    return key


def open_log_key(session: Session, settings: Settings) -> tuple[str, Ed25519PrivateKey]:
    key = log_key(session)
    assert key.sealed_private is not None
    raw = open_sealed(key.sealed_private, secret=settings.key_secret)
    return key.name, Ed25519PrivateKey.from_private_bytes(raw)


def list_keys(session: Session) -> Sequence[SigningKey]:
    return session.scalars(select(SigningKey).order_by(SigningKey.created_at)).all()


def get_key(session: Session, name: str, *, for_update: bool = False) -> SigningKey:
    key = session.get(SigningKey, name, with_for_update=for_update or None)
    if key is None:
        raise NotFound(f"No key named {name!r}.")
    return key


def create_personal_key(
    session: Session, actor: Actor, owner: str, role: str, password: str, name: str
) -> SigningKey:
    """A person's key: generated here, sealed with their password, registered in the log."""
    authorize(actor, Permission.MANAGE_KEYS)
    key = Ed25519PrivateKey.generate()
    return register_key(
        session,
        actor,
        owner=owner,
        role=role,
        name=name,
        public_key=public_bytes(key),
        sealed_private=seal_with_password(_raw_private(key), password),
    )


def register_key(
    session: Session,
    actor: Actor,
    *,
    owner: str,
    role: str,
    name: str,
    public_key: bytes,
    sealed_private: str | None = None,
) -> SigningKey:
    authorize(actor, Permission.MANAGE_KEYS)
    if role not in SIGNER_ROLES:
        raise ValidationError(f"Unknown signing role {role!r}; use one of {', '.join(SIGNER_ROLES)}.")
    try:
        vkey = note.format_vkey(name, public_key)
    except ValueError as error:
        raise ValidationError(f"Bad key name {name!r}: {error}") from None
    # Names are unique for the life of the log, revoked ones included.
    if session.get(SigningKey, name) is not None:
        raise Conflict(f"A key named {name!r} exists already; key names are never reused.")
    record = SigningKey(name=name, vkey=vkey, role=role, owner=owner, sealed_private=sealed_private)
    session.add(record)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(f"A key named {name!r} exists already.") from None
    record.registered_seq = append_now(
        session,
        E.KEY_REGISTERED.name,
        actor.entry(),
        {},
        {"name": name, "vkey": vkey, "role": role, "owner": owner},
    )
    return record


def register_verifier_key(session: Session, actor: Actor, *, owner: str, role: str, vkey: str) -> SigningKey:
    """Register a key from its verifier key string; the owner keeps the private half."""
    try:
        name, public_key = note.parse_vkey(vkey)
    except ValueError as error:
        raise ValidationError(f"Not a verifier key: {error}") from None
    return register_key(session, actor, owner=owner, role=role, name=name, public_key=public_key)


def rotate_key(session: Session, actor: Actor, name: str, new_name: str, password: str) -> SigningKey:
    """A new key for the same owner and role; the old one is revoked in the same transaction."""
    old = get_key(session, name)
    new = create_personal_key(
        session, actor, owner=old.owner, role=old.role, password=password, name=new_name
    )
    revoke_key(session, actor, name, f"rotated to {new_name}")
    return new


def revoke_key(session: Session, actor: Actor, name: str, reason: str) -> SigningKey:
    authorize(actor, Permission.MANAGE_KEYS)
    # Locked first: a signature being made with the key (audit.signing) either commits before
    # the revocation is recorded, and so comes before it in the log, or sees it and refuses.
    key = get_key(session, name, for_update=True)
    if key.role == LOG_ROLE:
        raise ValidationError("The log key cannot be revoked; it is the log's trust root.")
    if not reason.strip():
        raise ValidationError("Give a reason for the revocation.")
    if key.revoked_seq is not None:
        raise InvalidState(f"The key {name!r} is revoked already.")
    key.revoked_seq = append_now(
        session, E.KEY_REVOKED.name, actor.entry(), {}, {"name": name, "reason": reason.strip()}
    )
    key.sealed_private = None  # a revoked key signs nothing more
    return key


def open_personal_key(key: SigningKey, password: str) -> Ed25519PrivateKey:
    """Open a person's key in memory for one signing request."""
    if key.sealed_private is None or key.revoked_seq is not None:
        raise InvalidState(f"The key {key.name!r} cannot sign.")
    return Ed25519PrivateKey.from_private_bytes(open_sealed(key.sealed_private, password=password))


def follow_password_change(session: Session, user: User, old: str | None, new: str) -> None:
    """Re-seal the user's personal keys under the new password; after an administrator's
    reset (old password unknown) they can no longer be opened, so they are revoked."""
    for key in session.scalars(
        select(SigningKey).where(
            SigningKey.owner == user.username,
            SigningKey.revoked_seq.is_(None),
            SigningKey.sealed_private.is_not(None),
            SigningKey.role != LOG_ROLE,
        )
    ):
        if old is None:
            revoke_key(session, SYSTEM, key.name, "password reset by an administrator")
        else:
            assert key.sealed_private is not None
            raw = open_sealed(key.sealed_private, password=old)
            key.sealed_private = seal_with_password(raw, new)
