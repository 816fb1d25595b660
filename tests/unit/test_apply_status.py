"""ApplyStatus: Twilio's status callbacks are all logged; a record's status only moves forward."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecm_comms.adapters.memory import (
    FakeGateway,
    FixedClock,
    InMemoryClinicDirectory,
    InMemoryPatientDirectory,
    InMemoryStore,
    InMemoryUnitOfWork,
)
from ecm_comms.domain.channels import Channel
from ecm_comms.domain.commands import ApplyStatus, InitiateCall, SendSms
from ecm_comms.domain.communications import StatusReport, TextMessage, VoiceCall
from ecm_comms.domain.consent import ConsentAction, ConsentEntry, ConsentSource
from ecm_comms.domain.errors import CommunicationFailed, GatewayError
from ecm_comms.domain.people import Patient, User
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.statuses import CallStatus, SmsStatus
from ecm_comms.domain.use_cases.apply_status import ApplyStatusHandler
from ecm_comms.domain.use_cases.initiate_call import InitiateCallHandler
from ecm_comms.domain.use_cases.send_sms import SendSmsHandler

DANA = User(id=101, clinic_id=1, name="Dana Coordinator")
PAT_PHONE = PhoneNumber("+18051234567")
PAT = Patient(id=123, clinic_id=1, phones=(PAT_PHONE,), coordinator_id=DANA.id)
UNKNOWN_SID = "SM" + "f" * 32
TIMED_OUT = GatewayError("Twilio did not answer in time", unavailable=True)
CALLBACK_DELAY = timedelta(seconds=5)


@dataclass
class World:
    """A clinic's store with the handlers that write to it."""

    store: InMemoryStore
    gateway: FakeGateway
    clock: FixedClock

    @classmethod
    def new(cls) -> World:
        return cls(InMemoryStore(), FakeGateway(), FixedClock())

    def _uow(self) -> InMemoryUnitOfWork:
        return InMemoryUnitOfWork(self.store)

    def send_sms(self) -> TextMessage:
        """An SMS Twilio took: queued, with its sid."""
        handler = SendSmsHandler(
            self._uow(),
            InMemoryPatientDirectory((PAT,)),
            InMemoryClinicDirectory(),
            self.gateway,
            self.clock,
        )
        return handler(SendSms(PAT.id, PAT_PHONE.e164, "See you at 10.", DANA)).message

    def send_sms_without_an_answer(self) -> TextMessage:
        """An SMS whose send timed out: on record, queued, with no sid."""
        self.gateway.fail_next(TIMED_OUT)
        with pytest.raises(CommunicationFailed):
            self.send_sms()
        [message] = self.store.messages.rows.values()
        return message

    def start_call(self) -> VoiceCall:
        handler = InitiateCallHandler(
            self._uow(),
            InMemoryPatientDirectory((PAT,)),
            InMemoryClinicDirectory(),
            self.gateway,
            self.clock,
        )
        return handler(InitiateCall(PAT.id, PAT_PHONE.e164, DANA)).call

    def start_call_without_an_answer(self) -> VoiceCall:
        self.gateway.fail_next(TIMED_OUT)
        with pytest.raises(CommunicationFailed):
            self.start_call()
        [call] = self.store.calls.rows.values()
        return call

    def apply(self, command: ApplyStatus) -> None:
        self.clock.advance(CALLBACK_DELAY)
        ApplyStatusHandler(self._uow(), InMemoryClinicDirectory(), self.clock)(command)

    @property
    def message(self) -> TextMessage:
        [message] = self.store.messages.rows.values()
        return message

    @property
    def call(self) -> VoiceCall:
        [call] = self.store.calls.rows.values()
        return call

    @property
    def log(self) -> list[StatusReport]:
        return self.store.status_log.reports


@pytest.fixture
def world() -> World:
    return World.new()


def sms_status(
    sid: str,
    status: str,
    *,
    record_id: int | None = None,
    error_code: int | None = None,
    error_message: str | None = None,
) -> ApplyStatus:
    return ApplyStatus(Channel.SMS, sid, status, record_id, error_code, error_message)


# SMS: moving forward.


