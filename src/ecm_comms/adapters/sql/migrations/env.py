"""Alembic environment: the engine comes from the caller (``ecm-comms db upgrade``, the tests),
or from ``ECM_DATABASE_URL`` when a developer runs ``alembic`` by hand from the repository root."""

import os

from alembic import context

from ecm_comms.adapters.sql.engine import make_engine
from ecm_comms.adapters.sql.tables import metadata

engine = context.config.attributes.get("engine")
if engine is None:
    engine = make_engine(os.environ.get("ECM_DATABASE_URL", "sqlite:///ecm_comms.sqlite3"))

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
