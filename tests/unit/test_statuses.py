"""Statuses only move forward: a callback of lower or equal rank changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ecm_comms.domain.communications import TextMessage, VoiceCall
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.sms_bodies import SmsBody
from ecm_comms.domain.statuses import CallStatus, SmsStatus

SENT_AT = datetime(2024, 11, 27, 10, 0, tzinfo=UTC)
CALLBACK_AT = SENT_AT + timedelta(seconds=5)


SMS_SID = "SM" + "0" * 32
CALL_SID = "CA" + "0" * 32
CLINIC = PhoneNumber("+18059876543")


def a_message(status: SmsStatus = SmsStatus.QUEUED) -> TextMessage:
    """An outbound SMS the provider took, then reported as ``status``."""
    message = TextMessage.outbound(
        clinic_id=1,
        patient_id=123,
        to=PhoneNumber("+18051234567"),
        from_=CLINIC,
        body=SmsBody("Hello"),
        sent_by_id=101,
        at=SENT_AT,
    )
    message.accept(SMS_SID, status, CLINIC, SENT_AT)
    return message


def a_call(status: CallStatus = CallStatus.QUEUED) -> VoiceCall:
    """An outbound call the provider took, then reported as ``status``."""
    call = VoiceCall.outbound(
        clinic_id=1,
        patient_id=123,
        to=PhoneNumber("+18051234567"),
        from_=CLINIC,
        sent_by_id=101,
        at=SENT_AT,
    )
    call.accept(CALL_SID, status, CLINIC, SENT_AT)
    return call


# The ranks of DESIGN.md, "Statuses: forward only".


@pytest.mark.parametrize(
    ("status", "rank"),
    [
        (SmsStatus.ACCEPTED, 0),
        (SmsStatus.SCHEDULED, 0),
        (SmsStatus.QUEUED, 0),
        (SmsStatus.SENDING, 1),
        (SmsStatus.SENT, 2),
        (SmsStatus.DELIVERED, 3),
        (SmsStatus.UNDELIVERED, 3),
        (SmsStatus.FAILED, 3),
        (SmsStatus.CANCELED, 3),
        (SmsStatus.READ, 4),
    ],
)
def test_an_sms_status_has_the_rank_of_the_design(status: SmsStatus, rank: int) -> None:
    assert status.rank == rank


@pytest.mark.parametrize(
    ("status", "rank"),
    [
        (CallStatus.QUEUED, 0),
        (CallStatus.INITIATED, 0),
        (CallStatus.RINGING, 1),
        (CallStatus.IN_PROGRESS, 2),
        (CallStatus.COMPLETED, 3),
        (CallStatus.BUSY, 3),
        (CallStatus.NO_ANSWER, 3),
        (CallStatus.FAILED, 3),
        (CallStatus.CANCELED, 3),
    ],
)
def test_a_call_status_has_the_rank_of_the_design(status: CallStatus, rank: int) -> None:
    assert status.rank == rank


@pytest.mark.parametrize(
    ("status", "final"),
    [(SmsStatus.SENT, False), (SmsStatus.DELIVERED, True), (SmsStatus.READ, True)],
)
def test_sms_statuses_of_rank_3_and_above_are_final(status: SmsStatus, final: bool) -> None:
    assert status.is_final is final


@pytest.mark.parametrize(
    ("status", "final"), [(CallStatus.IN_PROGRESS, False), (CallStatus.NO_ANSWER, True)]
)
def test_call_statuses_of_rank_3_are_final(status: CallStatus, final: bool) -> None:
    assert status.is_final is final


# Applying a status to a text message.


def test_a_higher_ranked_status_moves_a_message_forward() -> None:
    message = a_message(SmsStatus.QUEUED)

    moved = message.apply_status(SmsStatus.SENT, CALLBACK_AT)

    assert (moved, message.status, message.updated_at) == (True, SmsStatus.SENT, CALLBACK_AT)


def test_a_stale_status_callback_changes_nothing() -> None:
    message = a_message(SmsStatus.DELIVERED)

    moved = message.apply_status(SmsStatus.SENT, CALLBACK_AT)

    assert (moved, message.status, message.updated_at) == (False, SmsStatus.DELIVERED, SENT_AT)


def test_a_status_of_equal_rank_changes_nothing() -> None:
    message = a_message(SmsStatus.DELIVERED)

    moved = message.apply_status(SmsStatus.FAILED, CALLBACK_AT)

    assert (moved, message.status, message.updated_at) == (False, SmsStatus.DELIVERED, SENT_AT)


def test_a_repeated_status_callback_changes_nothing() -> None:
    message = a_message(SmsStatus.SENT)

    moved = message.apply_status(SmsStatus.SENT, CALLBACK_AT)

    assert (moved, message.status, message.updated_at) == (False, SmsStatus.SENT, SENT_AT)


def test_a_failed_message_cannot_be_read() -> None:
    message = a_message(SmsStatus.FAILED)

    moved = message.apply_status(SmsStatus.READ, CALLBACK_AT)

    assert (moved, message.status, message.updated_at) == (False, SmsStatus.FAILED, SENT_AT)


@pytest.mark.parametrize("status", [SmsStatus.SENT, SmsStatus.DELIVERED])
def test_a_sent_or_delivered_message_can_be_read(status: SmsStatus) -> None:
    # A "delivered" callback may arrive after "read"; reading from "sent" is not skipping a step.
    message = a_message(status)

    moved = message.apply_status(SmsStatus.READ, CALLBACK_AT)

    assert (moved, message.status, message.updated_at) == (True, SmsStatus.READ, CALLBACK_AT)


# Applying a status to a voice call.


def test_a_higher_ranked_status_moves_a_call_forward() -> None:
    call = a_call(CallStatus.RINGING)

    moved = call.apply_status(CallStatus.IN_PROGRESS, CALLBACK_AT)

    assert (moved, call.status, call.updated_at) == (True, CallStatus.IN_PROGRESS, CALLBACK_AT)


def test_a_stale_call_status_callback_changes_nothing() -> None:
    call = a_call(CallStatus.COMPLETED)

    moved = call.apply_status(CallStatus.RINGING, CALLBACK_AT)

    assert (moved, call.status, call.updated_at) == (False, CallStatus.COMPLETED, SENT_AT)


def test_a_call_status_of_equal_rank_changes_nothing() -> None:
    call = a_call(CallStatus.BUSY)

    moved = call.apply_status(CallStatus.COMPLETED, CALLBACK_AT)

    assert (moved, call.status, call.updated_at) == (False, CallStatus.BUSY, SENT_AT)


# Properties: callbacks in any order end at the highest-ranked status, never moving back.

# Statuses a message that was read cannot also have had.
_NOT_WITH_READ = {
    SmsStatus.UNDELIVERED,
    SmsStatus.FAILED,
    SmsStatus.CANCELED,
    SmsStatus.PARTIALLY_DELIVERED,
    SmsStatus.RECEIVED,
}
# Ours alone: no callback reports it (see test_no_callback_makes_a_message_skipped).
_REPORTED = [s for s in SmsStatus if s is not SmsStatus.SKIPPED]
_BEFORE_OR_WITH_READ = [s for s in _REPORTED if s not in _NOT_WITH_READ and s is not SmsStatus.READ]


@st.composite
def sms_callbacks(draw: st.DrawFn) -> list[SmsStatus]:
    """A consistent history of SMS statuses, in any order."""
    unread = st.lists(st.sampled_from([s for s in _REPORTED if s is not SmsStatus.READ]))
    read = st.builds(
        lambda before, reads: before + [SmsStatus.READ] * reads,
        st.lists(st.sampled_from(_BEFORE_OR_WITH_READ)),
        st.integers(1, 2),
    )
    history = draw(st.one_of(unread, read))
    return draw(st.permutations(history))


@settings(max_examples=200)
@given(sms_callbacks())
def test_sms_callbacks_in_any_order_end_at_the_highest_rank(callbacks: list[SmsStatus]) -> None:
    message = a_message(SmsStatus.QUEUED)
    ranks = [message.status.rank]

    for at, status in enumerate(callbacks, start=1):
        message.apply_status(status, SENT_AT + timedelta(seconds=at))
        ranks.append(message.status.rank)

    assert ranks == sorted(ranks), "the rank went back"
    assert message.status.rank == max(s.rank for s in [SmsStatus.QUEUED, *callbacks])


@settings(max_examples=200)
@given(st.lists(st.sampled_from(CallStatus)).flatmap(st.permutations))
def test_call_callbacks_in_any_order_end_at_the_highest_rank(callbacks: list[CallStatus]) -> None:
    call = a_call(CallStatus.QUEUED)
    ranks = [call.status.rank]

    for at, status in enumerate(callbacks, start=1):
        call.apply_status(status, SENT_AT + timedelta(seconds=at))
        ranks.append(call.status.rank)

    assert ranks == sorted(ranks), "the rank went back"
    assert call.status.rank == max(s.rank for s in [CallStatus.QUEUED, *callbacks])


@pytest.mark.parametrize("status", [SmsStatus.QUEUED, SmsStatus.SENT, SmsStatus.DELIVERED])
def test_no_callback_makes_a_message_skipped(status: SmsStatus) -> None:
    message = a_message(status)

    assert not message.apply_status(SmsStatus.SKIPPED, SENT_AT)
    assert message.status is status
