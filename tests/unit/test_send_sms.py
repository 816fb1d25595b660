"""SendSmsHandler: text a patient, and put the SMS, its activity and its event on record."""

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
from ecm_comms.domain.commands import ApplyStatus, SendSms
from ecm_comms.domain.consent import ConsentAction, ConsentEntry, ConsentSource
from ecm_comms.domain.errors import (
    CommunicationFailed,
    DomainError,
    GatewayError,
    InvalidInput,
    PatientNotFound,
    RecipientOptedOut,
)
from ecm_comms.domain.people import Patient, User
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.sms_bodies import SmsBody
from ecm_comms.domain.statuses import SmsStatus
from ecm_comms.domain.use_cases.apply_status import ApplyStatusHandler
from ecm_comms.domain.use_cases.send_sms import SendSmsHandler
from ecm_comms.ports.gateway import OutboundSms, SmsReceipt

DANA = User(id=101, clinic_id=1, name="Dana Coordinator")
PAT_PHONE = PhoneNumber("+18051234567")
PAT = Patient(id=123, clinic_id=1, phones=(PAT_PHONE,))
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
    return SendSmsHandler(uow, patients, InMemoryClinicDirectory(), gateway, clock)


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


def test_a_sent_sms_is_recorded_as_sent_by_the_coordinator(
    send_sms: SendSmsHandler, store: InMemoryStore
) -> None:
    send_sms(sms())

    [message] = store.messages.rows.values()
    assert message.sent_by_id == DANA.id


def test_a_sent_sms_has_no_error(send_sms: SendSmsHandler, store: InMemoryStore) -> None:
    send_sms(sms())

    [message] = store.messages.rows.values()
    assert (message.error_code, message.error_message) == (None, None)


def test_the_result_is_what_was_recorded(
    send_sms: SendSmsHandler, store: InMemoryStore, gateway: FakeGateway
) -> None:
    sent = send_sms(sms())

    [message] = store.messages.rows.values()
    [activity] = store.activities.rows.values()
    [event] = store.events.rows.values()
    assert (sent.message.id, sent.message.twilio_sid) == (message.id, gateway.sent[0].sid)
    assert (sent.activity.id, sent.activity.text_message_id) == (activity.id, message.id)
    assert (sent.event.id, sent.event.activity_id) == (event.id, activity.id)


def test_sending_an_sms_commits_the_unit_of_work(
    send_sms: SendSmsHandler, uow: InMemoryUnitOfWork
) -> None:
    send_sms(sms())

    assert uow.committed


def test_the_number_is_normalised_to_e164_before_it_reaches_the_gateway(
    send_sms: SendSmsHandler, gateway: FakeGateway
) -> None:
    send_sms(sms(phone_number="(805) 123-4567"))

    assert [sent.to for sent in gateway.sent] == [PAT_PHONE]


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
    send_sms = SendSmsHandler(
        InMemoryUnitOfWork(), patients, InMemoryClinicDirectory(), gateway, clock
    )

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


# Write-ahead: the SMS is on record before the gateway is asked.


@dataclass(frozen=True)
class Seen:
    """What the store held when the gateway was asked to send."""

    statuses: list[SmsStatus]
    sids: list[str | None]
    senders: list[int | None]
    record_ids: list[int | None]
    activities: int
    events: int


class WatchingGateway(FakeGateway):
    """A gateway that looks at the committed store at the moment it is asked to send."""

    def __init__(self, store: InMemoryStore) -> None:
        super().__init__()
        self._store = store
        self.seen: list[Seen] = []

    def send_sms(self, sms: OutboundSms) -> SmsReceipt:
        messages = list(self._store.messages.rows.values())
        self.seen.append(
            Seen(
                statuses=[m.status for m in messages],
                sids=[m.twilio_sid for m in messages],
                senders=[m.sent_by_id for m in messages],
                record_ids=[m.id for m in messages],
                activities=len(self._store.activities.rows),
                events=len(self._store.events.rows),
            )
        )
        return super().send_sms(sms)


@pytest.fixture
def watching_gateway(store: InMemoryStore) -> WatchingGateway:
    return WatchingGateway(store)


@pytest.fixture
def send_sms_watched(
    uow: InMemoryUnitOfWork, watching_gateway: WatchingGateway, clock: FixedClock
) -> SendSmsHandler:
    return SendSmsHandler(
        uow, InMemoryPatientDirectory((PAT,)), InMemoryClinicDirectory(), watching_gateway, clock
    )


def test_the_sms_is_committed_as_queued_without_a_sid_before_the_gateway_is_asked(
    send_sms_watched: SendSmsHandler, watching_gateway: WatchingGateway
) -> None:
    send_sms_watched(sms())

    [seen] = watching_gateway.seen
    assert (seen.statuses, seen.sids, seen.senders) == ([SmsStatus.QUEUED], [None], [DANA.id])


