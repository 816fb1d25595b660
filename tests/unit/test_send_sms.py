"""SendSmsHandler: text a patient, and put the SMS, its activity and its event on record."""

from __future__ import annotations

import pytest

from ecm_comms.adapters.memory import (
    FakeGateway,
    FixedClock,
    InMemoryPatientDirectory,
    InMemoryStore,
    InMemoryUnitOfWork,
)
from ecm_comms.adapters.memory.unit_of_work import InMemoryEvents
from ecm_comms.domain.activities import ActivityStatus, Event
from ecm_comms.domain.channels import Channel, Direction
from ecm_comms.domain.commands import SendSms
from ecm_comms.domain.errors import (
    CommunicationFailed,
    DomainError,
    GatewayError,
    InvalidInput,
    PatientNotFound,
)
from ecm_comms.domain.people import Patient, User
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.sms_bodies import SmsBody
from ecm_comms.domain.statuses import SmsStatus
from ecm_comms.domain.use_cases.send_sms import SendSmsHandler

DANA = User(id=101, clinic_id=1, name="Dana Coordinator")
PAT = Patient(id=123, clinic_id=1, phones=(PhoneNumber("+18051234567"),))
ANOTHER_CLINICS_PATIENT = Patient(id=456, clinic_id=2, phones=(PhoneNumber("+18055550456"),))


def sms(
    *,
    patient_id: int = PAT.id,
    phone_number: str | None = "+18051234567",
    body: str | None = "See you tomorrow at 10.",
) -> SendSms:
    return SendSms(patient_id=patient_id, phone_number=phone_number, body=body, performed_by=DANA)


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


@pytest.fixture
def uow(store: InMemoryStore) -> InMemoryUnitOfWork:
    return InMemoryUnitOfWork(store)


@pytest.fixture
def send_sms(uow: InMemoryUnitOfWork, gateway: FakeGateway, clock: FixedClock) -> SendSmsHandler:
    patients = InMemoryPatientDirectory((PAT, ANOTHER_CLINICS_PATIENT))
    return SendSmsHandler(uow, patients, gateway, clock)


def assert_nothing_recorded(store: InMemoryStore) -> None:
    assert store.messages.rows == {}
    assert store.activities.rows == {}
    assert store.events.rows == {}


# Sending.


def test_a_sent_sms_is_recorded_as_sent_to_the_patient(
    send_sms: SendSmsHandler, store: InMemoryStore, gateway: FakeGateway, clock: FixedClock
) -> None:
    send_sms(sms(body="See you tomorrow at 10."))

    [message] = store.messages.rows.values()
    [handed_over] = gateway.sent
    assert message.clinic_id == 1
    assert message.patient_id == PAT.id
    assert message.direction is Direction.OUTBOUND
    assert message.to == PhoneNumber("+18051234567")
    assert message.from_ == gateway.sender
    assert message.body == SmsBody("See you tomorrow at 10.")
    assert message.status is SmsStatus.QUEUED
    assert message.twilio_sid == handed_over.sid
    assert message.created_at == message.updated_at == clock.now()


def test_a_sent_sms_is_recorded_with_its_activity(
    send_sms: SendSmsHandler, store: InMemoryStore, clock: FixedClock
) -> None:
    send_sms(sms())

    [message] = store.messages.rows.values()
    [activity] = store.activities.rows.values()
    assert activity.activity_type is Channel.SMS
    assert activity.status is ActivityStatus.CREATED
    assert activity.clinic_id == 1
    assert activity.patient_id == PAT.id
    assert activity.performed_by_id == DANA.id
    assert activity.assigned_to_id == DANA.id
    assert activity.text_message_id == message.id
    assert activity.voice_call_id is None
    assert activity.created_at == clock.now()


def test_a_sent_sms_is_recorded_with_its_event(
    send_sms: SendSmsHandler, store: InMemoryStore, clock: FixedClock
) -> None:
    send_sms(sms())

    [message] = store.messages.rows.values()
    [activity] = store.activities.rows.values()
    [event] = store.events.rows.values()
    assert event.event_type is Channel.SMS
    assert event.clinic_id == 1
    assert event.occurred_at == message.created_at == clock.now()
    assert event.patient_id == PAT.id
    assert event.activity_id == activity.id


def test_sending_an_sms_commits_the_unit_of_work(
    send_sms: SendSmsHandler, uow: InMemoryUnitOfWork
) -> None:
    send_sms(sms())

    assert uow.committed


def test_the_number_is_normalised_to_e164_before_it_reaches_the_gateway(
    send_sms: SendSmsHandler, gateway: FakeGateway
) -> None:
    send_sms(sms(phone_number="(805) 123-4567"))

    assert [sent.to for sent in gateway.sent] == [PhoneNumber("+18051234567")]


def test_the_body_reaches_the_gateway_as_written(
    send_sms: SendSmsHandler, gateway: FakeGateway
) -> None:
    send_sms(sms(body="  Call us back.\n"))

    assert [sent.body.text for sent in gateway.sent] == ["  Call us back.\n"]


# The patient.


@pytest.mark.parametrize("patient_id", [999, ANOTHER_CLINICS_PATIENT.id])
def test_an_unknown_or_another_clinics_patient_is_not_found(
    send_sms: SendSmsHandler, patient_id: int
) -> None:
    with pytest.raises(PatientNotFound) as refused:
        send_sms(sms(patient_id=patient_id))

    assert refused.value.messages == ["Patient not found"]


