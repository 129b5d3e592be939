"""Alembic environment: runs on the connection `ocv.migrate` hands it."""

from __future__ import annotations

from alembic import context

import audit.models
import ocv.auth.models
import ocv.ratelimits
import registration.models
import tally.models
from ocv.db import Base

# Importing each package's models registers its tables on Base.metadata.
assert audit.models
assert ocv.auth.models
assert registration.models
assert tally.models

target_metadata = Base.metadata
connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=target_metadata,
    # SQLite alters tables by copying them; batch mode does that for us.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
