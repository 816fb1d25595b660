"""Scheduling an SMS, canceling it, and the worker sending it within the limits."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ecm_comms.domain.automated_sms import MAX_ATTEMPTS, Outcome
from ecm_comms.domain.clinics import Clinic
from ecm_comms.domain.commands import CancelSms, ScheduleSms, SendAutomatedSms, SendSms
from ecm_comms.domain.consent import ConsentAction, ConsentEntry, ConsentSource
from ecm_comms.domain.errors import (
    GatewayError,
    InvalidInput,
    NotScheduled,
    PatientNotFound,
    RecipientOptedOut,
    RecordNotFound,
)
from ecm_comms.domain.people import Patient, User
from ecm_comms.domain.sending_limits import FrequencyCaps, SendWindow
from ecm_comms.domain.statuses import SmsStatus
from ecm_comms.domain.use_cases.send_sms import SendSmsHandler
from tests.unit.automated_world import (
    ANA,
    ANA_PHONE,
    CLINIC_NUMBER,
    DANA,
    MORNING,
    OTHER_CLINICS,
    SUNRISE,
    World,
)

IN_AN_HOUR = "2026-12-03T19:00:00Z"


@pytest.fixture
def world() -> World:
    return World()


def opt_out(world: World) -> None:
    with world.uow as uow:
        uow.consent.append(
            ConsentEntry(
                phone=ANA_PHONE,
                clinic_id=SUNRISE.id,
                action=ConsentAction.OPT_OUT,
                source=ConsentSource.KEYWORD,
                at=world.clock.now(),
            )
        )
        uow.commit()


# Scheduling.


def test_a_scheduled_sms_is_on_record_with_no_activity_or_event_yet(world: World) -> None:
    message = world.schedule_for(IN_AN_HOUR)

    assert message.status is SmsStatus.SCHEDULED
    assert message.send_at == MORNING + timedelta(hours=1)
    assert world.store.messages.get(message.id or 0) is not None
    assert world.store.activities.rows == {}
    assert world.store.events.rows == {}
    assert world.gateway.sent == []


def test_a_scheduled_sms_is_queued_for_its_time(world: World) -> None:
    message = world.schedule_for(IN_AN_HOUR)

    assert world.queue.queued == [([world.automated_of(message.id or 0).id], message.send_at)]


@pytest.mark.parametrize(
    ("send_at", "problem"),
    [
        ("2026-12-03T17:00:00Z", "send_at must be in the future"),
        ("2027-03-10T17:00:00Z", "send_at must be within 90 days"),
        ("2026-12-04T17:00:00", "send_at must be an ISO 8601 date and time with a time zone"),
        ("tomorrow", "send_at must be an ISO 8601 date and time with a time zone"),
    ],
)
def test_a_send_at_not_in_the_next_90_days_or_without_a_zone_is_refused(
    world: World, send_at: str, problem: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        world.schedule_for(send_at)

    assert refused.value.messages[0].startswith(problem)
    assert refused.value.fields == ["send_at"]
    assert world.store.messages.rows == {}
    assert world.queue.queued == []


def test_every_problem_of_a_schedule_is_reported_together(world: World) -> None:
    command = ScheduleSms(ANA.id, "12", " ", "yesterday", performed_by=DANA)

    with pytest.raises(InvalidInput) as refused:
        world.schedule(command)

    assert refused.value.fields == [None, None, "send_at"]
    assert refused.value.messages[:2] == ["Invalid phone number", "Body is required"]


def test_scheduling_to_an_opted_out_number_is_refused(world: World) -> None:
    opt_out(world)

    with pytest.raises(RecipientOptedOut):
        world.schedule_for(IN_AN_HOUR)

    assert world.store.messages.rows == {}


def test_another_clinics_patient_cannot_be_scheduled_for(world: World) -> None:
    with pytest.raises(PatientNotFound):
        world.schedule_for(IN_AN_HOUR, patient=OTHER_CLINICS)


# Sending, by the worker.


def test_at_its_time_the_worker_sends_it_and_records_activity_and_event(world: World) -> None:
    message = world.schedule_for(IN_AN_HOUR)
    world.clock.advance(timedelta(hours=1))

    world.run_queue()

    sent = world.message(message.id or 0)
    assert [s.record_id for s in world.gateway.sent] == [message.id]
    assert sent.status is SmsStatus.QUEUED
    assert sent.twilio_sid is not None
    assert world.gateway.sent[0].sender is not None
    assert world.gateway.sent[0].sender.number == CLINIC_NUMBER
    [activity] = world.store.activities.rows.values()
    assert (activity.text_message_id, activity.performed_by_id) == (message.id, DANA.id)
    assert len(world.store.events.rows) == 1
    assert world.automated_of(message.id or 0).outcome is Outcome.SENT


def test_before_its_time_nothing_is_sent(world: World) -> None:
    message = world.schedule_for(IN_AN_HOUR)
    automated = world.automated_of(message.id or 0)

    world.send(SendAutomatedSms(automated.id))

    assert world.gateway.sent == []
    assert world.message(message.id or 0).status is SmsStatus.SCHEDULED


def test_a_task_queued_twice_sends_once(world: World) -> None:
    message = world.schedule_for(IN_AN_HOUR)
    automated_id = world.automated_of(message.id or 0).id
    world.clock.advance(timedelta(hours=1))

    world.send(SendAutomatedSms(automated_id))
    world.send(SendAutomatedSms(automated_id))

    assert len(world.gateway.sent) == 1


def test_due_outside_the_window_it_waits_scheduled_until_the_window_opens(world: World) -> None:
    message = world.schedule_for("2026-12-04T06:00:00Z")  # 22:00 in California
    world.clock.advance(timedelta(hours=12))

    world.run_queue()

    opening = MORNING.replace(day=4, hour=16)  # 08:00 in California
    assert world.gateway.sent == []
    assert world.message(message.id or 0).status is SmsStatus.SCHEDULED
    assert world.automated_of(message.id or 0).due_at == opening
    assert world.queue.queued[-1][1] == opening
    world.clock.advance(opening - world.clock.now())
    world.run_queue()
    assert len(world.gateway.sent) == 1


def test_the_patients_own_time_zone_decides_the_window() -> None:
    in_new_york = Patient(id=ANA.id, clinic_id=1, phones=(ANA_PHONE,), timezone="America/New_York")
    world = World(patients=(in_new_york,))
    world.clock.at = MORNING.replace(hour=2)  # 18:00 in California, 21:00 in New York
    message = world.schedule_for("2026-12-03T02:30:00Z", patient=in_new_york)
    world.clock.advance(timedelta(minutes=30))

    world.run_queue()

    assert world.gateway.sent == []
    assert world.message(message.id or 0).status is SmsStatus.SCHEDULED


def test_a_clinics_narrower_window_is_respected() -> None:
    narrow = Clinic(
        id=1, name="Sunrise", numbers=SUNRISE.numbers, send_window=SendWindow.parse("11:00-20:00")
    )
    world = World(clinics=(narrow,))
    world.schedule_for(IN_AN_HOUR)  # 11:00 in California: open
    world.clock.advance(timedelta(minutes=30))  # 10:30: not yet

    world.run_queue()

    assert world.gateway.sent == []


def test_a_second_automated_sms_the_same_day_is_skipped_for_the_frequency_cap(
    world: World,
) -> None:
    first = world.schedule_for(IN_AN_HOUR)
    second = world.schedule_for("2026-12-03T20:00:00Z")
    world.clock.advance(timedelta(hours=2))

    world.run_queue()

    skipped = world.message(second.id or 0)
    assert [s.record_id for s in world.gateway.sent] == [first.id]
    assert (skipped.status, skipped.skip_reason) == (SmsStatus.SKIPPED, "frequency_cap")
    assert world.automated_of(second.id or 0).outcome is Outcome.SKIPPED
    assert len(world.store.activities.rows) == 1
    assert len(world.store.events.rows) == 1


def test_a_fourth_automated_sms_in_seven_days_is_skipped(world: World) -> None:
    for day in range(3):
        world.schedule_for(f"2026-12-0{4 + day}T18:00:00Z")
    fourth = world.schedule_for("2026-12-07T18:00:00Z")

    for _ in range(4):
        world.clock.advance(timedelta(days=1))
        world.run_queue()

    assert len(world.gateway.sent) == 3
    assert world.message(fourth.id or 0).skip_reason == "frequency_cap"


def test_a_clinic_may_allow_more_a_day() -> None:
    generous = Clinic(id=1, name="Sunrise", numbers=SUNRISE.numbers, caps=FrequencyCaps.of(2, 3))
    world = World(clinics=(generous,))
    world.schedule_for(IN_AN_HOUR)
    world.schedule_for("2026-12-03T20:00:00Z")
    world.clock.advance(timedelta(hours=2))

    world.run_queue()

    assert len(world.gateway.sent) == 2


def test_a_coordinators_direct_sms_does_not_count_toward_the_caps(world: World) -> None:
    direct = SendSmsHandler(
        world.uow, world.patient_directory, world.clinic_directory, world.gateway, world.clock
    )
    direct(SendSms(ANA.id, ANA_PHONE.e164, "Call me", performed_by=DANA))
    world.schedule_for(IN_AN_HOUR)
    world.clock.advance(timedelta(hours=1))

    world.run_queue()

    assert len(world.gateway.sent) == 2


def test_a_stop_after_scheduling_wins(world: World) -> None:
    message = world.schedule_for(IN_AN_HOUR)
    opt_out(world)
    world.clock.advance(timedelta(hours=1))

    world.run_queue()

    skipped = world.message(message.id or 0)
    assert world.gateway.sent == []
    assert (skipped.status, skipped.skip_reason) == (SmsStatus.SKIPPED, "opted_out")
    assert world.store.activities.rows == {}


def test_a_transient_failure_is_retried_later_with_backoff(world: World) -> None:
    message = world.schedule_for(IN_AN_HOUR)
    world.clock.advance(timedelta(hours=1))
    world.gateway.fail_next(
        GatewayError("Too Many Requests", code=20429, unavailable=True, retry_safe=True)
    )

    world.run_queue()

    waiting = world.automated_of(message.id or 0)
    assert world.message(message.id or 0).status is SmsStatus.SCHEDULED
    assert (waiting.outcome, waiting.attempts) == (Outcome.SCHEDULED, 1)
    assert waiting.due_at == world.clock.now() + timedelta(seconds=30)
    world.clock.advance(timedelta(seconds=30))
    world.run_queue()
    assert len(world.gateway.sent) == 1


def test_after_five_transient_failures_within_half_an_hour_it_fails_with_twilios_words(
    world: World,
) -> None:
    message = world.schedule_for(IN_AN_HOUR)
    world.clock.advance(timedelta(hours=1))
    started = world.clock.now()

    for _ in range(MAX_ATTEMPTS):
        world.gateway.fail_next(
            GatewayError("Service Unavailable", unavailable=True, retry_safe=True)
        )
        world.run_queue()
        world.clock.advance(world.automated_of(message.id or 0).due_at - world.clock.now())

    failed = world.message(message.id or 0)
    assert (failed.status, failed.error_message) == (SmsStatus.FAILED, "Service Unavailable")
    assert world.automated_of(message.id or 0).outcome is Outcome.FAILED
    assert world.clock.now() - started <= timedelta(minutes=30)
    assert world.queue.queued == []


def test_a_permanent_refusal_fails_at_once(world: World) -> None:
    message = world.schedule_for(IN_AN_HOUR)
    world.clock.advance(timedelta(hours=1))
    world.gateway.fail_next(
        GatewayError("The 'To' number is not a valid phone number.", code=21211)
    )

    world.run_queue()

    failed = world.message(message.id or 0)
    assert (failed.status, failed.error_code) == (SmsStatus.FAILED, 21211)
    assert world.automated_of(message.id or 0).outcome is Outcome.FAILED
    assert world.queue.queued == []


def test_an_outcome_twilio_may_have_acted_on_stays_queued_and_is_never_retried(
    world: World,
) -> None:
    message = world.schedule_for(IN_AN_HOUR)
    world.clock.advance(timedelta(hours=1))
    world.gateway.fail_next(GatewayError("Twilio did not answer in time", unavailable=True))

    world.run_queue()
    world.clock.advance(timedelta(hours=1))
    world.sweep()
    world.run_queue()

    assert world.message(message.id or 0).status is SmsStatus.QUEUED
    assert world.automated_of(message.id or 0).outcome is Outcome.SENT
    assert world.gateway.sent == []


# The sweep.


def test_a_due_sms_no_worker_took_is_queued_again_by_the_sweep(world: World) -> None:
    message = world.schedule_for(IN_AN_HOUR)
    world.queue.take()  # the task is lost, with its worker
    world.clock.advance(timedelta(hours=1, minutes=1))

    assert world.sweep() == 1
    world.run_queue()

    assert [s.record_id for s in world.gateway.sent] == [message.id]


def test_the_sweep_leaves_what_was_just_queued_to_its_task(world: World) -> None:
    world.schedule_for(IN_AN_HOUR)
    world.clock.advance(timedelta(hours=1))

    assert world.sweep() == 0


# Canceling.


def test_a_scheduled_sms_can_be_canceled_and_is_never_sent(world: World) -> None:
    message = world.schedule_for(IN_AN_HOUR)

    canceled = world.cancel(CancelSms(message.id or 0, DANA))
    world.clock.advance(timedelta(hours=1))
    world.run_queue()

    assert canceled.status is SmsStatus.CANCELED
    assert world.message(message.id or 0).status is SmsStatus.CANCELED
    assert world.automated_of(message.id or 0).outcome is Outcome.CANCELED
    assert world.gateway.sent == []


def test_an_sms_already_sent_cannot_be_canceled(world: World) -> None:
    message = world.schedule_for(IN_AN_HOUR)
    world.clock.advance(timedelta(hours=1))
    world.run_queue()

    with pytest.raises(NotScheduled):
        world.cancel(CancelSms(message.id or 0, DANA))


def test_a_direct_sms_cannot_be_canceled(world: World) -> None:
    direct = SendSmsHandler(
        world.uow, world.patient_directory, world.clinic_directory, world.gateway, world.clock
    )
    sent = direct(SendSms(ANA.id, ANA_PHONE.e164, "Call me", performed_by=DANA))

    with pytest.raises(NotScheduled):
        world.cancel(CancelSms(sent.message.id or 0, DANA))


def test_another_clinics_sms_cannot_be_canceled(world: World) -> None:
    message = world.schedule_for(IN_AN_HOUR)
    stranger = User(id=202, clinic_id=2, name="Other")

    with pytest.raises(RecordNotFound):
        world.cancel(CancelSms(message.id or 0, stranger))
    assert world.message(message.id or 0).status is SmsStatus.SCHEDULED
