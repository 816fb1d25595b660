"""InitiateCallHandler: call a patient, and put the call, its activity and its event on record."""

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
from ecm_comms.domain.commands import InitiateCall
from ecm_comms.domain.errors import (
    CommunicationFailed,
    DomainError,
    GatewayError,
    InvalidInput,
    PatientNotFound,
)
from ecm_comms.domain.people import Patient, User
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.statuses import CallStatus
from ecm_comms.domain.use_cases.initiate_call import InitiateCallHandler

DANA = User(id=101, clinic_id=1, name="Dana Coordinator")
PAT = Patient(id=123, clinic_id=1, phones=(PhoneNumber("+18051234567"),))
ANOTHER_CLINICS_PATIENT = Patient(id=456, clinic_id=2, phones=(PhoneNumber("+18055550456"),))


def call(*, patient_id: int = PAT.id, phone_number: str | None = "+18051234567") -> InitiateCall:
    return InitiateCall(patient_id=patient_id, phone_number=phone_number, performed_by=DANA)


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


@pytest.fixture
def uow(store: InMemoryStore) -> InMemoryUnitOfWork:
    return InMemoryUnitOfWork(store)


@pytest.fixture
def initiate_call(
    uow: InMemoryUnitOfWork, gateway: FakeGateway, clock: FixedClock
) -> InitiateCallHandler:
    patients = InMemoryPatientDirectory((PAT, ANOTHER_CLINICS_PATIENT))
    return InitiateCallHandler(uow, patients, gateway, clock)


def assert_nothing_recorded(store: InMemoryStore) -> None:
    assert store.calls.rows == {}
    assert store.activities.rows == {}
    assert store.events.rows == {}


# Calling.


def test_an_initiated_call_is_recorded_as_a_call_to_the_patient(
    initiate_call: InitiateCallHandler,
    store: InMemoryStore,
    gateway: FakeGateway,
    clock: FixedClock,
) -> None:
    initiate_call(call())

    [voice_call] = store.calls.rows.values()
    [started] = gateway.calls
    assert voice_call.clinic_id == 1
    assert voice_call.patient_id == PAT.id
    assert voice_call.direction is Direction.OUTBOUND
    assert voice_call.to == PhoneNumber("+18051234567")
    assert voice_call.from_ == gateway.sender
    assert voice_call.status is CallStatus.QUEUED
    assert voice_call.twilio_sid == started.sid
    assert voice_call.created_at == voice_call.updated_at == clock.now()


def test_an_initiated_call_is_recorded_with_its_activity(
    initiate_call: InitiateCallHandler, store: InMemoryStore, clock: FixedClock
) -> None:
    initiate_call(call())

    [voice_call] = store.calls.rows.values()
    [activity] = store.activities.rows.values()
    assert activity.activity_type is Channel.CALL
    assert activity.status is ActivityStatus.CREATED
    assert activity.clinic_id == 1
    assert activity.patient_id == PAT.id
    assert activity.performed_by_id == DANA.id
    assert activity.assigned_to_id == DANA.id
    assert activity.voice_call_id == voice_call.id
    assert activity.text_message_id is None
    assert activity.created_at == clock.now()


def test_an_initiated_call_is_recorded_with_its_event(
    initiate_call: InitiateCallHandler, store: InMemoryStore, clock: FixedClock
) -> None:
    initiate_call(call())

    [voice_call] = store.calls.rows.values()
    [activity] = store.activities.rows.values()
    [event] = store.events.rows.values()
    assert event.event_type is Channel.CALL
    assert event.clinic_id == 1
    assert event.occurred_at == voice_call.created_at == clock.now()
    assert event.patient_id == PAT.id
    assert event.activity_id == activity.id


def test_initiating_a_call_commits_the_unit_of_work(
    initiate_call: InitiateCallHandler, uow: InMemoryUnitOfWork
) -> None:
    initiate_call(call())

    assert uow.committed


def test_the_number_is_normalised_to_e164_before_it_reaches_the_gateway(
    initiate_call: InitiateCallHandler, gateway: FakeGateway
) -> None:
    initiate_call(call(phone_number="1-805-123-4567"))

    assert [started.to for started in gateway.calls] == [PhoneNumber("+18051234567")]


# The patient.


@pytest.mark.parametrize("patient_id", [999, ANOTHER_CLINICS_PATIENT.id])
def test_an_unknown_or_another_clinics_patient_is_not_found(
    initiate_call: InitiateCallHandler, patient_id: int
) -> None:
    with pytest.raises(PatientNotFound) as refused:
        initiate_call(call(patient_id=patient_id))

    assert refused.value.messages == ["Patient not found"]