def test_a_higher_status_moves_the_stored_message_forward(world: World) -> None:
    sid = world.send_sms().twilio_sid
    assert sid is not None

    world.apply(sms_status(sid, "sent"))

    assert len(world.store.activities.rows) == 1  # its own, from the send: none added
    assert world.message.status is SmsStatus.SENT
    assert world.message.updated_at == world.clock.now()


def test_a_stale_sms_callback_changes_nothing(world: World) -> None:
    sid = world.send_sms().twilio_sid
    assert sid is not None
    world.apply(sms_status(sid, "delivered"))
    delivered_at = world.clock.now()

    world.apply(sms_status(sid, "sent"))

    assert (world.message.status, world.message.updated_at) == (SmsStatus.DELIVERED, delivered_at)


def test_a_final_sms_status_is_not_replaced_by_another_of_equal_rank(world: World) -> None:
    sid = world.send_sms().twilio_sid
    assert sid is not None
    world.apply(sms_status(sid, "delivered"))

    world.apply(sms_status(sid, "failed"))

    assert world.message.status is SmsStatus.DELIVERED


def test_a_delivered_message_can_be_read(world: World) -> None:
    sid = world.send_sms().twilio_sid
    assert sid is not None
    world.apply(sms_status(sid, "delivered"))

    world.apply(sms_status(sid, "read"))

    assert world.message.status is SmsStatus.READ


def test_an_undelivered_message_cannot_be_read(world: World) -> None:
    sid = world.send_sms().twilio_sid
    assert sid is not None
    world.apply(sms_status(sid, "undelivered"))

    world.apply(sms_status(sid, "read"))

    assert world.message.status is SmsStatus.UNDELIVERED


# SMS: the log.


def test_an_sms_callback_is_logged_as_twilio_sent_it(world: World) -> None:
    message = world.send_sms()
    assert message.twilio_sid is not None

    world.apply(
        sms_status(
            message.twilio_sid,
            "undelivered",
            record_id=message.id,
            error_code=30003,
            error_message="Unreachable destination handset",
        )
    )

    assert world.log == [
        StatusReport(
            Channel.SMS,
            message.twilio_sid,
            "undelivered",
            world.clock.now(),
            record_id=message.id,
            error_code=30003,
            error_message="Unreachable destination handset",
        )
    ]


def test_a_stale_sms_callback_is_still_logged(world: World) -> None:
    sid = world.send_sms().twilio_sid
    assert sid is not None
    world.apply(sms_status(sid, "delivered"))

    world.apply(sms_status(sid, "sent"))

    assert [report.status for report in world.log] == ["delivered", "sent"]


def test_a_repeated_sms_callback_is_logged_once(world: World) -> None:
    sid = world.send_sms().twilio_sid
    assert sid is not None
    world.apply(sms_status(sid, "sent"))

    world.apply(sms_status(sid, "sent"))

    assert [report.status for report in world.log] == ["sent"]


def test_a_repeated_sms_callback_changes_nothing(world: World) -> None:
    sid = world.send_sms().twilio_sid
    assert sid is not None
    world.apply(sms_status(sid, "sent"))
    sent_at = world.clock.now()

    world.apply(sms_status(sid, "sent"))

    assert world.message.updated_at == sent_at


def test_the_same_status_of_two_messages_is_logged_for_each(world: World) -> None:
    first, second = world.send_sms().twilio_sid, world.send_sms().twilio_sid
    assert first is not None
    assert second is not None

    world.apply(sms_status(first, "sent"))
    world.apply(sms_status(second, "sent"))

    assert [report.twilio_sid for report in world.log] == [first, second]


# SMS: what the service does not know.


def test_a_callback_for_an_unknown_sid_is_logged(world: World) -> None:
    world.apply(sms_status(UNKNOWN_SID, "delivered"))

    assert [(report.twilio_sid, report.status) for report in world.log] == [
        (UNKNOWN_SID, "delivered")
    ]


def test_a_callback_for_an_unknown_sid_changes_no_message(world: World) -> None:
    world.send_sms()

    world.apply(sms_status(UNKNOWN_SID, "delivered"))

    assert world.message.status is SmsStatus.QUEUED


def test_an_unknown_status_is_logged(world: World) -> None:
    sid = world.send_sms().twilio_sid
    assert sid is not None

    world.apply(sms_status(sid, "brand_new_status"))

    assert [report.status for report in world.log] == ["brand_new_status"]


