"""The migrations build exactly the models' schema, and every revision downgrades."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, make_url

import audit.models  # noqa: F401  (all tables on the metadata)
import ocv.auth.models  # noqa: F401
import ocv.ratelimits  # noqa: F401
from ocv import migrate
from ocv.db import Base, make_engine
from tests.scratch import drop_database, fresh_database


def _diff(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


def _scratch_engine(database_url: str, tmp_path) -> Engine:  # type: ignore[no-untyped-def]
    """An empty database of the same kind as the suite's."""
    if database_url.startswith("sqlite"):
        return make_engine(f"sqlite:///{tmp_path / 'scratch.sqlite'}")
    # Beside the suite's own, so parallel runs never meet.
    return make_engine(fresh_database(database_url, f"{make_url(database_url).database}_migrations"))


def test_upgrade_head_matches_the_models_and_every_revision_downgrades(database_url: str, tmp_path) -> None:
    engine = _scratch_engine(database_url, tmp_path)
    try:
        migrate.upgrade(engine)
        assert _diff(engine) == []
        script = ScriptDirectory.from_config(migrate.alembic_config(engine))
        revisions = [r.revision for r in script.walk_revisions()]  # newest first
        for revision in revisions:
            down = script.get_revision(revision).down_revision
            migrate.downgrade(engine, str(down) if down else "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        migrate.upgrade(engine)
        assert _diff(engine) == []
    finally:
        engine.dispose()
        drop_database(engine.url.render_as_string(hide_password=False))
