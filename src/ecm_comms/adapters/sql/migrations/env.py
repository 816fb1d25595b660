"""Alembic environment: the engine comes from the caller (``ecm-comms db upgrade``, the tests),
or from the service's settings when a developer runs ``alembic`` by hand."""

from alembic import context

from ecm_comms.adapters.sql.engine import make_engine
from ecm_comms.adapters.sql.tables import metadata
from ecm_comms.settings import settings_from_environ

engine = context.config.attributes.get("engine")
if engine is None:
    engine = make_engine(settings_from_environ().database_url)

with engine.connect() as connection:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()
