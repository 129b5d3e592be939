"""Fixtures: one migrated database per run (SQLite, or PostgreSQL when
OCV_TEST_DATABASE_URL is set), and every test inside a savepoint rolled back at its end."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Connection, Engine, make_url, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from audit import keys as audit_keys
from ocv import migrate
from ocv.app import create_app
from ocv.auth import service as accounts
from ocv.auth.models import User
from ocv.db import database, make_engine
from ocv.security import limiter
from ocv.settings import Settings
from tests.factories import OPERATOR
from tests.scratch import drop_database, fresh_database

PASSWORD = "correct horse battery staple"


def make_settings(instance: Path, database_url: str, **overrides: object) -> Settings:
    base = Settings(
        env="test",
        secret_key="test-secret-key-" + "x" * 32,
        key_secret="test-key-secret-" + "y" * 32,
        database_url=database_url,
        instance_path=instance,
        log_origin="test.ocv.example/audit",
        # Cheap hashing keeps the suite fast; production keeps Argon2id's defaults.
        argon2_time_cost=1,
        argon2_memory_cost=1024,
        login_rate_limit="1000 per minute",
        # Counters in memory: the test's transaction holds SQLite's write lock throughout.
        ratelimit_storage_url="memory://",
        secure_cookies=False,
        background_imports=False,  # the test and the app share one connection
    )
    return base.with_overrides(**overrides) if overrides else base.validate()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = os.environ.get("OCV_TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as error:
        # A configured database that cannot be reached fails the run: never a silent skip.
        pytest.exit(f"test database {database_url} unreachable: {error}", returncode=3)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def base_settings(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Settings:
    return make_settings(tmp_path_factory.mktemp("instance"), database_url)


@pytest.fixture(scope="session")
def migrated(engine: Engine, base_settings: Settings) -> Engine:
    """The schema built by the migrations, with the audit log created, committed once."""
    migrate.upgrade(engine)
    app = create_app(base_settings)  # registers the event types the log checks
    with database(app).transaction() as session:
        audit_keys.create_log(session, base_settings)
    database(app).engine.dispose()
    return engine


@pytest.fixture
def own_database(database_url: str, base_settings: Settings, tmp_path: Path) -> Iterator[Engine]:
    """A fresh database, migrated, with its audit log, for a test whose transactions must commit
    for real (concurrency tests): what it commits never reaches the other tests."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        own_url = f"sqlite:///{tmp_path / 'own.sqlite'}"
    else:
        own_url = fresh_database(database_url, f"{url.database}_own_{os.getpid()}")
    settings = base_settings.with_overrides(database_url=own_url)
    app = create_app(settings)
    own = database(app).engine
    migrate.upgrade(own)
    with database(app).transaction() as session:
        audit_keys.create_log(session, settings)
    yield own
    own.dispose()
    drop_database(own_url)


@pytest.fixture
def connection(migrated: Engine) -> Iterator[Connection]:
    with migrated.connect() as connection:
        transaction = connection.begin()
        yield connection
        transaction.rollback()


@pytest.fixture
def settings(base_settings: Settings) -> Settings:
    return base_settings


class ClosingClient(FlaskClient):
    """Closes every response once read, as a WSGI server does after sending it: what runs
    then (the audit sequencer's integration after a commit) runs before the test goes on."""

    def open(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("buffered", True)
        return super().open(*args, **kwargs)


@pytest.fixture
def app(settings: Settings, connection: Connection) -> Flask:
    app = create_app(settings)
    app.test_client_class = ClosingClient
    with app.app_context():
        limiter.reset()  # counters are per process: each test starts from none
    db = database(app)
    db.engine.dispose()
    # Requests commit a savepoint inside the test's transaction, which is rolled back.
    db.sessionmaker = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """Replaces pytest-flask's, which keeps the last request's context pushed (`with
    client:`), so that the next request, even another client's, would share its `g`."""
    return app.test_client()


@pytest.fixture(autouse=True)
def _push_request_context() -> None:
    """Replace pytest-flask's: a context held open across a test would share `g` between
    the test client's requests, which production never does (each request has its own)."""


@pytest.fixture
def db_session(app: Flask) -> Iterator[Session]:
    with database(app).sessionmaker() as session:
        yield session


@pytest.fixture
def make_user(db_session: Session, settings: Settings):  # type: ignore[no-untyped-def]
    def make(
        username: str, role: str = "admin", station: str | None = None, must_change_password: bool = False
    ) -> User:
        user = accounts.create_user(
            db_session,
            settings,
            OPERATOR,
            username=username,
            role=role,
            password=PASSWORD,
            station_code=station,
        )
        user.must_change_password = must_change_password
        db_session.commit()
        return user

    return make


CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token(client: FlaskClient, path: str) -> str:
    page = client.get(path)
    match = CSRF_RE.search(page.get_data(as_text=True))
    assert match, f"no CSRF token on {path} (status {page.status_code})"
    return match.group(1) or match.group(2)


def login(client: FlaskClient, username: str, password: str = PASSWORD):  # type: ignore[no-untyped-def]
    token = csrf_token(client, "/login")
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token})
