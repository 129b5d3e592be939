"""Account operations: users, roles, logins, passwords, second factors, API tokens.

Every change records an audit event in the caller's transaction, and every one is
authorized and recorded through `ocv.acting`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pyotp
from sqlalchemy import bindparam, delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ocv.acting import SYSTEM, Actor, authorize, record
from ocv.auth import events as E
from ocv.auth.models import STATION_ROLES, ApiToken, LoginFailure, Role, User
from ocv.auth.permissions import Permission
from ocv.crypto import PasswordHashing, open_sealed, seal_with_secret
from ocv.db import utcnow
from ocv.errors import AuthenticationFailed, Conflict, NotFound, ValidationError
from ocv.settings import Settings
from ocv.text import TextError, clean

log = logging.getLogger(__name__)

MIN_PASSWORD_LENGTH = 12
TOKEN_PREFIX = "ocv_"  # noqa: S105 (a prefix that marks tokens, not a secret)
USERNAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-")


# Called in the same transaction when a password changes (old is None after an
# administrator's reset): the audit package re-seals or revokes the owner's signing keys.
PasswordHook = Callable[[Session, User, "str | None", str], None]
password_hooks: list[PasswordHook] = []


def hashing(settings: Settings) -> PasswordHashing:
    return PasswordHashing(settings.argon2_time_cost, settings.argon2_memory_cost)


# --- users and roles -------------------------------------------------------------------


def check_password_strength(password: str, username: str, field: str = "password") -> None:
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"Use at least {MIN_PASSWORD_LENGTH} characters.")
    if username and username.lower() in password.lower():
        problems.append("Do not include the user name.")
    if problems:
        raise ValidationError("The password is too weak.", {field: problems})


def _checked_text(value: str, limit: int, field: str) -> str:
    try:
        return clean(value, limit)
    except TextError as error:
        raise ValidationError(str(error), {field: [str(error)]}) from None


def _check_role(role: str, station_code: str | None) -> Role:
    try:
        parsed = Role(role)
    except ValueError:
        known = ", ".join(r.value for r in Role)
        raise ValidationError(f"Unknown role {role!r}; use one of: {known}.") from None
    if parsed in STATION_ROLES and not station_code:
        raise ValidationError(f"A {parsed.value} must be assigned to a station.")
    if parsed not in STATION_ROLES and station_code:
        raise ValidationError(f"A {parsed.value} is not assigned to a station.")
    return parsed


def create_user(
    session: Session,
    settings: Settings,
    actor: Actor,
    *,
    username: str,
    role: str,
    password: str,
    station_code: str | None = None,
    full_name: str = "",
) -> User:
    authorize(actor, Permission.MANAGE_USERS)
    username = username.strip().lower()
    if not username or not set(username) <= USERNAME_CHARS or len(username) > 64:
        raise ValidationError(
            "A user name is 1 to 64 of: lowercase letters, digits, '.', '_', '-'.",
            {"username": ["Use lowercase letters, digits, '.', '_' or '-'."]},
        )
    station_code = _checked_text(station_code.strip().upper(), 32, "station_code") if station_code else None
    parsed_role = _check_role(role, station_code)
    full_name = _checked_text(full_name.strip(), 200, "full_name")
    check_password_strength(password, username)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise Conflict(f"The user name {username!r} is taken.")
    user = User(
        username=username,
        full_name=full_name,
        role=parsed_role.value,
        station_code=station_code,
        password_hash=hashing(settings).hash(password),
        must_change_password=True,
    )
    session.add(user)
    try:
        session.flush()  # the unique constraint settles a concurrent creation
    except IntegrityError:
        raise Conflict(f"The user name {username!r} is taken.") from None
    record(
        session, E.USER_CREATED, actor, {}, {"username": username, "role": user.role, "station": station_code}
    )
    return user


def require_user_admin(actor: Actor) -> None:
    """Pages that only lead to user administration check this before rendering."""
    authorize(actor, Permission.MANAGE_USERS)


def list_users(session: Session, actor: Actor) -> Sequence[User]:
    authorize(actor, Permission.MANAGE_USERS)
    return all_users(session)


def all_users(session: Session) -> Sequence[User]:
    """Every account, for the operator's console."""
    return session.scalars(select(User).order_by(User.username)).all()


