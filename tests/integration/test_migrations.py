"""The Alembic migrations build exactly the schema the adapters use, and can be undone."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from ecm_comms.adapters.sql.engine import make_engine
from ecm_comms.adapters.sql.schema import downgrade, upgrade
from ecm_comms.adapters.sql.tables import metadata


def test_the_migrated_schema_matches_the_tables_the_adapters_use(database_url: str) -> None:
    engine = make_engine(database_url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    engine.dispose()

    assert differences == []


def test_every_lookup_has_an_index(database_url: str) -> None:
    engine = make_engine(database_url)
    inspector = inspect(engine)
    indexed = {
        (table, tuple(index["column_names"]))
        for table in ("patient_phones", "text_messages", "voice_calls", "activities", "events")
        for index in inspector.get_indexes(table)
    }
    unique = {
        (table, tuple(constraint["column_names"]))
        for table in ("users", "text_messages", "voice_calls", "activities", "events")
        for constraint in inspector.get_unique_constraints(table)
    }
    engine.dispose()

    assert ("patient_phones", ("phone",)) in indexed
    assert ("text_messages", ("patient_id", "created_at")) in indexed
    assert ("voice_calls", ("patient_id", "created_at")) in indexed
    assert ("users", ("token_digest",)) in unique
    assert ("text_messages", ("twilio_sid",)) in unique
    assert ("voice_calls", ("twilio_sid",)) in unique
    assert ("events", ("activity_id",)) in unique


def test_migrations_run_down_to_nothing_and_up_again(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'fresh.sqlite3'}")
    upgrade(engine)
    downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}

    upgrade(engine)
    assert "text_messages" in inspect(engine).get_table_names()
    engine.dispose()
