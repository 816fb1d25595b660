"""The Alembic migrations build exactly the schema the adapters use, and can be undone."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask.testing import FlaskClient
from sqlalchemy import Engine, column, func, insert, inspect, select, table
from werkzeug.test import TestResponse

from benchmarks.databases import own_database
from benchmarks.twilio_standin import RunningStandIn, TwilioStandIn
from ecm_comms.adapters.sql import tables
from ecm_comms.adapters.sql.engine import make_engine
from ecm_comms.adapters.sql.schema import downgrade, upgrade
from ecm_comms.adapters.sql.tables import metadata
from ecm_comms.adapters.sql.types import UtcDateTime
from ecm_comms.container import create_container
from ecm_comms.domain.commands import RegisterUser
from ecm_comms.entrypoints.http import create_app
from tests.integration.records import sms_url

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
        for table in (
            "patient_phones",
            "text_messages",
            "voice_calls",
            "activities",
            "events",
            "clinic_numbers",
            "consent_entries",
            "automated_sms",
        )
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
    clinic_number_key = inspector.get_pk_constraint("clinic_numbers")["constrained_columns"]
    engine.dispose()

    assert ("patient_phones", ("phone",)) in indexed
    assert ("text_messages", ("patient_id", "created_at")) in indexed
    assert ("voice_calls", ("patient_id", "created_at")) in indexed
    assert ("users", ("token_digest",)) in unique
    assert ("text_messages", ("twilio_sid",)) in unique
    assert ("voice_calls", ("twilio_sid",)) in unique
    assert ("events", ("activity_id",)) in unique
    assert ("status_callbacks", ("channel", "twilio_sid", "status")) in unique
    # A send looks up its recipient's latest consent entry with its clinic.
    assert ("consent_entries", ("phone", "clinic_id", "id")) in indexed
    # An inbound SMS or call looks up the clinic holding the number it was sent to.
    assert clinic_number_key == ["number"]
    assert ("clinic_numbers", ("clinic_id",)) in indexed
    # The sweep takes scheduled automated SMS that are due; a campaign lists its recipients in
    # order; a patient's frequency caps count their hand-overs since a day.
    assert ("automated_sms", ("outcome", "due_at")) in indexed
    assert ("automated_sms", ("campaign_id", "id")) in indexed
    assert ("automated_sms", ("patient_id", "handed_at")) in indexed


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
        "send_at": None,
        "skip_reason": None,
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


# --- 0004: clinics, and SMS consent as a ledger in place of opt_outs ------------------------------

ADDED_BY_0004 = {"clinics", "clinic_numbers", "consent_entries"}
REMOVED_BY_0004 = {"opt_outs"}
# The opt-outs as 0002 made them and 0004 carries over into the ledger.
OPT_OUTS = table("opt_outs", column("phone"), column("opted_out_at", UtcDateTime()))

TWILIO_FROM_NUMBER = "+18059876543"  # the one number a deployment before 0004 texts from
REFUSED_BY_CARRIER = "+18051234567"  # patient 123's: a send to it failed with Twilio's 21610
TEXTED_STOP = "+18052223333"  # texted STOP to the clinic
NO_SMS_ON_RECORD = "+18054445555"  # opted out, with no SMS on record saying how
OTHER_NUMBER = "+18055550199"
OPTED_OUT = ["Failed to send SMS: The recipient has opted out of SMS (replied STOP)"]


@dataclass(frozen=True)
class BeforeClinics:
    """The SMS on record, by id, in a single-number deployment at 0003."""

    refused_sms_id: int
    stop_sms_id: int


def a_single_number_deployment_at_0003(engine: Engine) -> BeforeClinics:
    """Patient 123 of clinic 1; a send to them Twilio refused with 21610; a STOP from another
    number; and the opt-outs of both, and of a third number no SMS on record explains."""
    upgrade(engine, "0003")
    sms = tables.text_messages
    with engine.begin() as connection:
        connection.execute(
            insert(tables.patients).values(
                id=123, clinic_id=1, name="Pat Example", coordinator_id=101, updated_at=AT
            )
        )
        connection.execute(
            insert(tables.patient_phones).values(
                patient_id=123, phone=REFUSED_BY_CARRIER, position=0
            )
        )
        refused = connection.execute(
            insert(sms).values(
                clinic_id=1,
                patient_id=123,
                direction="outbound",
                to_number=REFUSED_BY_CARRIER,
                from_number=TWILIO_FROM_NUMBER,
                body="Reminder: your appointment is Tuesday at 10am.",
                status="failed",
                twilio_sid=None,
                sent_by_id=101,
                error_code=21610,
                error_message="Attempt to send to unsubscribed recipient",
                created_at=AT,
                updated_at=AT,
            )
        )
        stop = connection.execute(
            insert(sms).values(
                clinic_id=None,
                patient_id=None,
                direction="inbound",
                to_number=TWILIO_FROM_NUMBER,
                from_number=TEXTED_STOP,
                body=" stop\n",  # trimmed and in any case, as the service reads keywords
                status="received",
                twilio_sid="SM" + "c" * 32,
                created_at=AT + timedelta(hours=1),
                updated_at=AT + timedelta(hours=1),
            )
        )
        connection.execute(
            insert(OPT_OUTS),
            [
                {"phone": REFUSED_BY_CARRIER, "opted_out_at": AT},
                {"phone": TEXTED_STOP, "opted_out_at": AT + timedelta(hours=1)},
                {"phone": NO_SMS_ON_RECORD, "opted_out_at": AT + timedelta(hours=2)},
            ],
        )
    [refused_id] = refused.inserted_primary_key
    [stop_id] = stop.inserted_primary_key
    return BeforeClinics(refused_id, stop_id)


def opt_outs(engine: Engine) -> list[tuple[str, datetime]]:
    with engine.connect() as connection:
        found = connection.execute(select(OPT_OUTS.c.phone, OPT_OUTS.c.opted_out_at))
        return sorted((phone, at) for phone, at in found)


def test_0004_adds_clinics_and_the_consent_ledger_and_removes_opt_outs(
    empty_database: Engine,
) -> None:
    upgrade(empty_database, "0003")
    before = set(inspect(empty_database).get_table_names())

    upgrade(empty_database, "0004")

    after = set(inspect(empty_database).get_table_names())
    assert (after - before, before - after) == (ADDED_BY_0004, REMOVED_BY_0004)


def test_upgrading_from_0003_keeps_each_opt_out_in_the_shared_numbers_consent_ledger(
    empty_database: Engine,
) -> None:
    before = a_single_number_deployment_at_0003(empty_database)

    upgrade(empty_database)

    c = tables.consent_entries
    with empty_database.connect() as connection:
        entries = connection.execute(select(c).order_by(c.c.phone)).mappings().all()
    assert [{k: v for k, v in entry.items() if k != "id"} for entry in entries] == [
        {
            "phone": REFUSED_BY_CARRIER,
            "clinic_id": None,
            "action": "opt_out",
            "source": "carrier_21610",
            "sms_id": before.refused_sms_id,
            "user_id": None,
            "note": None,
            "recorded_for_clinic_id": 1,
            "at": AT,
        },
        {
            "phone": TEXTED_STOP,
            "clinic_id": None,
            "action": "opt_out",
            "source": "keyword",
            "sms_id": before.stop_sms_id,
            "user_id": None,
            "note": None,
            "recorded_for_clinic_id": None,
            "at": AT + timedelta(hours=1),
        },
        {
            "phone": NO_SMS_ON_RECORD,
            "clinic_id": None,
            "action": "opt_out",
            "source": "keyword",
            "sms_id": None,
            "user_id": None,
            "note": None,
            "recorded_for_clinic_id": None,
            "at": AT + timedelta(hours=2),
        },
    ]


@pytest.fixture
def twilio() -> Iterator[TwilioStandIn]:
    with RunningStandIn() as standin:
        yield standin


@contextmanager
def serving(engine: Engine, twilio: TwilioStandIn) -> Iterator[tuple[FlaskClient, str]]:
    """The service on ``engine``'s database as a single-number deployment configures it (no
    clinic records, TWILIO_FROM_NUMBER), talking to ``twilio``; a client, and Dana's token."""
    container = create_container(
        environ={
            "ECM_DATABASE_URL": engine.url.render_as_string(hide_password=False),
            "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
            "TWILIO_AUTH_TOKEN": "test-auth-token",
            "TWILIO_FROM_NUMBER": TWILIO_FROM_NUMBER,
            "TWILIO_API_BASE_URL": twilio.base_url,
        }
    )
    token = container.register_user()(RegisterUser(101, 1, "Dana Coordinator")).token.value
    try:
        yield create_app(container).test_client(), token
    finally:
        container.engine().dispose()