def test_the_activity_and_event_are_not_recorded_before_the_gateway_is_asked(
    send_sms_watched: SendSmsHandler, watching_gateway: WatchingGateway
) -> None:
    send_sms_watched(sms())

    [seen] = watching_gateway.seen
    assert (seen.activities, seen.events) == (0, 0)


def test_the_gateway_is_given_the_id_of_the_record(
    send_sms: SendSmsHandler, store: InMemoryStore, gateway: FakeGateway
) -> None:
    send_sms(sms())
    send_sms(sms(body="And again."))

    assert [sent.record_id for sent in gateway.sent] == list(store.messages.rows)
    assert [sent.record_id for sent in gateway.sent] == [1, 2]


class PoolGateway(FakeGateway):
    """A gateway whose provider picks the sending number (as a messaging service does)."""

    POOL_NUMBER = PhoneNumber("+18055550199")

    def send_sms(self, sms: OutboundSms) -> SmsReceipt:
        receipt = super().send_sms(sms)
        return SmsReceipt(sid=receipt.sid, status=SmsStatus.SENDING, sender=self.POOL_NUMBER)


def test_the_sender_and_status_the_provider_reports_are_recorded(
    store: InMemoryStore, clock: FixedClock
) -> None:
    send_sms = SendSmsHandler(
        InMemoryUnitOfWork(store),
        InMemoryPatientDirectory((PAT,)),
        InMemoryClinicDirectory(),
        PoolGateway(),
        clock,
    )

    send_sms(sms())

    [message] = store.messages.rows.values()
    assert (message.from_, message.status) == (PoolGateway.POOL_NUMBER, SmsStatus.SENDING)


# The gateway refuses.


INVALID_TO = GatewayError("The 'To' number is not a valid phone number", code=21211)


def test_a_gateway_refusal_fails_with_its_reason(
    send_sms: SendSmsHandler, gateway: FakeGateway
) -> None:
    gateway.fail_next(INVALID_TO)

    with pytest.raises(CommunicationFailed) as failed:
        send_sms(sms())

    assert failed.value.messages == [
        "Failed to send SMS: The 'To' number is not a valid phone number"
    ]
    assert failed.value.code == 21211
    assert failed.value.unavailable is False


def test_a_gateway_refusal_keeps_the_sms_as_failed_with_twilios_code_and_message(
    send_sms: SendSmsHandler, store: InMemoryStore, gateway: FakeGateway
) -> None:
    gateway.fail_next(INVALID_TO)

    with pytest.raises(CommunicationFailed):
        send_sms(sms())

    [message] = store.messages.rows.values()
    assert message.status is SmsStatus.FAILED
    assert message.error_code == 21211
    assert message.error_message == "The 'To' number is not a valid phone number"
    assert message.twilio_sid is None


def test_a_refused_sms_keeps_who_sent_it_and_to_whom(
    send_sms: SendSmsHandler, store: InMemoryStore, gateway: FakeGateway
) -> None:
    gateway.fail_next(INVALID_TO)

    with pytest.raises(CommunicationFailed):
        send_sms(sms(body="Hi there"))

    [message] = store.messages.rows.values()
    assert (message.patient_id, message.to, message.body, message.sent_by_id) == (
        PAT.id,
        PAT_PHONE,
        SmsBody("Hi there"),
        DANA.id,
    )


def test_a_gateway_refusal_records_no_activity_and_no_event(
    send_sms: SendSmsHandler, store: InMemoryStore, gateway: FakeGateway
) -> None:
    gateway.fail_next(INVALID_TO)

    with pytest.raises(CommunicationFailed):
        send_sms(sms())

    assert store.activities.rows == {}
    assert store.events.rows == {}


def test_a_refusal_other_than_21610_does_not_opt_the_number_out(
    send_sms: SendSmsHandler, store: InMemoryStore, gateway: FakeGateway
) -> None:
    gateway.fail_next(INVALID_TO)

    with pytest.raises(CommunicationFailed):
        send_sms(sms())

    assert store.consent.entries == []


def test_an_unreachable_gateway_that_is_safe_to_retry_keeps_the_sms_as_failed(
    send_sms: SendSmsHandler, store: InMemoryStore, gateway: FakeGateway
) -> None:
    # Twilio could not be reached at all (connection refused): it cannot have sent it.
    gateway.fail_next(
        GatewayError("Twilio could not be reached", unavailable=True, retry_safe=True)
    )

    with pytest.raises(CommunicationFailed) as failed:
        send_sms(sms())

    [message] = store.messages.rows.values()
    assert failed.value.unavailable is True
    assert (message.status, message.error_code, message.error_message) == (
        SmsStatus.FAILED,
        None,
        "Twilio could not be reached",
    )
    assert store.activities.rows == {}
    assert store.events.rows == {}