def test_an_unknown_status_changes_nothing(world: World) -> None:
    message = world.send_sms()
    assert message.twilio_sid is not None
    sent_at = message.updated_at

    world.apply(sms_status(message.twilio_sid, "brand_new_status"))

    assert (world.message.status, world.message.updated_at) == (SmsStatus.QUEUED, sent_at)


# SMS: errors.


def test_twilios_error_is_kept_when_the_status_moves(world: World) -> None:
    sid = world.send_sms().twilio_sid
    assert sid is not None

    world.apply(
        sms_status(sid, "undelivered", error_code=30003, error_message="Unreachable handset")
    )

    assert (world.message.error_code, world.message.error_message) == (
        30003,
        "Unreachable handset",
    )


def test_an_error_on_a_callback_that_does_not_move_the_status_is_not_kept(world: World) -> None:
    sid = world.send_sms().twilio_sid
    assert sid is not None
    world.apply(sms_status(sid, "undelivered", error_code=30003, error_message="Unreachable"))

    world.apply(sms_status(sid, "failed", error_code=30005, error_message="Unknown"))

    assert (world.message.error_code, world.message.error_message) == (30003, "Unreachable")


def test_a_callback_with_error_21610_opts_the_recipient_out(world: World) -> None:
    sid = world.send_sms().twilio_sid
    assert sid is not None

    world.apply(sms_status(sid, "failed", error_code=21610, error_message="Unsubscribed"))

    assert world.store.consent.entries == [
        ConsentEntry(
            PAT_PHONE,
            None,
            ConsentAction.OPT_OUT,
            ConsentSource.CARRIER,
            world.clock.now(),
            sms_id=world.message.id,
            recorded_for=world.message.clinic_id,
            id=1,
        )
    ]


def test_a_callback_with_another_error_does_not_opt_the_recipient_out(world: World) -> None:
    sid = world.send_sms().twilio_sid
    assert sid is not None

    world.apply(sms_status(sid, "undelivered", error_code=30003))

    assert world.store.consent.entries == []


def test_a_callback_with_error_21610_for_an_unknown_sid_opts_no_one_out(world: World) -> None:
    world.apply(sms_status(UNKNOWN_SID, "failed", error_code=21610))

    assert world.store.consent.entries == []


# SMS: completing a send that never heard back.


def test_a_callback_naming_an_unanswered_sms_completes_it_with_its_sid(world: World) -> None:
    message = world.send_sms_without_an_answer()

    world.apply(sms_status("SM" + "1" * 32, "sent", record_id=message.id))

    assert len(world.store.activities.rows) == 1
    assert (world.message.twilio_sid, world.message.status) == ("SM" + "1" * 32, SmsStatus.SENT)


def test_a_completed_sms_gets_its_activity_and_event(world: World) -> None:
    message = world.send_sms_without_an_answer()

    world.apply(sms_status("SM" + "1" * 32, "sent", record_id=message.id))

    [activity] = world.store.activities.rows.values()
    [event] = world.store.events.rows.values()
    assert activity.text_message_id == message.id
    assert (activity.performed_by_id, activity.assigned_to_id) == (DANA.id, DANA.id)
    assert activity.created_at == message.created_at
    assert (event.activity_id, event.event_type) == (activity.id, Channel.SMS)


def test_a_callback_that_does_not_move_the_status_still_completes_the_sms(world: World) -> None:
    message = world.send_sms_without_an_answer()

    world.apply(sms_status("SM" + "1" * 32, "queued", record_id=message.id))

    assert world.message.status is SmsStatus.QUEUED
    assert world.message.twilio_sid == "SM" + "1" * 32
    assert len(world.store.activities.rows) == 1


def test_later_callbacks_for_a_completed_sms_add_no_activity(world: World) -> None:
    message = world.send_sms_without_an_answer()
    sid = "SM" + "1" * 32
    world.apply(sms_status(sid, "sent", record_id=message.id))

    world.apply(sms_status(sid, "delivered", record_id=message.id))
    world.apply(sms_status(sid, "delivered", record_id=message.id))

    assert world.message.status is SmsStatus.DELIVERED
    assert len(world.store.activities.rows) == 1
    assert len(world.store.events.rows) == 1


