"""Readiness read from the database: it answers, and its schema is at this code's newest
migration (or newer, while a rolling deploy replaces this process). A probe writes no log line."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from ecm_comms.adapters.sql.engine import make_engine
from ecm_comms.adapters.sql.readiness import SqlReadiness
from ecm_comms.adapters.sql.schema import alembic_config
from ecm_comms.ports.readiness import DatabaseCheck, MigrationsCheck, Readiness

SetRevision = Callable[[str], None]


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    built = make_engine(database_url)
    yield built
    built.dispose()


@pytest.fixture
def set_revision(engine: Engine) -> Iterator[SetRevision]:
    """Rewrites the revision the database says it is at; puts the newest back afterwards (the
    PostgreSQL database is the session's)."""

    def set_to(revision: str) -> None:
        with engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})

    yield set_to
    set_to(head_revision(engine))


def head_revision(engine: Engine) -> str:
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    assert head is not None
    return head


@pytest.mark.both_databases
def test_a_database_at_the_newest_migration_is_ready(engine: Engine) -> None:
    assert SqlReadiness(engine).check() == Readiness(DatabaseCheck.OK, MigrationsCheck.OK)


@pytest.mark.both_databases
def test_a_database_at_an_older_migration_is_not_ready(
    engine: Engine, set_revision: SetRevision
) -> None:
    scripts = ScriptDirectory.from_config(alembic_config(engine))
    older = scripts.get_revision(head_revision(engine)).down_revision
    assert isinstance(older, str)
    set_revision(older)

    readiness = SqlReadiness(engine).check()

    assert readiness == Readiness(DatabaseCheck.OK, MigrationsCheck.BEHIND)
    assert not readiness.ready


@pytest.mark.both_databases
def test_a_database_migrated_by_newer_code_is_still_ready(
    engine: Engine, set_revision: SetRevision
) -> None:
    set_revision("f00dfeedbeef")  # a revision this code does not know

    readiness = SqlReadiness(engine).check()

    assert readiness == Readiness(DatabaseCheck.OK, MigrationsCheck.AHEAD)
    assert readiness.ready


def test_a_database_never_migrated_is_not_ready(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")

    readiness = SqlReadiness(engine).check()
    engine.dispose()

    assert readiness == Readiness(DatabaseCheck.OK, MigrationsCheck.BEHIND)


def test_a_database_that_cannot_be_opened_is_unavailable(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'no such directory' / 'ecm.sqlite3'}")

    readiness = SqlReadiness(engine).check()
    engine.dispose()

    assert readiness == Readiness(DatabaseCheck.UNAVAILABLE, MigrationsCheck.UNKNOWN)


@pytest.mark.both_databases
def test_a_readiness_check_writes_no_log_line(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    readiness = SqlReadiness(engine)
    readiness.check()  # the migration scripts are read once, at the first check

    with caplog.at_level(logging.DEBUG):
        readiness.check()

    assert caplog.records == []
