"""Write-ahead: a send interrupted between Twilio's acceptance and the final commit loses nothing.

The process "dies" (an exception no handler catches) when the send opens its second unit of
work: Twilio has the SMS or call, the service has only its write-ahead record. Twilio's first
status callback, which carries the record's id, then completes the record.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Self

import pytest
from dependency_injector import providers
from flask.testing import FlaskClient
from sqlalchemy import Engine

from ecm_comms.adapters.memory import FakeGateway, FixedClock
from ecm_comms.adapters.sql import tables
from ecm_comms.adapters.sql.unit_of_work import SqlUnitOfWork
from ecm_comms.container import Container
from ecm_comms.domain.commands import InitiateCall, SendSms
from ecm_comms.domain.people import Patient
from tests.conftest import Staff
from tests.integration.records import count_rows, only_row, recorded
from tests.support.webhooks import WEBHOOK_SETTINGS, SignedWebhooks, webhook_container

pytestmark = pytest.mark.both_databases

PHONE = "+18051234567"
BODY = "Reminder: your appointment is Tuesday at 10am."


class ProcessDied(BaseException):
    """The process ending mid-request: no ``except Exception`` gets to tidy anything up."""


class DiesOnTheSecondUnitOfWork(SqlUnitOfWork):
    """A unit of work that lets the write-ahead record be committed, then dies on the next one
    (the one that would record Twilio's answer, the activity and the event)."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine)
        self.entered = 0

    def __enter__(self) -> Self:
        self.entered += 1
        if self.entered == 2:
            raise ProcessDied()
        return super().__enter__()


@pytest.fixture
def container(database_url: str, gateway: FakeGateway, clock: FixedClock) -> Iterator[Container]:
    """The service as deployed: webhooks validated with Twilio's signature."""
    with webhook_container(database_url, gateway, clock, WEBHOOK_SETTINGS) as built:
        yield built


@pytest.fixture
def twilio(client: FlaskClient) -> SignedWebhooks:
    return SignedWebhooks(client)


def interrupted_sms(container: Container, staff: Staff) -> None:
    """Send an SMS whose process dies after Twilio accepted it, before the final commit."""
    container.uow.override(providers.Factory(DiesOnTheSecondUnitOfWork, container.engine))
    try:
        with pytest.raises(ProcessDied):
            container.send_sms()(SendSms(123, PHONE, BODY, performed_by=staff.user))
    finally:
        container.uow.reset_override()  # the restarted process


def interrupted_call(container: Container, staff: Staff) -> None:
    container.uow.override(providers.Factory(DiesOnTheSecondUnitOfWork, container.engine))
    try:
        with pytest.raises(ProcessDied):
            container.initiate_call()(InitiateCall(123, PHONE, performed_by=staff.user))
    finally:
        container.uow.reset_override()


# --- SMS ------------------------------------------------------------------------------------------


def test_write_ahead_an_sms_interrupted_after_twilio_accepted_it_is_on_record_queued_without_sid(
    container: Container, coordinator: Staff, patient: Patient, gateway: FakeGateway
) -> None:
    interrupted_sms(container, coordinator)

    message = only_row(container, tables.text_messages)
    assert len(gateway.sent) == 1  # Twilio has it
    assert gateway.sent[0].record_id == message["id"]  # and will call back with the record's id
    assert (message["status"], message["twilio_sid"]) == ("queued", None)
    assert (message["patient_id"], message["sent_by_id"], message["body"]) == (123, 101, BODY)
    assert count_rows(container) == recorded(text_messages=1)


def test_write_ahead_the_first_status_callback_completes_an_interrupted_sms(
    container: Container,
    coordinator: Staff,
    patient: Patient,
    gateway: FakeGateway,
    twilio: SignedWebhooks,
) -> None:
    interrupted_sms(container, coordinator)
    record_id = gateway.sent[0].record_id
    sid = gateway.sent[0].sid

    response = twilio.sms_status(sid, "sent", record_id=record_id)

    assert response.status_code == 204
    message = only_row(container, tables.text_messages)
    activity = only_row(container, tables.activities)
    event = only_row(container, tables.events)
    assert (message["id"], message["twilio_sid"], message["status"]) == (record_id, sid, "sent")
    assert (activity["activity_type"], activity["text_message_id"]) == ("sms", record_id)
    assert (activity["patient_id"], activity["performed_by_id"]) == (123, 101)
    assert (event["activity_id"], event["patient_id"]) == (activity["id"], 123)


def test_write_ahead_a_later_callback_for_a_recovered_sms_records_no_second_outreach(
    container: Container,
    coordinator: Staff,
    patient: Patient,
    gateway: FakeGateway,
    twilio: SignedWebhooks,
) -> None:
    interrupted_sms(container, coordinator)
    sent = gateway.sent[0]
    twilio.sms_status(sent.sid, "sent", record_id=sent.record_id)

    twilio.sms_status(sent.sid, "delivered", record_id=sent.record_id)

    assert only_row(container, tables.text_messages)["status"] == "delivered"
    assert count_rows(container) == recorded(text_messages=1, activities=1) | {
        "status_callbacks": 2
    }


def test_write_ahead_a_recovered_sms_reads_back_with_its_activity(
    container: Container,
    client: FlaskClient,
    coordinator: Staff,
    patient: Patient,
    gateway: FakeGateway,
    twilio: SignedWebhooks,
) -> None:
    interrupted_sms(container, coordinator)
    sent = gateway.sent[0]
    twilio.sms_status(sent.sid, "delivered", record_id=sent.record_id)

    response = client.get(
        f"/v1/clinic/ecm/communications/sms/{sent.record_id}", headers=coordinator.headers
    )

    assert response.status_code == 200
    assert response.json is not None
    assert response.json["sms"]["twilio_sid"] == sent.sid
    assert response.json["sms"]["status"] == "delivered"
    assert response.json["activity"]["id"] == only_row(container, tables.activities)["id"]


# --- calls ----------------------------------------------------------------------------------------


def test_write_ahead_a_call_interrupted_after_twilio_accepted_it_is_on_record_queued_without_sid(
    container: Container, coordinator: Staff, patient: Patient, gateway: FakeGateway
) -> None:
    interrupted_call(container, coordinator)

    call = only_row(container, tables.voice_calls)
    assert len(gateway.calls) == 1
    assert gateway.calls[0].record_id == call["id"]
    assert (call["status"], call["twilio_sid"]) == ("queued", None)
    assert count_rows(container) == recorded(voice_calls=1)


def test_write_ahead_the_first_status_callback_completes_an_interrupted_call(
    container: Container,
    coordinator: Staff,
    patient: Patient,
    gateway: FakeGateway,
    twilio: SignedWebhooks,
) -> None:
    interrupted_call(container, coordinator)
    started = gateway.calls[0]

    response = twilio.call_status(started.sid, "ringing", record_id=started.record_id)

    assert response.status_code == 204
    call = only_row(container, tables.voice_calls)
    activity = only_row(container, tables.activities)
    event = only_row(container, tables.events)
    assert (call["id"], call["twilio_sid"], call["status"]) == (
        started.record_id,
        started.sid,
        "ringing",
    )
    assert (activity["activity_type"], activity["voice_call_id"]) == ("call", started.record_id)
    assert event["activity_id"] == activity["id"]
