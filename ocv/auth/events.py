"""The audit event types of accounts. Usernames only: no passwords, codes or tokens."""

from ocv.events import EventType

U = ("username",)

USER_CREATED = EventType("auth.user_created", "An account was created.", ("username", "role", "station"))

ROLE_CHANGED = EventType(
    "auth.role_changed", "An account's role or station changed.", ("username", "from", "to")
)

USER_DEACTIVATED = EventType("auth.user_deactivated", "An account was deactivated.", U)

USER_REACTIVATED = EventType("auth.user_reactivated", "An account was reactivated.", U)

USER_UNLOCKED = EventType(
    "auth.user_unlocked", "An administrator unlocked an account, from every address.", U
)

PASSWORD_RESET = EventType("auth.password_reset", "An administrator set a temporary password.", U)

PASSWORD_CHANGED = EventType("auth.password_changed", "A user changed their password.", U)

LOGIN = EventType("auth.login", "A user signed in.", U)

LOGOUT = EventType("auth.logout", "A user signed out, which ends every session of the account.", U)

LOGIN_FAILED = EventType(
    "auth.login_failed",
    "A sign-in failed (reason: unknown_user, bad_password, bad_totp, inactive, locked); "
    "the user name is null when it matches no account, as it may be a mistyped password.",
    ("username", "reason"),
)

ACCOUNT_LOCKED = EventType(
    "auth.account_locked",
    "Too many failed sign-ins from one client address locked that address out of an account.",
    ("username", "minutes"),
)

TOTP_ENABLED = EventType("auth.totp_enabled", "A user turned on two-step sign-in.", U)

TOTP_DISABLED = EventType("auth.totp_disabled", "A user turned off two-step sign-in.", U)

TOKEN_ISSUED = EventType("auth.token_issued", "An API token was issued.", ("username", "token_id", "name"))

TOKEN_REVOKED = EventType("auth.token_revoked", "An API token was revoked.", ("username", "token_id"))

AUTH_EVENTS = (
    USER_CREATED,
    ROLE_CHANGED,
    USER_DEACTIVATED,
    USER_REACTIVATED,
    USER_UNLOCKED,
    PASSWORD_RESET,
    PASSWORD_CHANGED,
    LOGIN,
    LOGOUT,
    LOGIN_FAILED,
    ACCOUNT_LOCKED,
    TOTP_ENABLED,
    TOTP_DISABLED,
    TOKEN_ISSUED,
    TOKEN_REVOKED,
)
