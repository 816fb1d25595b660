"""The Alembic migrations build exactly the schema the adapters use, and can be undone."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, insert, inspect, select

from benchmarks.databases import own_database
from ecm_comms.adapters.sql import tables
from ecm_comms.adapters.sql.engine import make_engine
from ecm_comms.adapters.sql.schema import downgrade, upgrade
from ecm_comms.adapters.sql.tables import metadata

AT = datetime(2024, 11, 27, 10, 0, tzinfo=UTC)
ADDED_BY_0002 = {"status_callbacks", "opt_outs"}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a database with no schema at all, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'empty.sqlite3'}")
        yield engine
        engine.dispose()
        return
    server: Engine = request.getfixturevalue("postgres_server")
    with own_database(server, "ecm_comms_migrations") as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


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
        for table in (
            "users",
            "text_messages",
            "voice_calls",
            "activities",
            "events",
            "status_callbacks",
        )
        for constraint in inspector.get_unique_constraints(table)
    }
    opt_out_key = inspector.get_pk_constraint("opt_outs")["constrained_columns"]
    engine.dispose()

    assert ("patient_phones", ("phone",)) in indexed
    assert ("text_messages", ("patient_id", "created_at")) in indexed
    assert ("voice_calls", ("patient_id", "created_at")) in indexed
    assert ("users", ("token_digest",)) in unique
    assert ("text_messages", ("twilio_sid",)) in unique
    assert ("voice_calls", ("twilio_sid",)) in unique
    assert ("events", ("activity_id",)) in unique
    assert ("status_callbacks", ("channel", "twilio_sid", "status")) in unique
    assert opt_out_key == ["phone"]


def test_migrations_run_down_to_nothing_and_up_again(empty_database: Engine) -> None:
    upgrade(empty_database)
    downgrade(empty_database, "base")
    assert set(inspect(empty_database).get_table_names()) == {"alembic_version"}

    upgrade(empty_database)
    assert set(inspect(empty_database).get_table_names()) == {
        "alembic_version",
        *metadata.tables,
    }


def test_upgrading_from_0001_keeps_the_records_with_no_sender(empty_database: Engine) -> None:
    upgrade(empty_database, "0001")
    common = {
        "clinic_id": 1,
        "patient_id": 123,
        "direction": "outbound",
        "to_number": "+18051234567",
        "from_number": "+18059876543",
        "status": "delivered",
        "created_at": AT,
        "updated_at": AT,
    }
    with empty_database.begin() as connection:
        connection.execute(
            insert(tables.text_messages).values(
                common | {"body": "Hello", "twilio_sid": "SM" + "a" * 32}
            )
        )
        connection.execute(
            insert(tables.voice_calls).values(
                common
                | {"status": "completed", "twilio_sid": "CA" + "a" * 32, "duration_seconds": 42}
            )
        )

    upgrade(empty_database)

    with empty_database.connect() as connection:
        sms = connection.execute(select(tables.text_messages)).mappings().one()
        call = connection.execute(select(tables.voice_calls)).mappings().one()
    assert dict(sms) == common | {
        "id": 1,
        "body": "Hello",
        "twilio_sid": "SM" + "a" * 32,
        "sent_by_id": None,
        "error_code": None,
        "error_message": None,
    }
    assert dict(call) == common | {
        "id": 1,
        "status": "completed",
        "twilio_sid": "CA" + "a" * 32,
        "sent_by_id": None,
        "duration_seconds": 42,
        "error_code": None,
        "error_message": None,
    }


def test_after_0002_an_unmatched_inbound_sms_from_a_non_phone_sender_can_be_stored(
    empty_database: Engine,
) -> None:
    upgrade(empty_database)
    sender = "client:front-desk-browser-softphone"  # longer than 0001's 20 characters

    with empty_database.begin() as connection:
        connection.execute(
            insert(tables.text_messages).values(
                clinic_id=None,
                patient_id=None,
                direction="inbound",
                to_number="+18059876543",
                from_number=sender,
                body="Hi",
                status="received",
                twilio_sid="SM" + "b" * 32,
                created_at=AT,
                updated_at=AT,
            )
        )

    with empty_database.connect() as connection:
        stored = connection.execute(
            select(tables.text_messages.c.clinic_id, tables.text_messages.c.from_number)
        ).one()
    assert tuple(stored) == (None, sender)


def test_downgrading_to_0001_removes_what_0002_added(empty_database: Engine) -> None:
    upgrade(empty_database)

    downgrade(empty_database, "0001")

    inspector = inspect(empty_database)
    columns = {
        table: {column["name"]: column for column in inspector.get_columns(table)}
        for table in ("text_messages", "voice_calls")
    }
    assert ADDED_BY_0002 & set(inspector.get_table_names()) == set()
    assert [
        ("sent_by_id" in columns[table], columns[table]["clinic_id"]["nullable"])
        for table in ("text_messages", "voice_calls")
    ] == [(False, False), (False, False)]
