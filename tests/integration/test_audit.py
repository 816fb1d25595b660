"""``ecm-comms audit`` on both databases: silent and 0 on a healthy record; each row broken in
the database by hand (as a bad migration or a hand edit would) found, named by its ids alone,
and exit 1."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import Connection, create_engine, text

from ecm_comms.adapters.memory import FakeGateway
from ecm_comms.container import Container
from ecm_comms.domain.commands import (
    InitiateCall,
    RecordInboundCall,
    RecordInboundSms,
    RegisterUser,
    SendSms,
    UpsertPatient,
)
from ecm_comms.domain.errors import CommunicationFailed, GatewayError
from ecm_comms.entrypoints.cli.main import cli
from tests.conftest import Staff
from tests.support.webhooks import CLINIC_NUMBER, new_sid

pytestmark = pytest.mark.both_databases

PAT_PHONE = "+18051234567"
THEIR_PHONE = "+18055550223"
STRANGER = "+18055550999"
BODY = "Your appointment is Tuesday at 3pm"
REPLY = "Yes, thank you"


@dataclass(frozen=True)
class Ids:
    sms: int
    sms_activity: int
    call: int
    call_activity: int
    their_sms: int


@pytest.fixture
def record(container: Container, coordinator: Staff, gateway: FakeGateway) -> Ids:
    """Clinic 1: an SMS, a call, a reply, an inbound call, a refused SMS and a text from a
    stranger; clinic 2: an SMS. Five accepted and matched."""
    sam = container.register_user()(RegisterUser(201, 2, "Sam Otherclinic")).user
    container.upsert_patient()(UpsertPatient(123, 1, (PAT_PHONE,), coordinator_id=101))
    container.upsert_patient()(UpsertPatient(223, 2, (THEIR_PHONE,), coordinator_id=201))
    dana = coordinator.user
    sent = container.send_sms()(SendSms(123, PAT_PHONE, BODY, dana))
    call = container.initiate_call()(InitiateCall(123, PAT_PHONE, dana))
    container.record_inbound_sms()(RecordInboundSms(new_sid("SM"), PAT_PHONE, CLINIC_NUMBER, REPLY))
    container.record_inbound_call()(
        RecordInboundCall(new_sid("CA"), PAT_PHONE, CLINIC_NUMBER, "ringing")
    )
    gateway.fail_next(GatewayError("The 'To' number is not valid", code=21211))
    with pytest.raises(CommunicationFailed):
        container.send_sms()(SendSms(123, PAT_PHONE, BODY, dana))
    container.record_inbound_sms()(RecordInboundSms(new_sid("SM"), STRANGER, CLINIC_NUMBER, REPLY))
    theirs = container.send_sms()(SendSms(223, THEIR_PHONE, BODY, sam))
    assert sent.message.id is not None
    assert sent.activity.id is not None
    assert call.call.id is not None
    assert call.activity.id is not None
    assert theirs.message.id is not None
    return Ids(sent.message.id, sent.activity.id, call.call.id, call.activity.id, theirs.message.id)


def audit(database_url: str, *args: str) -> Result:
    return CliRunner().invoke(cli, ["audit", *args], env={"ECM_DATABASE_URL": database_url})


@contextmanager
def by_hand(database_url: str) -> Iterator[Connection]:
    """A connection that edits the database as someone outside the service would, foreign keys
    unenforced (SQLite leaves them off unless asked; PostgreSQL skips its checks as a replica)."""
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.execute(text("SET LOCAL session_replication_role = replica"))
            yield connection
    finally:
        engine.dispose()


def test_a_healthy_record_passes(database_url: str, record: Ids) -> None:
    result = audit(database_url)

    assert result.exit_code == 0, result.output
    assert result.output == "checked 5 communications: 0 problems\n"


def test_an_event_deleted_is_found_by_its_activity(database_url: str, record: Ids) -> None:
    with by_hand(database_url) as connection:
        connection.execute(
            text("DELETE FROM events WHERE activity_id = :id"), {"id": record.sms_activity}
        )

    result = audit(database_url)

    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "checked 5 communications: 1 problems",
        f"activity {record.sms_activity} (sms {record.sms}): has 0 events (expected 1)",
    ]


def test_an_activity_without_its_communication(database_url: str, record: Ids) -> None:
    with by_hand(database_url) as connection:
        connection.execute(
            text("UPDATE activities SET voice_call_id = NULL WHERE id = :id"),
            {"id": record.call_activity},
        )

    result = audit(database_url)

    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "checked 5 communications: 2 problems",
        f"call {record.call}: accepted, has 0 activities (expected 1)",
        f"activity {record.call_activity}: names no call",
    ]


def test_an_activity_whose_communication_is_gone(database_url: str, record: Ids) -> None:
    with by_hand(database_url) as connection:
        connection.execute(text("DELETE FROM voice_calls WHERE id = :id"), {"id": record.call})

    result = audit(database_url)

    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "checked 4 communications: 1 problems",
        f"activity {record.call_activity}: its call {record.call} does not exist",
    ]


def test_an_accepted_communication_without_an_activity(database_url: str, record: Ids) -> None:
    with by_hand(database_url) as connection:
        connection.execute(
            text("DELETE FROM events WHERE activity_id = :id"), {"id": record.sms_activity}
        )
        connection.execute(
            text("DELETE FROM activities WHERE id = :id"), {"id": record.sms_activity}
        )

    result = audit(database_url)

    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "checked 5 communications: 1 problems",
        f"sms {record.sms}: accepted, has 0 activities (expected 1)",
    ]


def test_an_event_without_its_activity(database_url: str, record: Ids) -> None:
    with by_hand(database_url) as connection:
        event = connection.execute(
            text("SELECT id FROM events WHERE activity_id = :id"), {"id": record.call_activity}
        ).scalar_one()
        connection.execute(
            text("DELETE FROM activities WHERE id = :id"), {"id": record.call_activity}
        )

    result = audit(database_url)

    assert result.exit_code == 1
    assert result.output.splitlines() == [
        "checked 5 communications: 2 problems",
        f"call {record.call}: accepted, has 0 activities (expected 1)",
        f"event {event}: its activity {record.call_activity} does not exist",
    ]


def test_one_clinic_at_a_time(database_url: str, record: Ids) -> None:
    with by_hand(database_url) as connection:
        connection.execute(
            text("DELETE FROM events WHERE patient_id = 223"),
        )

    mine, theirs = audit(database_url, "--clinic-id", "1"), audit(database_url, "--clinic-id", "2")

    assert (mine.exit_code, mine.output) == (0, "checked 4 communications: 0 problems\n")
    assert theirs.exit_code == 1
    assert theirs.output.splitlines()[0] == "checked 1 communications: 1 problems"
    assert f"(sms {record.their_sms})" in theirs.output


def test_the_output_names_ids_only(database_url: str, record: Ids) -> None:
    with by_hand(database_url) as connection:
        connection.execute(text("DELETE FROM events"))
        connection.execute(text("UPDATE activities SET text_message_id = NULL"))

    result = audit(database_url)

    assert result.exit_code == 1
    assert len(result.output.splitlines()) > 8
    for secret in (PAT_PHONE, THEIR_PHONE, STRANGER, CLINIC_NUMBER, BODY, REPLY):
        assert secret[-7:] not in result.output
    assert "Dana" not in result.output