def send_sms(client: FlaskClient, token: str, phone_number: str) -> TestResponse:
    return client.post(
        sms_url(123),
        json={"sms": {"phone_number": phone_number, "body": "Hello"}},
        headers={"X-User-Token": token},
    )


def text_message_count(engine: Engine) -> int:
    with engine.connect() as connection:
        counted = select(func.count()).select_from(tables.text_messages)
        return int(connection.execute(counted).scalar_one())


def test_after_upgrading_from_0003_a_number_opted_out_before_is_not_texted(
    empty_database: Engine, twilio: TwilioStandIn
) -> None:
    a_single_number_deployment_at_0003(empty_database)
    upgrade(empty_database)

    with serving(empty_database, twilio) as (client, token):
        response = send_sms(client, token, REFUSED_BY_CARRIER)

    assert (response.status_code, response.get_json()) == (422, {"errors": OPTED_OUT})
    assert twilio.requests == []
    assert text_message_count(empty_database) == 2  # the two from before the upgrade


def test_after_upgrading_from_0003_sms_go_from_the_twilio_from_number(
    empty_database: Engine, twilio: TwilioStandIn
) -> None:
    a_single_number_deployment_at_0003(empty_database)
    upgrade(empty_database)

    with serving(empty_database, twilio) as (client, token):
        response = send_sms(client, token, OTHER_NUMBER)

    assert response.status_code == 201, response.get_json()
    [request] = twilio.requests
    assert (request.field("To"), request.field("From")) == (OTHER_NUMBER, TWILIO_FROM_NUMBER)
    assert request.fields("MessagingServiceSid") == []
    assert response.get_json()["sms"]["from"] == TWILIO_FROM_NUMBER