class ClinicBlindDirectory(InMemoryPatientDirectory):
    """A host's patient directory that forgets to filter by clinic."""

    def find(self, patient_id: int, clinic_id: int) -> Patient | None:
        return self.patients.get(patient_id)


def test_another_clinics_patient_is_not_found_even_if_the_directory_returns_them(
    gateway: FakeGateway, clock: FixedClock
) -> None:
    patients = ClinicBlindDirectory((ANOTHER_CLINICS_PATIENT,))
    send_sms = SendSmsHandler(InMemoryUnitOfWork(), patients, gateway, clock)

    with pytest.raises(PatientNotFound):
        send_sms(sms(patient_id=ANOTHER_CLINICS_PATIENT.id))


# What the coordinator typed.


@pytest.mark.parametrize(
    ("phone_number", "body", "problems"),
    [
        pytest.param(None, "Hi", ["Phone number is required"], id="missing phone"),
        pytest.param("  ", "Hi", ["Phone number is required"], id="blank phone"),
        pytest.param("12345", "Hi", ["Invalid phone number"], id="invalid phone"),
        pytest.param("8051234567", None, ["Body is required"], id="missing body"),
        pytest.param("8051234567", " \n", ["Body is required"], id="blank body"),
        pytest.param(
            "8051234567",
            "x" * 1601,
            ["Body is too long (maximum is 1600 characters)"],
            id="long body",
        ),
        pytest.param(
            None, "", ["Phone number is required", "Body is required"], id="phone and body"
        ),
        pytest.param(
            "abc",
            "x" * 1601,
            ["Invalid phone number", "Body is too long (maximum is 1600 characters)"],
            id="invalid phone and long body",
        ),
    ],
)
def test_invalid_input_lists_every_problem(
    send_sms: SendSmsHandler, phone_number: str | None, body: str | None, problems: list[str]
) -> None:
    with pytest.raises(InvalidInput) as refused:
        send_sms(sms(phone_number=phone_number, body=body))

    assert refused.value.messages == problems


REFUSED_COMMANDS = [
    pytest.param(sms(patient_id=999), id="unknown patient"),
    pytest.param(sms(patient_id=ANOTHER_CLINICS_PATIENT.id), id="another clinic's patient"),
    pytest.param(sms(phone_number=None), id="missing phone"),
    pytest.param(sms(phone_number=" "), id="blank phone"),
    pytest.param(sms(phone_number="abc"), id="invalid phone"),
    pytest.param(sms(body=None), id="missing body"),
    pytest.param(sms(body="   "), id="blank body"),
    pytest.param(sms(body="x" * 1601), id="long body"),
    pytest.param(sms(phone_number=None, body=None), id="phone and body"),
]


@pytest.mark.parametrize("command", REFUSED_COMMANDS)
def test_a_refused_sms_is_neither_sent_nor_recorded(
    send_sms: SendSmsHandler, store: InMemoryStore, gateway: FakeGateway, command: SendSms
) -> None:
    with pytest.raises(DomainError):
        send_sms(command)

    assert gateway.sent == []
    assert_nothing_recorded(store)


# The gateway.


def test_a_gateway_refusal_fails_with_its_reason(
    send_sms: SendSmsHandler, gateway: FakeGateway
) -> None:
    gateway.fail_next(GatewayError("The 'To' number is not a valid phone number", code=21211))

    with pytest.raises(CommunicationFailed) as failed:
        send_sms(sms())

    assert failed.value.messages == [
        "Failed to send SMS: The 'To' number is not a valid phone number"
    ]
    assert failed.value.code == 21211
    assert failed.value.unavailable is False


def test_a_gateway_refusal_records_nothing(
    send_sms: SendSmsHandler, store: InMemoryStore, gateway: FakeGateway
) -> None:
    gateway.fail_next(GatewayError("The 'To' number is not a valid phone number", code=21211))

    with pytest.raises(CommunicationFailed):
        send_sms(sms())

    assert_nothing_recorded(store)


def test_an_unavailable_gateway_is_reported_as_unavailable(
    send_sms: SendSmsHandler, store: InMemoryStore, gateway: FakeGateway
) -> None:
    gateway.fail_next(GatewayError("Service Unavailable", unavailable=True))

    with pytest.raises(CommunicationFailed) as failed:
        send_sms(sms())

    assert failed.value.unavailable is True
    assert_nothing_recorded(store)


# The transaction.


class RecordingFailed(Exception):
    pass


class FailingEvents(InMemoryEvents):
    """An events table that breaks down when an event is added."""

    def add(self, row: Event) -> None:
        raise RecordingFailed("the disk is full")


def test_a_failure_while_recording_leaves_no_message_and_no_activity(
    gateway: FakeGateway, clock: FixedClock
) -> None:
    store = InMemoryStore(events=FailingEvents())
    send_sms = SendSmsHandler(
        InMemoryUnitOfWork(store), InMemoryPatientDirectory((PAT,)), gateway, clock
    )

    with pytest.raises(RecordingFailed):
        send_sms(sms())

    assert store.messages.rows == {}
    assert store.activities.rows == {}
