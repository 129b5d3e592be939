"""Database: declarative base, reusable column types, engine and the per-request session.

The web layer owns the transaction: one session per request, committed before the
response is sent and rolled back on any error. Services receive the session and
never commit.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from flask import Flask, current_app, g
from sqlalchemy import DateTime, Engine, Enum, MetaData, TypeDecorator, create_engine, event
from sqlalchemy.orm import DeclarativeBase, Session, mapped_column, sessionmaker

from ocv import ids

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC in, timezone-aware UTC out, on every backend (SQLite drops zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where UTC is required")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def enum_type(kind: type[enum.StrEnum], length: int, *, check: str | None = None) -> Enum:
    """A column typed by a string enum: stored as the members' values in a VARCHAR(length),
    read back as members. With `check`, a CHECK constraint of that name admits exactly the
    enum's values (written from the enum, never by hand)."""
    return Enum(
        kind,
        values_callable=lambda members: [m.value for m in members],
        native_enum=False,
        length=length,
        create_constraint=check is not None,
        **({"name": check} if check else {}),
    )


uuid_pk = Annotated[uuid.UUID, mapped_column(primary_key=True, default=ids.uuid7)]
int_pk = Annotated[int, mapped_column(primary_key=True)]
utc_datetime = Annotated[dt.datetime, mapped_column(UTCDateTime())]


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {dt.datetime: UTCDateTime()}


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def make_engine(url: str) -> Engine:
    # Statement parameters hold names and dates of birth: never in an error's message, and
    # so never in a log or a traceback.
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
        _sqlite_transactions(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, hide_parameters=True)


def _sqlite_transactions(engine: Engine) -> None:
    """Let SQLAlchemy drive SQLite transactions, so savepoints and locks behave.

    pysqlite opens transactions lazily on its own; this hands BEGIN to SQLAlchemy
    (the documented recipe) and turns on foreign keys and WAL.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(connection: Any) -> None:
        # IMMEDIATE takes the write lock up front: a transaction that read first and
        # writes later could otherwise fail with "database is locked" under concurrency.
        # SQLite allows one writer at a time anyway; readers are not blocked (WAL).
        connection.exec_driver_sql("BEGIN IMMEDIATE")


class Database:
    """The engine and session factory of one app; tests rebind the factory to a connection."""

    def __init__(self, url: str) -> None:
        self.engine = make_engine(url)
        # A per-app memo for what cannot change once written (an election's definition after
        # setup), shared by every session of this factory as `session.info["memo"]`.
        self.memo: dict[Any, Any] = {}
        self.sessionmaker = sessionmaker(bind=self.engine, expire_on_commit=False, info={"memo": self.memo})
        # Called with (a session factory, the session's info) once a request's or a
        # command's transaction has committed: the audit sequencer integrates there. For a
        # request, after its response is sent, so the answer waits for the commit only.
        self.committed_hooks: list[Callable[[Callable[[], Session], dict[str, Any]], None]] = []

    def init_app(self, app: Flask) -> None:
        app.extensions["ocv.db"] = self
        app.after_request(_commit_request_session)
        app.teardown_request(_close_request_session)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction, for the CLI and background jobs."""
        with self.sessionmaker() as session:
            with session.begin():
                yield session
            self.committed(session)

    def committed(self, session: Session) -> None:
        """Run the committed hooks for `session`, whose transaction has just committed."""
        for hook in self.committed_hooks:
            hook(self.sessionmaker, session.info)


def database(app: Flask) -> Database:
    db: Database = app.extensions["ocv.db"]
    return db


def request_session() -> Session:
    """The current request's session, opened on first use."""
    if "db_session" not in g:
        g.db_session = database(current_app).sessionmaker()
    session: Session = g.db_session
    return session


def mark_for_rollback() -> None:
    """Make the current request change nothing (set by the error handlers)."""
    g.db_rollback = True


def _commit_request_session(response: Any) -> Any:
    # Commit before the response leaves, so nothing acknowledged can be lost;
    # a failed commit turns into an error response instead.
    session: Session | None = g.pop("db_session", None)
    rollback_requested = g.pop("db_rollback", False)
    if session is not None:
        try:
            if response.status_code < 500 and not rollback_requested:
                session.commit()
                db = database(current_app)
                if db.committed_hooks:
                    response.call_on_close(lambda: db.committed(session))
            else:
                session.rollback()
        finally:
            session.close()
    return response


def _close_request_session(_exc: BaseException | None) -> None:
    g.pop("db_rollback", None)
    session: Session | None = g.pop("db_session", None)
    if session is not None:
        session.rollback()
        session.close()