def account_state(session: Session) -> dict[str, dict[str, object]]:
    """The accounts as observers may see them, for the log's state digests."""
    return {
        u.username: {"role": u.role, "station": u.station_code, "active": u.is_active}
        for u in all_users(session)
    }


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise NotFound(f"No user named {username!r}.")
    return user


def change_role(session: Session, actor: Actor, user: User, role: str, station_code: str | None) -> User:
    authorize(actor, Permission.MANAGE_USERS)
    station_code = _checked_text(station_code.strip().upper(), 32, "station_code") if station_code else None
    parsed = _check_role(role, station_code)
    if actor.is_(user):
        raise ValidationError("You cannot change your own role.")
    before = {"role": user.role, "station": user.station_code}
    user.role, user.station_code = parsed.value, station_code
    user.session_version += 1  # a new role starts from a fresh sign-in
    after = {"role": user.role, "station": station_code}
    record(session, E.ROLE_CHANGED, actor, {}, {"username": user.username, "from": before, "to": after})
    return user


def set_active(session: Session, actor: Actor, user: User, active: bool) -> User:
    authorize(actor, Permission.MANAGE_USERS)
    if actor.is_(user):
        raise ValidationError("You cannot deactivate your own account.")
    if user.is_active != active:
        user.is_active = active
        user.session_version += 1
        event = E.USER_REACTIVATED if active else E.USER_DEACTIVATED
        record(session, event, actor, {}, {"username": user.username})
    return user


def unlock(session: Session, actor: Actor, user: User) -> User:
    authorize(actor, Permission.MANAGE_USERS)
    _clear_failures(session, user)
    record(session, E.USER_UNLOCKED, actor, {}, {"username": user.username})
    return user


def _clear_failures(session: Session, user: User) -> None:
    session.execute(delete(LoginFailure).where(LoginFailure.user_id == user.id))
    user.locked_until = None


def reset_password(session: Session, settings: Settings, actor: Actor, user: User, password: str) -> User:
    """An administrator sets a temporary password; the owner must change it at next login."""
    authorize(actor, Permission.MANAGE_USERS)
    check_password_strength(password, user.username)
    user.password_hash = hashing(settings).hash(password)
    user.must_change_password = True
    user.session_version += 1
    _clear_failures(session, user)
    record(session, E.PASSWORD_RESET, actor, {}, {"username": user.username})
    for hook in password_hooks:
        hook(session, user, None, password)
    return user


# --- signing in ------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginOutcome:
    user: User | None
    error: str | None = None
    needs_totp: bool = False

    @property
    def ok(self) -> bool:
        return self.user is not None and self.error is None and not self.needs_totp


# One answer for an unknown user, a wrong password and a locked address, so that the answer
# tells an attacker nothing; the web layer words it in the reader's language.
GENERIC_LOGIN_ERROR = "invalid"


def authenticate(
    session: Session, settings: Settings, username: str, password: str, remote_addr: str = ""
) -> LoginOutcome:
    """Check a sign-in; failures are counted and recorded, and committed by the caller.

    Every attempt costs one Argon2id computation, whether the user exists, the password is
    wrong or the address is locked out, so neither the answer nor its time tells them apart.
    """
    hasher = hashing(settings)
    user = session.scalar(select(User).where(User.username == username.strip().lower()).with_for_update())
    if user is None:
        hasher.hash(password)  # the same cost as a verification
        record(session, E.LOGIN_FAILED, SYSTEM, {}, {"username": None, "reason": "unknown_user"})
        log.warning("login failed: unknown user")
        return LoginOutcome(None, GENERIC_LOGIN_ERROR)
    matches = hasher.verify(user.password_hash, password)
    if _is_locked(session, user, remote_addr):
        return LoginOutcome(None, GENERIC_LOGIN_ERROR)
    if not matches:
        return _fail(session, settings, user, "bad_password", remote_addr)
    if not user.is_active:
        return _fail(session, settings, user, "inactive", remote_addr)
    if hasher.needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    if user.has_totp:
        return LoginOutcome(user, needs_totp=True)
    return _succeed(session, user, remote_addr)


