"""Readiness from the database itself: it answers, and its schema is at the newest migration."""

from __future__ import annotations

from functools import cached_property

from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

from ecm_comms.adapters.sql.engine import reading
from ecm_comms.adapters.sql.schema import alembic_config
from ecm_comms.domain.errors import StorageUnavailable
from ecm_comms.ports.readiness import DatabaseCheck, MigrationsCheck, Readiness


class SqlReadiness:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    @cached_property
    def _scripts(self) -> ScriptDirectory:
        # Read from the package's files once: they do not change under a running process.
        return ScriptDirectory.from_config(alembic_config(self._engine))

    @cached_property
    def _heads(self) -> frozenset[str]:
        return frozenset(self._scripts.get_heads())

    @cached_property
    def _known(self) -> frozenset[str]:
        return frozenset(script.revision for script in self._scripts.walk_revisions())

    def check(self) -> Readiness:
        try:
            with reading(self._engine) as connection:
                current = _current_revisions(connection)
        except StorageUnavailable:
            return Readiness(DatabaseCheck.UNAVAILABLE, MigrationsCheck.UNKNOWN)
        return Readiness(DatabaseCheck.OK, self._compare(current))

    def _compare(self, current: frozenset[str]) -> MigrationsCheck:
        if current == self._heads:
            return MigrationsCheck.OK
        return MigrationsCheck.BEHIND if current <= self._known else MigrationsCheck.AHEAD


def _current_revisions(connection: Connection) -> frozenset[str]:
    """The revisions the database is at, read as alembic reads them (none: never migrated), but
    without its ``MigrationContext``, which logs two lines each time: two lines a probe."""
    if not inspect(connection).has_table("alembic_version"):
        return frozenset()
    return frozenset(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
