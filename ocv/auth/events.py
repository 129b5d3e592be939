"""The audit event types of accounts. Usernames only: no passwords, codes or tokens."""

from ocv.events import EventType

U = ("username",)

AUTH_EVENTS = (
    EventType("auth.user_created", "An account was created.", ("username", "role", "station")),
    EventType("auth.role_changed", "An account's role or station changed.", ("username", "from", "to")),
    EventType("auth.user_deactivated", "An account was deactivated.", U),
    EventType("auth.user_reactivated", "An account was reactivated.", U),
    EventType("auth.user_unlocked", "An administrator unlocked an account, from every address.", U),
    EventType("auth.password_reset", "An administrator set a temporary password.", U),
    EventType("auth.password_changed", "A user changed their password.", U),
    EventType("auth.login", "A user signed in.", U),
    EventType("auth.logout", "A user signed out, which ends every session of the account.", U),
    EventType(
        "auth.login_failed",
        "A sign-in failed (reason: unknown_user, bad_password, bad_totp, inactive, locked); "
        "the user name is null when it matches no account, as it may be a mistyped password.",
        ("username", "reason"),
    ),
    EventType(
        "auth.account_locked",
        "Too many failed sign-ins from one client address locked that address out of an account.",
        ("username", "minutes"),
    ),
    EventType("auth.totp_enabled", "A user turned on two-step sign-in.", U),
    EventType("auth.totp_disabled", "A user turned off two-step sign-in.", U),
    EventType("auth.token_issued", "An API token was issued.", ("username", "token_id", "name")),
    EventType("auth.token_revoked", "An API token was revoked.", ("username", "token_id")),
)