def complete_second_factor(
    session: Session, settings: Settings, user: User, code: str, remote_addr: str = ""
) -> LoginOutcome:
    """The second step of a sign-in whose password was right: check the TOTP code."""
    session.refresh(user, with_for_update=True)  # attempts on one account, one at a time
    if _is_locked(session, user, remote_addr):
        return LoginOutcome(None, GENERIC_LOGIN_ERROR)
    if not user.is_active or not _totp_matches(settings, user, code):
        return _fail(session, settings, user, "bad_totp", remote_addr)
    return _succeed(session, user, remote_addr)


def _failures(session: Session, user: User, address: str) -> LoginFailure | None:
    return session.get(LoginFailure, (user.id, address[:64]), with_for_update=True)


def _is_locked(session: Session, user: User, address: str) -> bool:
    failure = _failures(session, user, address)
    if failure is None or failure.locked_until is None or failure.locked_until <= utcnow():
        return False
    record(session, E.LOGIN_FAILED, SYSTEM, {}, {"username": user.username, "reason": "locked"})
    log.warning("login refused: %s is locked for an address until %s", user.username, failure.locked_until)
    return True


def _succeed(session: Session, user: User, remote_addr: str) -> LoginOutcome:
    failure = _failures(session, user, remote_addr)
    if failure is not None:
        session.delete(failure)
    user.last_login_at = utcnow()
    record(session, E.LOGIN, Actor.of(user), {}, {"username": user.username})
    log.info("login: %s", user.username)
    return LoginOutcome(user)


def _fail(session: Session, settings: Settings, user: User, reason: str, remote_addr: str) -> LoginOutcome:
    now, window = utcnow(), dt.timedelta(minutes=settings.lockout_minutes)
    failure = _failures(session, user, remote_addr)
    if failure is None:
        failure = LoginFailure(user_id=user.id, address=remote_addr[:64], failures=0)
        session.add(failure)
    elif failure.last_failed_at <= now - window:
        failure.failures = 0  # failures further apart than the lockout window do not add up
    failure.failures += 1
    failure.last_failed_at = now
    record(session, E.LOGIN_FAILED, SYSTEM, {}, {"username": user.username, "reason": reason})
    log.warning(
        "login failed: %s (%s, failure %d from this address)", user.username, reason, failure.failures
    )
    if failure.failures >= settings.login_max_failures:
        failure.locked_until, failure.failures = now + window, 0
        user.locked_until = max(filter(None, (user.locked_until, failure.locked_until)))
        locked = {"username": user.username, "minutes": settings.lockout_minutes}
        record(session, E.ACCOUNT_LOCKED, SYSTEM, {}, locked)
        log.warning(
            "account locked for an address: %s after %d failed sign-ins",
            user.username,
            settings.login_max_failures,
        )
    return LoginOutcome(None, GENERIC_LOGIN_ERROR)


def record_logout(session: Session, user: User) -> None:
    """Sign out: every session of the account ends here, on the server, not only the cookie
    of the browser that asked (a copied cookie would otherwise still open the account)."""
    user.session_version += 1
    record(session, E.LOGOUT, Actor.of(user), {}, {"username": user.username})


def change_password(session: Session, settings: Settings, user: User, current: str, new: str) -> User:
    hasher = hashing(settings)
    if not hasher.verify(user.password_hash, current):
        raise ValidationError(
            "The current password is wrong.", {"current_password": ["This is not your password."]}
        )
    if current == new:
        raise ValidationError("Choose a new password.", {"new_password": ["The new password must differ."]})
    check_password_strength(new, user.username, "new_password")
    user.password_hash = hasher.hash(new)
    user.must_change_password = False
    user.password_changed_at = utcnow()
    user.session_version += 1
    record(session, E.PASSWORD_CHANGED, Actor.of(user), {}, {"username": user.username})
    for hook in password_hooks:
        hook(session, user, current, new)
    return user


