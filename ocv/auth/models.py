"""User accounts and API tokens."""

from __future__ import annotations

import datetime as dt
import enum

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ocv.db import Base, int_pk, utcnow


class Role(enum.StrEnum):
    ADMIN = "admin"
    REGISTRATION_OFFICER = "registration_officer"
    PRESIDING_OFFICER = "presiding_officer"
    CLERK = "clerk"
    TALLY_OFFICER = "tally_officer"
    OBSERVER = "observer"

    @property
    def is_station_official(self) -> bool:
        return self in STATION_ROLES


STATION_ROLES = frozenset({Role.PRESIDING_OFFICER, Role.CLERK})
_ROLE_VALUES = ", ".join(f"'{role.value}'" for role in Role)
_STATION_VALUES = ", ".join(f"'{role.value}'" for role in STATION_ROLES)


class User(UserMixin, Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(f"role IN ({_ROLE_VALUES})", name="role_known"),
        # Station officials act for exactly one station; nobody else has one.
        CheckConstraint(
            f"(role IN ({_STATION_VALUES})) = (station_code IS NOT NULL)",
            name="station_scope",
        ),
    )

    id: Mapped[int_pk]
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(32))
    station_code: Mapped[str | None] = mapped_column(String(32), index=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    must_change_password: Mapped[bool] = mapped_column(default=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    # The latest lock of a sign-in from any address (LoginFailure), shown to administrators.
    locked_until: Mapped[dt.datetime | None]
    totp_secret: Mapped[str | None] = mapped_column(String(200))
    # Bumped on password change and logout-everywhere: older sessions stop working.
    session_version: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    password_changed_at: Mapped[dt.datetime | None]
    last_login_at: Mapped[dt.datetime | None]

    tokens: Mapped[list[ApiToken]] = relationship(back_populates="user")

    @property
    def role_enum(self) -> Role:
        return Role(self.role)

    @property
    def has_totp(self) -> bool:
        return self.totp_secret is not None

    def get_id(self) -> str:
        # The version makes every older session cookie stale after a password change.
        return f"{self.id}.{self.session_version}"

    def as_actor(self) -> dict[str, str]:
        return {"user": self.username, "role": self.role}


class LoginFailure(Base):
    """Failed sign-ins to one account from one client address, and its lock, if any.

    Counted per account and address, so that nobody can lock someone else out by failing
    on purpose: a lock holds only for the address that earned it."""

    __tablename__ = "login_failures"
    __table_args__ = (CheckConstraint("failures >= 0", name="failures_non_negative"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    last_failed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    locked_until: Mapped[dt.datetime | None]


class ApiToken(Base):
    __tablename__ = "api_tokens"

    id: Mapped[int_pk]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    # SHA-256 of the token: tokens are 256-bit random, so a fast hash is enough.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[dt.datetime | None]
    revoked_at: Mapped[dt.datetime | None]

    user: Mapped[User] = relationship(back_populates="tokens")

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None