def test_a_completed_sms_is_found_by_its_sid_afterwards(world: World) -> None:
    message = world.send_sms_without_an_answer()
    sid = "SM" + "1" * 32
    world.apply(sms_status(sid, "sent", record_id=message.id))

    world.apply(sms_status(sid, "delivered"))

    assert world.message.status is SmsStatus.DELIVERED


def test_a_callback_naming_an_sms_that_has_a_sid_under_another_sid_is_not_applied(
    world: World,
) -> None:
    message = world.send_sms()
    original_sid = message.twilio_sid

    world.apply(sms_status(UNKNOWN_SID, "delivered", record_id=message.id))

    assert (world.message.twilio_sid, world.message.status) == (original_sid, SmsStatus.QUEUED)


def test_an_sms_never_heard_of_by_sid_or_id_is_reported_unknown(world: World) -> None:
    world.apply(sms_status(UNKNOWN_SID, "sent", record_id=999))

    assert world.store.messages.rows == {}
    assert world.store.activities.rows == {}


# Calls.


def call_status(
    sid: str,
    status: str,
    *,
    record_id: int | None = None,
    duration_seconds: int | None = None,
    error_code: int | None = None,
    error_message: str | None = None,
) -> ApplyStatus:
    return ApplyStatus(
        Channel.CALL, sid, status, record_id, error_code, error_message, duration_seconds
    )


def test_a_higher_status_moves_the_stored_call_forward(world: World) -> None:
    sid = world.start_call().twilio_sid
    assert sid is not None

    world.apply(call_status(sid, "in-progress"))

    assert (world.call.status, world.call.updated_at) == (CallStatus.IN_PROGRESS, world.clock.now())


def test_a_completed_call_keeps_its_duration(world: World) -> None:
    sid = world.start_call().twilio_sid
    assert sid is not None

    world.apply(call_status(sid, "completed", duration_seconds=42))

    assert (world.call.status, world.call.duration_seconds) == (CallStatus.COMPLETED, 42)


def test_a_stale_call_callback_changes_nothing(world: World) -> None:
    sid = world.start_call().twilio_sid
    assert sid is not None
    world.apply(call_status(sid, "completed", duration_seconds=42))

    world.apply(call_status(sid, "ringing"))

    assert (world.call.status, world.call.duration_seconds) == (CallStatus.COMPLETED, 42)


def test_a_repeated_completed_callback_keeps_the_duration_that_was_logged(world: World) -> None:
    # The log keeps the first "completed" (its duration 42); the record must agree with it.
    sid = world.start_call().twilio_sid
    assert sid is not None
    world.apply(call_status(sid, "completed", duration_seconds=42))

    world.apply(call_status(sid, "completed", duration_seconds=43))

    assert [report.duration_seconds for report in world.log] == [42]
    assert world.call.duration_seconds == 42


def test_a_failed_call_keeps_twilios_error(world: World) -> None:
    sid = world.start_call().twilio_sid
    assert sid is not None

    world.apply(call_status(sid, "failed", error_code=13227, error_message="No permission"))

    assert (world.call.status, world.call.error_code, world.call.error_message) == (
        CallStatus.FAILED,
        13227,
        "No permission",
    )


def test_a_call_callback_is_logged_with_its_duration(world: World) -> None:
    call = world.start_call()
    assert call.twilio_sid is not None

    world.apply(call_status(call.twilio_sid, "completed", duration_seconds=42))

    assert world.log == [
        StatusReport(
            Channel.CALL, call.twilio_sid, "completed", world.clock.now(), duration_seconds=42
        )
    ]


def test_a_repeated_call_callback_is_logged_once(world: World) -> None:
    sid = world.start_call().twilio_sid
    assert sid is not None
    world.apply(call_status(sid, "ringing"))

    world.apply(call_status(sid, "ringing"))

    assert [report.status for report in world.log] == ["ringing"]


def test_a_call_callback_for_an_unknown_sid_is_logged_and_changes_no_call(world: World) -> None:
    world.start_call()

    world.apply(call_status("CA" + "f" * 32, "completed"))

    assert world.call.status is CallStatus.QUEUED
    assert [report.status for report in world.log] == ["completed"]


def test_an_unknown_call_status_is_logged_and_changes_nothing(world: World) -> None:
    sid = world.start_call().twilio_sid
    assert sid is not None

    world.apply(call_status(sid, "brand_new_status"))

    assert world.call.status is CallStatus.QUEUED
    assert [report.status for report in world.log] == ["brand_new_status"]