def check_password(session: Session, settings: Settings, user: User, password: str) -> None:
    """Confirm a user's password before a sensitive act (opening or sealing their key)."""
    if not hashing(settings).verify(user.password_hash, password):
        raise AuthenticationFailed(f"Wrong password for {user.username}.")


# --- second factor ---------------------------------------------------------------------


def new_totp_secret() -> str:
    return pyotp.random_base32()


def totp_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name="OCV")


def _totp_matches(settings: Settings, user: User, code: str) -> bool:
    assert user.totp_secret is not None
    secret = open_sealed(user.totp_secret, secret=settings.key_secret).decode()
    return pyotp.TOTP(secret).verify(code.strip().replace(" ", ""), valid_window=1)


def enable_totp(session: Session, settings: Settings, user: User, secret: str, code: str) -> User:
    if not pyotp.TOTP(secret).verify(code.strip().replace(" ", ""), valid_window=1):
        raise ValidationError(
            "That code does not match.", {"code": ["That code does not match; enter the current one."]}
        )
    user.totp_secret = seal_with_secret(secret.encode(), settings.key_secret)
    record(session, E.TOTP_ENABLED, Actor.of(user), {}, {"username": user.username})
    return user


def disable_totp(session: Session, settings: Settings, user: User, password: str) -> User:
    if not hashing(settings).verify(user.password_hash, password):
        raise ValidationError("The password is wrong.", {"password": ["This is not your password."]})
    user.totp_secret = None
    record(session, E.TOTP_DISABLED, Actor.of(user), {}, {"username": user.username})
    return user


# --- API tokens ------------------------------------------------------------------------


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(session: Session, actor: Actor, user: User, name: str) -> str:
    """Create a token for `user` (themself, or anyone for an admin) and return it once."""
    if not actor.is_(user):
        authorize(actor, Permission.MANAGE_USERS)
    name = _checked_text(name.strip(), 100, "name") or "API token"
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    issued = ApiToken(user=user, name=name[:100], token_hash=_token_hash(token), prefix=token[:12])
    session.add(issued)
    session.flush()  # the id names the token in the audit entry
    payload = {"username": user.username, "token_id": issued.id, "name": issued.name}
    record(session, E.TOKEN_ISSUED, actor, {}, payload)
    return token


def revoke_token(session: Session, actor: Actor, token_id: int) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound("No such token.")
    if not actor.is_(token.user):
        authorize(actor, Permission.MANAGE_USERS)
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        record(session, E.TOKEN_REVOKED, actor, {}, {"username": token.user.username, "token_id": token.id})
    return token


# Built once: every API call looks its token up. Only the user is loaded (the token row is
# a condition, not an object): the check is the same, in one query and less work per call.
# Nothing is cached between requests, so a revoked token or a deactivated user is refused
# from the next request on.
_USER_BY_TOKEN = (
    select(User)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(
        ApiToken.token_hash == bindparam("token_hash"),
        ApiToken.revoked_at.is_(None),
        User.is_active.is_(True),
    )
)


def user_for_token(session: Session, token: str) -> User:
    if not token.startswith(TOKEN_PREFIX):
        raise AuthenticationFailed("Invalid API token.")
    # The lookup is by hash of a 256-bit secret, so it leaks nothing through timing.
    user = session.scalar(_USER_BY_TOKEN, {"token_hash": _token_hash(token)})
    if user is None:
        raise AuthenticationFailed("Invalid or revoked API token.")
    return user


def list_tokens(session: Session, user: User) -> Sequence[ApiToken]:
    return session.scalars(
        select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.created_at.desc())
    ).all()
