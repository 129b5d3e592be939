"""Typed, frozen settings read from ``OCV_*`` environment variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from ocv.errors import ConfigurationError

ENVIRONMENTS = ("development", "test", "production")
# A secret shorter than this is guessable by brute force on the session cookie.
MIN_SECRET_LENGTH = 32
# The proxies whose X-Forwarded-* headers are believed; config/gunicorn.conf.py reads the same.
FORWARDED_ALLOW_IPS = "127.0.0.1"


@dataclass(frozen=True)
class Settings:
    env: str = "production"
    secret_key: str = ""
    database_url: str = ""
    instance_path: Path = Path("instance")
    # Seals the service keys (the audit log key) at rest.
    key_secret: str = ""
    log_origin: str = "ocv.example/audit"
    languages: tuple[str, ...] = ("en", "fr", "ar")
    default_language: str = "en"
    login_max_failures: int = 10
    lockout_minutes: int = 15
    login_rate_limit: str = "20 per minute"
    # Empty: the counters live in the application's database (ocv.ratelimits), shared by workers.
    ratelimit_storage_url: str = ""
    self_check_rate_limit: str = "10 per minute"
    # Per registration number, from any address: a date of birth cannot be guessed in time.
    self_check_number_limit: str = "10 per hour;30 per day"
    forwarded_allow_ips: tuple[str, ...] = (FORWARDED_ALLOW_IPS,)
    # Argon2id cost; tests lower it, production keeps the library's defaults.
    argon2_time_cost: int = 3
    argon2_memory_cost: int = 65536
    session_minutes: int = 60
    secure_cookies: bool = True
    json_logs: bool = False
    # Imports from the web page run in a thread of their own (ocv.jobs, registration.imports.jobs); tests
    # that share one connection between the test and the app run them inline instead.
    background_imports: bool = True
    # Who integrates the audit log's pending entries: "inline", each request or command just
    # after it commits (when no other sequencer is at work); "process", only a dedicated
    # `ocv audit sequencer` (production with several workers).
    audit_sequencer: str = "inline"
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def is_development(self) -> bool:
        return self.env in ("development", "test")

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.instance_path / 'ocv.sqlite').resolve()}"

    def validate(self) -> Settings:
        if self.env not in ENVIRONMENTS:
            raise ConfigurationError(f"OCV_ENV must be one of {', '.join(ENVIRONMENTS)}")
        if not self.is_development:
            if len(self.secret_key) < MIN_SECRET_LENGTH:
                raise ConfigurationError(
                    f"OCV_SECRET_KEY must be set to at least {MIN_SECRET_LENGTH} random characters"
                )
            if len(self.key_secret) < MIN_SECRET_LENGTH:
                raise ConfigurationError(
                    f"OCV_KEY_SECRET must be set to at least {MIN_SECRET_LENGTH} random characters"
                )
        if self.default_language not in self.languages:
            raise ConfigurationError("OCV_DEFAULT_LANGUAGE must be one of OCV_LANGUAGES")
        if self.audit_sequencer not in ("inline", "process"):
            raise ConfigurationError("OCV_AUDIT_SEQUENCER must be inline or process")
        return self

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes).validate()  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        kind = env.get("OCV_ENV", "production")
        dev = kind in ("development", "test")
        settings = cls(
            env=kind,
            # Development gets fixed, clearly-labelled secrets; production has no default.
            secret_key=env.get("OCV_SECRET_KEY", "development-only-secret-key-not-for-use" if dev else ""),
            key_secret=env.get("OCV_KEY_SECRET", "development-only-key-secret-not-for-use" if dev else ""),
            database_url=env.get("OCV_DATABASE_URL", ""),
            instance_path=Path(env.get("OCV_INSTANCE_PATH", "instance")).resolve(),
            log_origin=env.get("OCV_LOG_ORIGIN", cls.log_origin),
            languages=tuple(env.get("OCV_LANGUAGES", "en,fr,ar").split(",")),
            default_language=env.get("OCV_DEFAULT_LANGUAGE", "en"),
            login_max_failures=_int(env, "OCV_LOGIN_MAX_FAILURES", cls.login_max_failures),
            lockout_minutes=_int(env, "OCV_LOCKOUT_MINUTES", cls.lockout_minutes),
            login_rate_limit=env.get("OCV_LOGIN_RATE_LIMIT", cls.login_rate_limit),
            ratelimit_storage_url=env.get("OCV_RATELIMIT_STORAGE_URL", cls.ratelimit_storage_url),
            self_check_rate_limit=env.get("OCV_SELF_CHECK_RATE_LIMIT", cls.self_check_rate_limit),
            self_check_number_limit=env.get("OCV_SELF_CHECK_NUMBER_LIMIT", cls.self_check_number_limit),
            forwarded_allow_ips=_list(env.get("OCV_FORWARDED_ALLOW_IPS", FORWARDED_ALLOW_IPS)),
            session_minutes=_int(env, "OCV_SESSION_MINUTES", cls.session_minutes),
            # Plain-HTTP development on 127.0.0.1 cannot use Secure cookies.
            secure_cookies=env.get("OCV_SECURE_COOKIES", "0" if dev else "1") == "1",
            json_logs=env.get("OCV_JSON_LOGS", "0" if dev else "1") == "1",
            background_imports=env.get("OCV_BACKGROUND_IMPORTS", "1") == "1",
            audit_sequencer=env.get("OCV_AUDIT_SEQUENCER", cls.audit_sequencer),
        )
        return settings.validate()


def _list(raw: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in raw.split(",") if item.strip())


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigurationError(f"{name} must be an integer, got {raw!r}") from None