class ClinicBlindDirectory(InMemoryPatientDirectory):
    """A host's patient directory that forgets to filter by clinic."""

    def find(self, patient_id: int, clinic_id: int) -> Patient | None:
        return self.patients.get(patient_id)


def test_another_clinics_patient_is_not_found_even_if_the_directory_returns_them(
    gateway: FakeGateway, clock: FixedClock
) -> None:
    patients = ClinicBlindDirectory((ANOTHER_CLINICS_PATIENT,))
    initiate_call = InitiateCallHandler(InMemoryUnitOfWork(), patients, gateway, clock)

    with pytest.raises(PatientNotFound):
        initiate_call(call(patient_id=ANOTHER_CLINICS_PATIENT.id))


# What the coordinator typed.


@pytest.mark.parametrize(
    ("phone_number", "problems"),
    [
        pytest.param(None, ["Phone number is required"], id="missing phone"),
        pytest.param("   ", ["Phone number is required"], id="blank phone"),
        pytest.param("+1805123456789", ["Invalid phone number"], id="invalid phone"),
    ],
)
def test_an_invalid_number_is_reported(
    initiate_call: InitiateCallHandler, phone_number: str | None, problems: list[str]
) -> None:
    with pytest.raises(InvalidInput) as refused:
        initiate_call(call(phone_number=phone_number))

    assert refused.value.messages == problems


REFUSED_COMMANDS = [
    pytest.param(call(patient_id=999), id="unknown patient"),
    pytest.param(call(patient_id=ANOTHER_CLINICS_PATIENT.id), id="another clinic's patient"),
    pytest.param(call(phone_number=None), id="missing phone"),
    pytest.param(call(phone_number=" "), id="blank phone"),
    pytest.param(call(phone_number="abc"), id="invalid phone"),
]


@pytest.mark.parametrize("command", REFUSED_COMMANDS)
def test_a_refused_call_is_neither_started_nor_recorded(
    initiate_call: InitiateCallHandler,
    store: InMemoryStore,
    gateway: FakeGateway,
    command: InitiateCall,
) -> None:
    with pytest.raises(DomainError):
        initiate_call(command)

    assert gateway.calls == []
    assert_nothing_recorded(store)


# The gateway.


def test_a_gateway_refusal_fails_with_its_reason(
    initiate_call: InitiateCallHandler, gateway: FakeGateway
) -> None:
    gateway.fail_next(GatewayError("The 'To' number is not a valid phone number", code=21211))

    with pytest.raises(CommunicationFailed) as failed:
        initiate_call(call())

    assert failed.value.messages == [
        "Failed to initiate call: The 'To' number is not a valid phone number"
    ]
    assert failed.value.code == 21211
    assert failed.value.unavailable is False


def test_a_gateway_refusal_records_nothing(
    initiate_call: InitiateCallHandler, store: InMemoryStore, gateway: FakeGateway
) -> None:
    gateway.fail_next(GatewayError("The 'To' number is not a valid phone number", code=21211))

    with pytest.raises(CommunicationFailed):
        initiate_call(call())

    assert_nothing_recorded(store)


def test_an_unavailable_gateway_is_reported_as_unavailable(
    initiate_call: InitiateCallHandler, store: InMemoryStore, gateway: FakeGateway
) -> None:
    gateway.fail_next(GatewayError("Service Unavailable", unavailable=True))

    with pytest.raises(CommunicationFailed) as failed:
        initiate_call(call())

    assert failed.value.unavailable is True
    assert_nothing_recorded(store)


# The transaction.


class RecordingFailed(Exception):
    pass


class FailingEvents(InMemoryEvents):
    """An events table that breaks down when an event is added."""

    def add(self, row: Event) -> None:
        raise RecordingFailed("the disk is full")


def test_a_failure_while_recording_leaves_no_call_and_no_activity(
    gateway: FakeGateway, clock: FixedClock
) -> None:
    store = InMemoryStore(events=FailingEvents())
    initiate_call = InitiateCallHandler(
        InMemoryUnitOfWork(store), InMemoryPatientDirectory((PAT,)), gateway, clock
    )

    with pytest.raises(RecordingFailed):
        initiate_call(call())

    assert store.calls.rows == {}
    assert store.activities.rows == {}