# The gateway may or may not have sent it (a timeout, a 5xx).

TIMED_OUT = GatewayError("Twilio did not answer in time", unavailable=True)


def test_an_unavailable_gateway_is_reported_as_unavailable(
    send_sms: SendSmsHandler, gateway: FakeGateway
) -> None:
    gateway.fail_next(TIMED_OUT)

    with pytest.raises(CommunicationFailed) as failed:
        send_sms(sms())

    assert failed.value.unavailable is True
    assert failed.value.messages == ["Failed to send SMS: Twilio did not answer in time"]


def test_an_unknown_outcome_leaves_the_sms_queued_for_its_status_callback(
    send_sms: SendSmsHandler, store: InMemoryStore, gateway: FakeGateway
) -> None:
    gateway.fail_next(TIMED_OUT)

    with pytest.raises(CommunicationFailed):
        send_sms(sms())

    [message] = store.messages.rows.values()
    assert (message.status, message.twilio_sid) == (SmsStatus.QUEUED, None)
    assert (message.error_code, message.error_message) == (None, None)


def test_an_unknown_outcome_records_no_activity_and_no_event(
    send_sms: SendSmsHandler, store: InMemoryStore, gateway: FakeGateway
) -> None:
    gateway.fail_next(TIMED_OUT)

    with pytest.raises(CommunicationFailed):
        send_sms(sms())

    assert store.activities.rows == {}
    assert store.events.rows == {}


# Opt-out.


OPTED_OUT = GatewayError("Attempt to send to unsubscribed recipient", code=21610)


def opt_out(store: InMemoryStore, phone: PhoneNumber, clock: FixedClock) -> None:
    with InMemoryUnitOfWork(store) as uow:
        uow.consent.append(
            ConsentEntry(phone, None, ConsentAction.OPT_OUT, ConsentSource.KEYWORD, clock.now())
        )
        uow.commit()


def test_sending_to_an_opted_out_number_is_refused(
    send_sms: SendSmsHandler, store: InMemoryStore, clock: FixedClock
) -> None:
    opt_out(store, PAT_PHONE, clock)

    with pytest.raises(RecipientOptedOut) as refused:
        send_sms(sms())

    assert any("opted out" in message for message in refused.value.messages)


def test_an_sms_to_an_opted_out_number_is_neither_sent_nor_recorded(
    send_sms: SendSmsHandler, store: InMemoryStore, gateway: FakeGateway, clock: FixedClock
) -> None:
    opt_out(store, PAT_PHONE, clock)

    with pytest.raises(RecipientOptedOut):
        send_sms(sms())

    assert gateway.sent == []
    assert_nothing_recorded(store)


def test_an_opted_out_number_is_recognised_however_it_is_typed(
    send_sms: SendSmsHandler, store: InMemoryStore, gateway: FakeGateway, clock: FixedClock
) -> None:
    opt_out(store, PAT_PHONE, clock)

    with pytest.raises(RecipientOptedOut):
        send_sms(sms(phone_number="(805) 123-4567"))

    assert gateway.sent == []


def test_an_opted_out_number_does_not_stop_sms_to_the_patients_other_numbers(
    store: InMemoryStore, gateway: FakeGateway, clock: FixedClock
) -> None:
    other = PhoneNumber("+18055550123")
    patients = InMemoryPatientDirectory(
        (Patient(id=PAT.id, clinic_id=1, phones=(PAT_PHONE, other)),)
    )
    send_sms = SendSmsHandler(
        InMemoryUnitOfWork(store), patients, InMemoryClinicDirectory(), gateway, clock
    )
    opt_out(store, PAT_PHONE, clock)

    send_sms(sms(phone_number=other.e164))

    assert [sent.to for sent in gateway.sent] == [other]


def test_a_number_that_opted_back_in_can_be_texted_again(
    send_sms: SendSmsHandler, store: InMemoryStore, gateway: FakeGateway, clock: FixedClock
) -> None:
    opt_out(store, PAT_PHONE, clock)
    with InMemoryUnitOfWork(store) as uow:
        uow.consent.append(
            ConsentEntry(PAT_PHONE, None, ConsentAction.OPT_IN, ConsentSource.KEYWORD, clock.now())
        )
        uow.commit()

    send_sms(sms())

    assert [sent.to for sent in gateway.sent] == [PAT_PHONE]


