"""The communication records: on record before the provider is asked, then accepted or refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TypeVar

from ecm_comms.domain.activities import Activity, ActivityStatus, Event
from ecm_comms.domain.channels import Channel, Direction
from ecm_comms.domain.communications import TextMessage, VoiceCall
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.sms_bodies import SmsBody
from ecm_comms.domain.statuses import CallStatus, SmsStatus

WRITTEN_AT = datetime(2024, 11, 27, 10, 0, tzinfo=UTC)
ANSWERED_AT = WRITTEN_AT + timedelta(seconds=1)
PATIENT = PhoneNumber("+18051234567")
CLINIC = PhoneNumber("+18059876543")
POOL = PhoneNumber("+18055550199")
SMS_SID = "SM" + "0" * 32
CALL_SID = "CA" + "0" * 32


def an_outbound_sms() -> TextMessage:
    return TextMessage.outbound(
        clinic_id=1,
        patient_id=123,
        to=PATIENT,
        from_=CLINIC,
        body=SmsBody("Hello"),
        sent_by_id=101,
        at=WRITTEN_AT,
    )


def an_outbound_call() -> VoiceCall:
    return VoiceCall.outbound(
        clinic_id=1, patient_id=123, to=PATIENT, from_=CLINIC, sent_by_id=101, at=WRITTEN_AT
    )


# Outbound, before the provider answers.


def test_an_outbound_sms_starts_queued_without_a_sid() -> None:
    message = an_outbound_sms()

    assert (message.status, message.twilio_sid) == (SmsStatus.QUEUED, None)
    assert (message.direction, message.sent_by_id) == (Direction.OUTBOUND, 101)
    assert message.created_at == message.updated_at == WRITTEN_AT


def test_an_outbound_call_starts_queued_without_a_sid() -> None:
    call = an_outbound_call()

    assert (call.status, call.twilio_sid) == (CallStatus.QUEUED, None)
    assert (call.direction, call.sent_by_id) == (Direction.OUTBOUND, 101)
    assert call.duration_seconds is None


# The provider accepts.


def test_an_accepted_sms_takes_the_providers_sid_status_and_sender() -> None:
    message = an_outbound_sms()

    message.accept(SMS_SID, SmsStatus.SENDING, POOL, ANSWERED_AT)

    assert (message.twilio_sid, message.status, message.from_) == (
        SMS_SID,
        SmsStatus.SENDING,
        POOL,
    )
    assert (message.created_at, message.updated_at) == (WRITTEN_AT, ANSWERED_AT)


def test_an_sms_accepted_as_queued_stays_queued_and_is_updated() -> None:
    message = an_outbound_sms()

    message.accept(SMS_SID, SmsStatus.QUEUED, CLINIC, ANSWERED_AT)

    assert (message.status, message.updated_at) == (SmsStatus.QUEUED, ANSWERED_AT)


def test_an_accepted_call_takes_the_providers_sid_status_and_sender() -> None:
    call = an_outbound_call()

    call.accept(CALL_SID, CallStatus.RINGING, POOL, ANSWERED_AT)

    assert (call.twilio_sid, call.status, call.from_, call.updated_at) == (
        CALL_SID,
        CallStatus.RINGING,
        POOL,
        ANSWERED_AT,
    )


def test_a_call_accepted_as_initiated_stays_queued_as_the_two_are_of_equal_rank() -> None:
    call = an_outbound_call()

    call.accept(CALL_SID, CallStatus.INITIATED, CLINIC, ANSWERED_AT)

    assert (call.status, call.updated_at) == (CallStatus.QUEUED, ANSWERED_AT)


# The provider refuses.


def test_a_refused_sms_is_failed_with_the_providers_code_and_words() -> None:
    message = an_outbound_sms()

    message.refuse(21211, "The 'To' number is not a valid phone number", ANSWERED_AT)

    assert (message.status, message.error_code, message.error_message) == (
        SmsStatus.FAILED,
        21211,
        "The 'To' number is not a valid phone number",
    )
    assert (message.twilio_sid, message.updated_at) == (None, ANSWERED_AT)


def test_a_refused_call_is_failed_with_the_providers_code_and_words() -> None:
    call = an_outbound_call()

    call.refuse(None, "Twilio could not be reached", ANSWERED_AT)

    assert (call.status, call.error_code, call.error_message) == (
        CallStatus.FAILED,
        None,
        "Twilio could not be reached",
    )


def test_a_message_that_failed_after_the_provider_took_it_was_not_refused() -> None:
    message = an_outbound_sms()
    message.accept(SMS_SID, SmsStatus.QUEUED, CLINIC, ANSWERED_AT)

    message.apply_status(SmsStatus.FAILED, ANSWERED_AT, 30008, "Unknown error")

    assert message.status is SmsStatus.FAILED


# Statuses with errors and durations.


def test_a_status_that_moves_keeps_its_error() -> None:
    message = an_outbound_sms()

    message.apply_status(SmsStatus.UNDELIVERED, ANSWERED_AT, 30003, "Unreachable handset")

    assert (message.error_code, message.error_message) == (30003, "Unreachable handset")


def test_a_status_that_does_not_move_leaves_the_error_alone() -> None:
    message = an_outbound_sms()
    message.apply_status(SmsStatus.UNDELIVERED, ANSWERED_AT, 30003, "Unreachable handset")

    moved = message.apply_status(SmsStatus.FAILED, ANSWERED_AT, 30005, "Unknown destination")

    assert moved is False
    assert (message.error_code, message.error_message) == (30003, "Unreachable handset")


def test_a_status_without_an_error_keeps_an_earlier_one() -> None:
    message = an_outbound_sms()
    message.apply_status(SmsStatus.SENT, ANSWERED_AT, 30001, "Queue overflow")

    message.apply_status(SmsStatus.DELIVERED, ANSWERED_AT)

    assert (message.error_code, message.error_message) == (30001, "Queue overflow")


def test_a_completed_call_keeps_its_duration() -> None:
    call = an_outbound_call()

    call.apply_status(CallStatus.COMPLETED, ANSWERED_AT, duration_seconds=42)

    assert (call.status, call.duration_seconds) == (CallStatus.COMPLETED, 42)


def test_a_stale_call_status_does_not_change_the_duration() -> None:
    # DESIGN.md: "A callback of lower or equal rank than the stored status changes nothing".
    call = an_outbound_call()
    call.apply_status(CallStatus.COMPLETED, ANSWERED_AT, duration_seconds=42)

    call.apply_status(CallStatus.IN_PROGRESS, ANSWERED_AT, duration_seconds=7)

    assert call.duration_seconds == 42


def test_a_repeated_final_call_status_does_not_change_the_duration() -> None:
    call = an_outbound_call()
    call.apply_status(CallStatus.COMPLETED, ANSWERED_AT, duration_seconds=42)

    call.apply_status(CallStatus.COMPLETED, ANSWERED_AT, duration_seconds=43)

    assert call.duration_seconds == 42


def test_a_failed_call_keeps_its_error() -> None:
    call = an_outbound_call()

    call.apply_status(CallStatus.FAILED, ANSWERED_AT, error_code=13227, error_message="No perm")

    assert (call.error_code, call.error_message) == (13227, "No perm")


# Inbound.


def test_an_inbound_sms_is_received_with_its_sid() -> None:
    message = TextMessage.inbound(
        twilio_sid=SMS_SID,
        clinic_id=None,
        patient_id=None,
        from_=PATIENT,
        to=CLINIC,
        body=SmsBody("STOP"),
        at=WRITTEN_AT,
    )

    assert (message.direction, message.status, message.twilio_sid) == (
        Direction.INBOUND,
        SmsStatus.RECEIVED,
        SMS_SID,
    )
    assert (message.from_, message.to, message.sent_by_id) == (PATIENT, CLINIC, None)


def test_an_inbound_call_has_the_status_it_came_with() -> None:
    call = VoiceCall.inbound(
        twilio_sid=CALL_SID,
        clinic_id=1,
        patient_id=123,
        from_=PATIENT,
        to=CLINIC,
        status=CallStatus.RINGING,
        at=WRITTEN_AT,
    )

    assert (call.direction, call.status, call.twilio_sid) == (
        Direction.INBOUND,
        CallStatus.RINGING,
        CALL_SID,
    )


# Activities and events.


R = TypeVar("R", TextMessage, VoiceCall)


def stored(record: R, record_id: int = 7) -> R:
    """The record as the repository gives it back: with an id."""
    record.id = record_id
    return record


def test_the_activity_of_an_sms_links_to_it() -> None:
    message = stored(an_outbound_sms())

    activity = Activity.for_communication(message, performed_by_id=101, assigned_to_id=102)

    assert activity.activity_type is Channel.SMS
    assert activity.status is ActivityStatus.CREATED
    assert (activity.text_message_id, activity.voice_call_id) == (7, None)
    assert (activity.clinic_id, activity.patient_id) == (1, 123)
    assert (activity.performed_by_id, activity.assigned_to_id) == (101, 102)
    assert activity.created_at == WRITTEN_AT


def test_the_activity_of_a_call_links_to_it() -> None:
    call = stored(an_outbound_call())

    activity = Activity.for_communication(call, performed_by_id=None, assigned_to_id=None)

    assert activity.activity_type is Channel.CALL
    assert (activity.text_message_id, activity.voice_call_id) == (None, 7)
    assert (activity.performed_by_id, activity.assigned_to_id) == (None, None)


def test_the_event_of_an_activity_reports_it() -> None:
    activity = Activity.for_communication(
        stored(an_outbound_call()), performed_by_id=101, assigned_to_id=101
    )
    activity.id = 3

    event = Event.for_activity(activity)

    assert (event.event_type, event.activity_id) == (Channel.CALL, 3)
    assert (event.clinic_id, event.patient_id, event.occurred_at) == (1, 123, WRITTEN_AT)