def test_downgrading_to_0003_removes_what_0004_added_and_brings_back_opt_outs(
    empty_database: Engine,
) -> None:
    upgrade(empty_database)

    downgrade(empty_database, "0003")

    names = set(inspect(empty_database).get_table_names())
    assert (ADDED_BY_0004 & names, REMOVED_BY_0004 - names) == (set(), set())


def consent(
    phone: str, clinic_id: int | None, action: str, source: str, at: datetime
) -> dict[str, object]:
    return {
        "phone": phone,
        "clinic_id": clinic_id,
        "action": action,
        "source": source,
        "sms_id": None,
        "user_id": None,
        "note": None,
        "at": at,
    }


def test_downgrading_to_0003_keeps_the_shared_numbers_standing_opt_outs(
    empty_database: Engine,
) -> None:
    upgrade(empty_database)
    shared, clinic = None, 7
    with empty_database.begin() as connection:
        connection.execute(
            insert(tables.consent_entries),
            [
                consent(REFUSED_BY_CARRIER, shared, "opt_out", "carrier_21610", AT),
                consent(TEXTED_STOP, shared, "opt_out", "keyword", AT),
                consent(TEXTED_STOP, shared, "opt_in", "keyword", AT + timedelta(hours=1)),
                consent(NO_SMS_ON_RECORD, clinic, "opt_out", "keyword", AT),
            ],
        )

    downgrade(empty_database, "0003")

    # Before 0004 every SMS went from the shared number: its opt-outs are the ones that bind.
    assert opt_outs(empty_database) == [(REFUSED_BY_CARRIER, AT)]


def test_upgrading_from_0003_and_back_keeps_the_opt_outs(empty_database: Engine) -> None:
    a_single_number_deployment_at_0003(empty_database)
    before = opt_outs(empty_database)

    upgrade(empty_database)
    downgrade(empty_database, "0003")

    assert opt_outs(empty_database) == before