def test_twilios_21610_refusal_opts_the_number_out(
    send_sms: SendSmsHandler, store: InMemoryStore, gateway: FakeGateway, clock: FixedClock
) -> None:
    gateway.fail_next(OPTED_OUT)

    with pytest.raises(CommunicationFailed):
        send_sms(sms())

    [message] = store.messages.rows.values()
    assert store.consent.entries == [
        ConsentEntry(
            PAT_PHONE,
            None,
            ConsentAction.OPT_OUT,
            ConsentSource.CARRIER,
            clock.now(),
            sms_id=message.id,
            recorded_for=message.clinic_id,
            id=1,
        )
    ]


def test_twilios_21610_refusal_keeps_the_sms_as_failed_with_twilios_words(
    send_sms: SendSmsHandler, store: InMemoryStore, gateway: FakeGateway
) -> None:
    gateway.fail_next(OPTED_OUT)

    with pytest.raises(CommunicationFailed) as failed:
        send_sms(sms())

    [message] = store.messages.rows.values()
    assert (message.status, message.error_code, message.error_message) == (
        SmsStatus.FAILED,
        21610,
        "Attempt to send to unsubscribed recipient",
    )
    assert failed.value.code == 21610


def test_after_twilios_21610_refusal_the_next_sms_goes_nowhere(
    send_sms: SendSmsHandler, store: InMemoryStore, gateway: FakeGateway
) -> None:
    gateway.fail_next(OPTED_OUT)
    with pytest.raises(CommunicationFailed):
        send_sms(sms())

    with pytest.raises(RecipientOptedOut):
        send_sms(sms())

    assert gateway.sent == []
    assert len(store.messages.rows) == 1


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
def send_sms_failing(
    failing_store: InMemoryStore, gateway: FakeGateway, clock: FixedClock
) -> SendSmsHandler:
    return SendSmsHandler(
        InMemoryUnitOfWork(failing_store),
        InMemoryPatientDirectory((PAT,)),
        InMemoryClinicDirectory(),
        gateway,
        clock,
    )


def test_a_failure_while_recording_leaves_the_message_queued_without_a_sid(
    send_sms_failing: SendSmsHandler, failing_store: InMemoryStore
) -> None:
    with pytest.raises(RecordingFailed):
        send_sms_failing(sms())

    # The write-ahead record stays, as it was before the gateway was asked.
    [message] = failing_store.messages.rows.values()
    assert (message.status, message.twilio_sid) == (SmsStatus.QUEUED, None)


def test_a_failure_while_recording_leaves_no_activity(
    send_sms_failing: SendSmsHandler, failing_store: InMemoryStore
) -> None:
    with pytest.raises(RecordingFailed):
        send_sms_failing(sms())

    assert failing_store.activities.rows == {}
    assert failing_store.events.rows == {}


def test_a_failure_while_recording_happens_after_the_gateway_sent_it(
    send_sms_failing: SendSmsHandler, gateway: FakeGateway
) -> None:
    with pytest.raises(RecordingFailed):
        send_sms_failing(sms())

    assert [sent.record_id for sent in gateway.sent] == [1]


# A status callback may complete the record before the gateway answers.


class RacingGateway(FakeGateway):
    """Twilio's first status callback arrives while the send is still waiting for its answer."""

    def __init__(self, store: InMemoryStore, clock: FixedClock) -> None:
        super().__init__()
        self._apply = ApplyStatusHandler(
            InMemoryUnitOfWork(store), InMemoryClinicDirectory(), clock
        )

    def send_sms(self, sms: OutboundSms) -> SmsReceipt:
        receipt = super().send_sms(sms)
        self._apply(ApplyStatus(Channel.SMS, receipt.sid, "sent", record_id=sms.record_id))
        return receipt


@pytest.fixture
def send_sms_racing(store: InMemoryStore, clock: FixedClock) -> SendSmsHandler:
    gateway = RacingGateway(store, clock)
    return SendSmsHandler(
        InMemoryUnitOfWork(store),
        InMemoryPatientDirectory((PAT,)),
        InMemoryClinicDirectory(),
        gateway,
        clock,
    )


def test_a_send_completed_by_its_status_callback_has_one_activity_and_one_event(
    send_sms_racing: SendSmsHandler, store: InMemoryStore
) -> None:
    send_sms_racing(sms())

    assert len(store.activities.rows) == 1
    assert len(store.events.rows) == 1


def test_a_send_completed_by_its_status_callback_keeps_the_callbacks_status(
    send_sms_racing: SendSmsHandler, store: InMemoryStore
) -> None:
    sent = send_sms_racing(sms())

    [message] = store.messages.rows.values()
    assert message.status is SmsStatus.SENT
    assert sent.message.status is SmsStatus.SENT
    assert sent.activity.text_message_id == message.id
