"""PostgreSQL databases that a test or a benchmark makes for itself on the server of the one
it was given: created empty, dropped when done. SQLite needs none of this (a file in tmp)."""

from __future__ import annotations

from sqlalchemy import Engine, create_engine, make_url


def _admin(url: str) -> Engine:
    return create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")


def fresh_database(url: str, name: str) -> str:
    """Database `name`, dropped if it exists and created empty; its URL."""
    admin = _admin(url)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}"')
        connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def drop_database(url: str) -> None:
    """Drop the PostgreSQL database `url` names; nothing for SQLite."""
    target = make_url(url)
    if target.get_backend_name() != "postgresql":
        return
    admin = _admin(url)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{target.database}"')
    admin.dispose()


def ensure_database(url: str) -> None:
    """Create the PostgreSQL database `url` names, unless it exists."""
    name = make_url(url).database
    admin = _admin(url)
    with admin.connect() as connection:
        exists = connection.exec_driver_sql(
            "SELECT 1 FROM pg_database WHERE datname = %(n)s", {"n": name}
        ).first()
        if exists is None:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()
