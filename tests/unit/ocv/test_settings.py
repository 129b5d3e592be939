"""Settings come from OCV_* variables; production refuses weak or missing secrets."""

from __future__ import annotations

import pytest

from ocv.app import create_app
from ocv.errors import ConfigurationError
from ocv.settings import Settings

STRONG = "s" * 40


def test_production_refuses_a_missing_secret() -> None:
    with pytest.raises(ConfigurationError, match="OCV_SECRET_KEY"):
        Settings.from_env({"OCV_ENV": "production", "OCV_KEY_SECRET": STRONG})


def test_production_refuses_a_short_secret() -> None:
    with pytest.raises(ConfigurationError, match="OCV_SECRET_KEY"):
        Settings.from_env({"OCV_SECRET_KEY": "short", "OCV_KEY_SECRET": STRONG})


def test_production_refuses_a_missing_key_secret() -> None:
    with pytest.raises(ConfigurationError, match="OCV_KEY_SECRET"):
        Settings.from_env({"OCV_SECRET_KEY": STRONG})


def test_production_with_strong_secrets(tmp_path) -> None:
    settings = Settings.from_env(
        {
            "OCV_SECRET_KEY": STRONG,
            "OCV_KEY_SECRET": STRONG,
            "OCV_DATABASE_URL": "postgresql+psycopg://db/ocv",
            "OCV_INSTANCE_PATH": str(tmp_path),
        }
    )
    assert settings.env == "production"
    assert settings.secure_cookies is True
    assert settings.resolved_database_url == "postgresql+psycopg://db/ocv"


def test_development_defaults_to_sqlite_in_the_instance_folder(tmp_path) -> None:
    settings = Settings.from_env({"OCV_ENV": "development", "OCV_INSTANCE_PATH": str(tmp_path)})
    assert settings.resolved_database_url == f"sqlite:///{tmp_path / 'ocv.sqlite'}"


def test_settings_are_frozen() -> None:
    settings = Settings.from_env({"OCV_ENV": "development"})
    with pytest.raises(AttributeError):
        settings.secret_key = "x"  # type: ignore[misc]


def test_bad_values_are_named() -> None:
    with pytest.raises(ConfigurationError, match="OCV_LOGIN_MAX_FAILURES"):
        Settings.from_env({"OCV_ENV": "development", "OCV_LOGIN_MAX_FAILURES": "ten"})
    with pytest.raises(ConfigurationError, match="OCV_ENV"):
        Settings.from_env({"OCV_ENV": "staging"})


def test_app_refuses_to_start_without_a_secret(monkeypatch) -> None:
    monkeypatch.setenv("OCV_ENV", "production")
    monkeypatch.delenv("OCV_SECRET_KEY", raising=False)
    with pytest.raises(ConfigurationError):
        create_app()