def test_a_call_callback_with_error_21610_does_not_opt_the_number_out(world: World) -> None:
    sid = world.start_call().twilio_sid
    assert sid is not None

    world.apply(call_status(sid, "failed", error_code=21610))

    assert world.store.consent.entries == []


def test_a_callback_naming_an_unanswered_call_completes_it(world: World) -> None:
    call = world.start_call_without_an_answer()
    sid = "CA" + "1" * 32

    world.apply(call_status(sid, "ringing", record_id=call.id))

    assert (world.call.twilio_sid, world.call.status) == (sid, CallStatus.RINGING)
    [activity] = world.store.activities.rows.values()
    [event] = world.store.events.rows.values()
    assert (activity.voice_call_id, activity.performed_by_id) == (call.id, DANA.id)
    assert (event.activity_id, event.event_type) == (activity.id, Channel.CALL)


# Properties: any callbacks, in any order, twice or not, end at the highest rank.

# Statuses a message that was read cannot also have had.
_NOT_WITH_READ = {
    SmsStatus.UNDELIVERED,
    SmsStatus.FAILED,
    SmsStatus.CANCELED,
    SmsStatus.PARTIALLY_DELIVERED,
    SmsStatus.RECEIVED,
}
# Ours alone: no callback reports it (one that did would change nothing).
_REPORTED = [s for s in SmsStatus if s is not SmsStatus.SKIPPED]
_UNREAD: list[SmsStatus] = [s for s in _REPORTED if s is not SmsStatus.READ]
_WITH_READ: list[SmsStatus] = [s for s in _REPORTED if s not in _NOT_WITH_READ]


@st.composite
def sms_callbacks(draw: st.DrawFn) -> list[SmsStatus]:
    """A consistent multiset of SMS statuses, in any order, with duplicates."""
    histories: list[list[SmsStatus]] = [_UNREAD, _WITH_READ]
    allowed = draw(st.sampled_from(histories))
    return draw(st.lists(st.sampled_from(allowed), max_size=10))


S = TypeVar("S", SmsStatus, CallStatus)


def expected_end(callbacks: list[S], start: S) -> S:
    """The first callback of the highest rank, or ``start`` if none outranks it."""
    top = max((s.rank for s in callbacks), default=start.rank)
    if top <= start.rank:
        return start
    return next(s for s in callbacks if s.rank == top)


@settings(max_examples=200, deadline=None)
@given(sms_callbacks())
def test_sms_callbacks_in_any_order_end_at_the_highest_rank_each_status_logged_once(
    callbacks: list[SmsStatus],
) -> None:
    world = World.new()
    sid = world.send_sms().twilio_sid
    assert sid is not None

    for status in callbacks:
        world.apply(sms_status(sid, status.value))

    assert world.message.status is expected_end(callbacks, SmsStatus.QUEUED)
    assert world.message.status.rank == max(s.rank for s in [SmsStatus.QUEUED, *callbacks])
    logged = [report.status for report in world.log]
    assert sorted(logged) == sorted({status.value for status in callbacks})


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(SmsStatus), min_size=1, max_size=10))
def test_callbacks_completing_an_unanswered_sms_record_one_activity(
    callbacks: list[SmsStatus],
) -> None:
    world = World.new()
    message = world.send_sms_without_an_answer()
    sid = "SM" + "1" * 32

    for status in callbacks:
        world.apply(sms_status(sid, status.value, record_id=message.id))

    assert world.message.twilio_sid == sid
    assert len(world.store.activities.rows) == 1
    assert len(world.store.events.rows) == 1


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(CallStatus), max_size=10))
def test_call_callbacks_in_any_order_end_at_the_highest_rank_each_status_logged_once(
    callbacks: list[CallStatus],
) -> None:
    world = World.new()
    sid = world.start_call().twilio_sid
    assert sid is not None

    for status in callbacks:
        world.apply(call_status(sid, status.value))

    assert world.call.status is expected_end(callbacks, CallStatus.QUEUED)
    assert world.call.status.rank == max(s.rank for s in [CallStatus.QUEUED, *callbacks])
    logged = [report.status for report in world.log]
    assert sorted(logged) == sorted({status.value for status in callbacks})
