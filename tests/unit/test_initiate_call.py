"""InitiateCallHandler: call a patient, and put the call, its activity and its event on record."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from ecm_comms.adapters.memory import (
    FakeGateway,
    FixedClock,
    InMemoryClinicDirectory,
    InMemoryPatientDirectory,
    InMemoryStore,
    InMemoryUnitOfWork,
)
from ecm_comms.adapters.memory.unit_of_work import InMemoryEvents
from ecm_comms.domain.activities import ActivityStatus, Event
from ecm_comms.domain.channels import Channel, Direction
from ecm_comms.domain.commands import ApplyStatus, InitiateCall
from ecm_comms.domain.consent import ConsentAction, ConsentEntry, ConsentSource
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
from ecm_comms.domain.use_cases.apply_status import ApplyStatusHandler
from ecm_comms.domain.use_cases.initiate_call import InitiateCallHandler
from ecm_comms.ports.gateway import CallReceipt, OutboundCall

DANA_PHONE = PhoneNumber("+18055550101")
CLINIC_LINE = PhoneNumber("+18055550100")
DANA = User(id=101, clinic_id=1, name="Dana Coordinator")
DANA_WITH_PHONE = User(id=101, clinic_id=1, name="Dana Coordinator", phone=DANA_PHONE)
PAT_PHONE = PhoneNumber("+18051234567")
PAT = Patient(id=123, clinic_id=1, phones=(PAT_PHONE,))
ANOTHER_CLINICS_PATIENT = Patient(id=456, clinic_id=2, phones=(PhoneNumber("+18055550456"),))


def call(
    *,
    patient_id: int = PAT.id,
    phone_number: str | None = "+18051234567",
    performed_by: User = DANA,
) -> InitiateCall:
    return InitiateCall(patient_id=patient_id, phone_number=phone_number, performed_by=performed_by)


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
    return InitiateCallHandler(uow, patients, InMemoryClinicDirectory(), gateway, clock)


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


def test_an_initiated_call_is_recorded_as_placed_by_the_coordinator(
    initiate_call: InitiateCallHandler, store: InMemoryStore
) -> None:
    initiate_call(call())

    [voice_call] = store.calls.rows.values()
    assert voice_call.sent_by_id == DANA.id


def test_the_result_is_what_was_recorded(
    initiate_call: InitiateCallHandler, store: InMemoryStore, gateway: FakeGateway
) -> None:
    initiated = initiate_call(call())

    [voice_call] = store.calls.rows.values()
    [activity] = store.activities.rows.values()
    [event] = store.events.rows.values()
    assert (initiated.call.id, initiated.call.twilio_sid) == (voice_call.id, gateway.calls[0].sid)
    assert (initiated.activity.id, initiated.activity.voice_call_id) == (activity.id, voice_call.id)
    assert (initiated.event.id, initiated.event.activity_id) == (event.id, activity.id)


def test_initiating_a_call_commits_the_unit_of_work(
    initiate_call: InitiateCallHandler, uow: InMemoryUnitOfWork
) -> None:
    initiate_call(call())

    assert uow.committed


def test_the_number_is_normalised_to_e164_before_it_reaches_the_gateway(
    initiate_call: InitiateCallHandler, gateway: FakeGateway
) -> None:
    initiate_call(call(phone_number="1-805-123-4567"))

    assert [started.to for started in gateway.calls] == [PAT_PHONE]


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
    initiate_call = InitiateCallHandler(
        InMemoryUnitOfWork(), patients, InMemoryClinicDirectory(), gateway, clock
    )

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


# Who the patient is put through to.


def handler_with(
    store: InMemoryStore,
    gateway: FakeGateway,
    clock: FixedClock,
    clinic_number: PhoneNumber | None,
) -> InitiateCallHandler:
    return InitiateCallHandler(
        InMemoryUnitOfWork(store),
        InMemoryPatientDirectory((PAT,)),
        InMemoryClinicDirectory(),
        gateway,
        clock,
        clinic_number=clinic_number,
    )


def test_the_patient_is_put_through_to_the_coordinators_phone(
    store: InMemoryStore, gateway: FakeGateway, clock: FixedClock
) -> None:
    initiate_call = handler_with(store, gateway, clock, clinic_number=CLINIC_LINE)

    initiate_call(call(performed_by=DANA_WITH_PHONE))

    assert [started.connect_to for started in gateway.calls] == [DANA_PHONE]


def test_a_coordinator_without_a_phone_puts_the_patient_through_to_the_clinic(
    store: InMemoryStore, gateway: FakeGateway, clock: FixedClock
) -> None:
    initiate_call = handler_with(store, gateway, clock, clinic_number=CLINIC_LINE)

    initiate_call(call(performed_by=DANA))

    assert [started.connect_to for started in gateway.calls] == [CLINIC_LINE]


def test_with_no_phone_and_no_clinic_number_the_patient_is_put_through_to_no_one(
    store: InMemoryStore, gateway: FakeGateway, clock: FixedClock
) -> None:
    initiate_call = handler_with(store, gateway, clock, clinic_number=None)

    initiate_call(call(performed_by=DANA))

    assert [started.connect_to for started in gateway.calls] == [None]


# Write-ahead: the call is on record before the gateway is asked.


@dataclass(frozen=True)
class Seen:
    """What the store held when the gateway was asked to place the call."""

    statuses: list[CallStatus]
    sids: list[str | None]
    callers: list[int | None]
    activities: int
    events: int


class WatchingGateway(FakeGateway):
    """A gateway that looks at the committed store at the moment it is asked to call."""

    def __init__(self, store: InMemoryStore) -> None:
        super().__init__()
        self._store = store
        self.seen: list[Seen] = []

    def start_call(self, call: OutboundCall) -> CallReceipt:
        calls = list(self._store.calls.rows.values())
        self.seen.append(
            Seen(
                statuses=[c.status for c in calls],
                sids=[c.twilio_sid for c in calls],
                callers=[c.sent_by_id for c in calls],
                activities=len(self._store.activities.rows),
                events=len(self._store.events.rows),
            )
        )
        return super().start_call(call)


@pytest.fixture
def watching_gateway(store: InMemoryStore) -> WatchingGateway:
    return WatchingGateway(store)


@pytest.fixture
def initiate_call_watched(
    uow: InMemoryUnitOfWork, watching_gateway: WatchingGateway, clock: FixedClock
) -> InitiateCallHandler:
    return InitiateCallHandler(
        uow, InMemoryPatientDirectory((PAT,)), InMemoryClinicDirectory(), watching_gateway, clock
    )


def test_the_call_is_committed_as_queued_without_a_sid_before_the_gateway_is_asked(
    initiate_call_watched: InitiateCallHandler, watching_gateway: WatchingGateway
) -> None:
    initiate_call_watched(call())

    [seen] = watching_gateway.seen
    assert (seen.statuses, seen.sids, seen.callers) == ([CallStatus.QUEUED], [None], [DANA.id])


def test_the_activity_and_event_are_not_recorded_before_the_gateway_is_asked(
    initiate_call_watched: InitiateCallHandler, watching_gateway: WatchingGateway
) -> None:
    initiate_call_watched(call())

    [seen] = watching_gateway.seen
    assert (seen.activities, seen.events) == (0, 0)


def test_the_gateway_is_given_the_id_of_the_record(
    initiate_call: InitiateCallHandler, store: InMemoryStore, gateway: FakeGateway
) -> None:
    initiate_call(call())
    initiate_call(call())

    assert [started.record_id for started in gateway.calls] == list(store.calls.rows)
    assert [started.record_id for started in gateway.calls] == [1, 2]


class RingingGateway(FakeGateway):
    """A gateway whose provider reports the call as already initiated, from another number."""

    OTHER_NUMBER = PhoneNumber("+18055550199")

    def start_call(self, call: OutboundCall) -> CallReceipt:
        receipt = super().start_call(call)
        return CallReceipt(sid=receipt.sid, status=CallStatus.RINGING, sender=self.OTHER_NUMBER)


def test_the_sender_and_status_the_provider_reports_are_recorded(
    store: InMemoryStore, clock: FixedClock
) -> None:
    initiate_call = InitiateCallHandler(
        InMemoryUnitOfWork(store),
        InMemoryPatientDirectory((PAT,)),
        InMemoryClinicDirectory(),
        RingingGateway(),
        clock,
    )

    initiate_call(call())

    [voice_call] = store.calls.rows.values()
    assert (voice_call.from_, voice_call.status) == (
        RingingGateway.OTHER_NUMBER,
        CallStatus.RINGING,
    )


# The gateway refuses.


INVALID_TO = GatewayError("The 'To' number is not a valid phone number", code=21211)


def test_a_gateway_refusal_fails_with_its_reason(
    initiate_call: InitiateCallHandler, gateway: FakeGateway
) -> None:
    gateway.fail_next(INVALID_TO)

    with pytest.raises(CommunicationFailed) as failed:
        initiate_call(call())

    assert failed.value.messages == [
        "Failed to initiate call: The 'To' number is not a valid phone number"
    ]
    assert failed.value.code == 21211
    assert failed.value.unavailable is False


def test_a_gateway_refusal_keeps_the_call_as_failed_with_twilios_code_and_message(
    initiate_call: InitiateCallHandler, store: InMemoryStore, gateway: FakeGateway
) -> None:
    gateway.fail_next(INVALID_TO)

    with pytest.raises(CommunicationFailed):
        initiate_call(call())

    [voice_call] = store.calls.rows.values()
    assert voice_call.status is CallStatus.FAILED
    assert voice_call.error_code == 21211
    assert voice_call.error_message == "The 'To' number is not a valid phone number"
    assert voice_call.twilio_sid is None


def test_a_gateway_refusal_records_no_activity_and_no_event(
    initiate_call: InitiateCallHandler, store: InMemoryStore, gateway: FakeGateway
) -> None:
    gateway.fail_next(INVALID_TO)

    with pytest.raises(CommunicationFailed):
        initiate_call(call())

    assert store.activities.rows == {}
    assert store.events.rows == {}


def test_a_21610_refusal_of_a_call_does_not_opt_the_number_out_of_sms(
    initiate_call: InitiateCallHandler, store: InMemoryStore, gateway: FakeGateway
) -> None:
    gateway.fail_next(GatewayError("Attempt to send to unsubscribed recipient", code=21610))

    with pytest.raises(CommunicationFailed):
        initiate_call(call())

    assert store.consent.entries == []


def test_an_unreachable_gateway_that_is_safe_to_retry_keeps_the_call_as_failed(
    initiate_call: InitiateCallHandler, store: InMemoryStore, gateway: FakeGateway
) -> None:
    gateway.fail_next(
        GatewayError("Twilio could not be reached", unavailable=True, retry_safe=True)
    )

    with pytest.raises(CommunicationFailed) as failed:
        initiate_call(call())

    [voice_call] = store.calls.rows.values()
    assert failed.value.unavailable is True
    assert (voice_call.status, voice_call.error_message) == (
        CallStatus.FAILED,
        "Twilio could not be reached",
    )
    assert store.activities.rows == {}


# The gateway may or may not have placed it (a timeout, a 5xx).

TIMED_OUT = GatewayError("Twilio did not answer in time", unavailable=True)


def test_an_unavailable_gateway_is_reported_as_unavailable(
    initiate_call: InitiateCallHandler, gateway: FakeGateway
) -> None:
    gateway.fail_next(TIMED_OUT)

    with pytest.raises(CommunicationFailed) as failed:
        initiate_call(call())

    assert failed.value.unavailable is True
    assert failed.value.messages == ["Failed to initiate call: Twilio did not answer in time"]


def test_an_unknown_outcome_leaves_the_call_queued_for_its_status_callback(
    initiate_call: InitiateCallHandler, store: InMemoryStore, gateway: FakeGateway
) -> None:
    gateway.fail_next(TIMED_OUT)

    with pytest.raises(CommunicationFailed):
        initiate_call(call())

    [voice_call] = store.calls.rows.values()
    assert (voice_call.status, voice_call.twilio_sid) == (CallStatus.QUEUED, None)
    assert (voice_call.error_code, voice_call.error_message) == (None, None)


def test_an_unknown_outcome_records_no_activity_and_no_event(
    initiate_call: InitiateCallHandler, store: InMemoryStore, gateway: FakeGateway
) -> None:
    gateway.fail_next(TIMED_OUT)

    with pytest.raises(CommunicationFailed):
        initiate_call(call())

    assert store.activities.rows == {}
    assert store.events.rows == {}


# Opt-out is for SMS only.


def test_an_opted_out_number_can_still_be_called(
    initiate_call: InitiateCallHandler,
    store: InMemoryStore,
    gateway: FakeGateway,
    clock: FixedClock,
) -> None:
    with InMemoryUnitOfWork(store) as uow:
        uow.consent.append(
            ConsentEntry(PAT_PHONE, None, ConsentAction.OPT_OUT, ConsentSource.KEYWORD, clock.now())
        )
        uow.commit()

    initiate_call(call())

    assert [started.to for started in gateway.calls] == [PAT_PHONE]
    assert len(store.activities.rows) == 1


# The transaction.


class RecordingFailed(Exception):
    pass


class FailingEvents(InMemoryEvents):
    """An events table that breaks down when an event is added."""

    def add(self, row: Event) -> None:
        raise RecordingFailed("the disk is full")


@pytest.fixture
def failing_store() -> InMemoryStore:
    return InMemoryStore(events=FailingEvents())


@pytest.fixture
def initiate_call_failing(
    failing_store: InMemoryStore, gateway: FakeGateway, clock: FixedClock
) -> InitiateCallHandler:
    return InitiateCallHandler(
        InMemoryUnitOfWork(failing_store),
        InMemoryPatientDirectory((PAT,)),
        InMemoryClinicDirectory(),
        gateway,
        clock,
    )


def test_a_failure_while_recording_leaves_the_call_queued_without_a_sid(
    initiate_call_failing: InitiateCallHandler, failing_store: InMemoryStore
) -> None:
    with pytest.raises(RecordingFailed):
        initiate_call_failing(call())

    # The write-ahead record stays, as it was before the gateway was asked.
    [voice_call] = failing_store.calls.rows.values()
    assert (voice_call.status, voice_call.twilio_sid) == (CallStatus.QUEUED, None)


def test_a_failure_while_recording_leaves_no_activity(
    initiate_call_failing: InitiateCallHandler, failing_store: InMemoryStore
) -> None:
    with pytest.raises(RecordingFailed):
        initiate_call_failing(call())

    assert failing_store.activities.rows == {}
    assert failing_store.events.rows == {}


# A status callback may complete the record before the gateway answers.


class RacingGateway(FakeGateway):
    """Twilio's first status callback arrives while the call is still waiting for its answer."""

    def __init__(self, store: InMemoryStore, clock: FixedClock) -> None:
        super().__init__()
        self._apply = ApplyStatusHandler(
            InMemoryUnitOfWork(store), InMemoryClinicDirectory(), clock
        )

    def start_call(self, call: OutboundCall) -> CallReceipt:
        receipt = super().start_call(call)
        self._apply(ApplyStatus(Channel.CALL, receipt.sid, "ringing", record_id=call.record_id))
        return receipt


def test_a_call_completed_by_its_status_callback_has_one_activity_and_one_event(
    store: InMemoryStore, clock: FixedClock
) -> None:
    gateway = RacingGateway(store, clock)
    initiate_call = InitiateCallHandler(
        InMemoryUnitOfWork(store),
        InMemoryPatientDirectory((PAT,)),
        InMemoryClinicDirectory(),
        gateway,
        clock,
    )

    initiated = initiate_call(call())

    [voice_call] = store.calls.rows.values()
    assert voice_call.status is CallStatus.RINGING
    assert len(store.activities.rows) == 1
    assert len(store.events.rows) == 1
    assert initiated.activity.voice_call_id == voice_call.id
