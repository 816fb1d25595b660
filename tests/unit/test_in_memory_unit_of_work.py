"""InMemoryUnitOfWork: a transaction over the in-memory store; only a commit publishes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ecm_comms.adapters.memory import InMemoryStore, InMemoryUnitOfWork
from ecm_comms.domain.activities import Activity, ActivityStatus
from ecm_comms.domain.automated_sms import AutomatedSms
from ecm_comms.domain.campaigns import Campaign
from ecm_comms.domain.channels import Channel
from ecm_comms.domain.communications import TextMessage
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.sms_bodies import SmsBody
from ecm_comms.domain.statuses import SmsStatus


def an_activity() -> Activity:
    return Activity(
        clinic_id=1,
        activity_type=Channel.SMS,
        status=ActivityStatus.CREATED,
        patient_id=123,
        performed_by_id=101,
        assigned_to_id=101,
        created_at=datetime(2024, 11, 27, 10, 0, tzinfo=UTC),
    )


@pytest.fixture
def store() -> InMemoryStore:
    return InMemoryStore()


@pytest.fixture
def uow(store: InMemoryStore) -> InMemoryUnitOfWork:
    return InMemoryUnitOfWork(store)


def test_leaving_the_block_without_commit_discards_the_adds(
    uow: InMemoryUnitOfWork, store: InMemoryStore
) -> None:
    with uow:
        uow.activities.add(an_activity())

    assert store.activities.rows == {}
    assert not uow.committed


def add_an_activity_then_break(uow: InMemoryUnitOfWork) -> None:
    with uow:
        uow.activities.add(an_activity())
        raise RuntimeError("something broke")


def test_an_error_in_the_block_discards_the_adds(
    uow: InMemoryUnitOfWork, store: InMemoryStore
) -> None:
    with pytest.raises(RuntimeError):
        add_an_activity_then_break(uow)

    assert store.activities.rows == {}


def test_commit_publishes_the_adds(uow: InMemoryUnitOfWork, store: InMemoryStore) -> None:
    activity = an_activity()

    with uow:
        uow.activities.add(activity)
        uow.commit()

    assert [vars(stored) for stored in store.activities.rows.values()] == [vars(activity)]
    assert uow.committed


def test_what_was_committed_is_seen_by_the_next_unit_of_work(store: InMemoryStore) -> None:
    with InMemoryUnitOfWork(store) as first:
        first.activities.add(an_activity())
        first.commit()

    with InMemoryUnitOfWork(store) as second:
        assert second.activities.get(1) is not None


def test_ids_are_handed_out_in_order(uow: InMemoryUnitOfWork) -> None:
    activities = [an_activity() for _ in range(3)]

    with uow:
        for activity in activities:
            uow.activities.add(activity)

    assert [activity.id for activity in activities] == [1, 2, 3]


def test_ids_continue_after_a_commit(uow: InMemoryUnitOfWork) -> None:
    with uow:
        uow.activities.add(an_activity())
        uow.activities.add(an_activity())
        uow.commit()
    later = an_activity()

    with uow:
        uow.activities.add(later)

    assert later.id == 3


def a_campaign() -> Campaign:
    return Campaign(
        clinic_id=1,
        name="December reminders",
        body="Hi {{first_name}}",
        send_at=None,
        total=1,
        max_segments=1,
        created_by_id=101,
        created_at=datetime(2024, 11, 27, 10, 0, tzinfo=UTC),
    )


def test_campaigns_and_their_automated_sms_are_discarded_without_commit(
    uow: InMemoryUnitOfWork, store: InMemoryStore
) -> None:
    with uow:
        uow.campaigns.add(a_campaign())
        uow.automated.add_many(
            [
                AutomatedSms(
                    clinic_id=1,
                    patient_id=123,
                    sms_id=None,
                    campaign_id=1,
                    due_at=datetime(2024, 11, 27, 10, 0, tzinfo=UTC),
                )
            ]
        )

    assert (store.campaigns.rows, store.automated.rows) == ({}, {})


def test_a_campaign_canceled_in_a_later_unit_of_work_cancels_the_committed_messages(
    store: InMemoryStore,
) -> None:
    at = datetime(2024, 11, 27, 10, 0, tzinfo=UTC)
    message = TextMessage.outbound(
        clinic_id=1,
        patient_id=123,
        to=PhoneNumber("+18051234567"),
        from_=PhoneNumber("+18059876543"),
        body=SmsBody("Reminder"),
        sent_by_id=101,
        at=at,
        send_at=at,
    )
    with InMemoryUnitOfWork(store) as first:
        first.messages.add(message)
        first.automated.add_many(
            [AutomatedSms(clinic_id=1, patient_id=123, sms_id=message.id, campaign_id=7, due_at=at)]
        )
        first.commit()

    with InMemoryUnitOfWork(store) as second:
        second.automated.cancel_campaign(7, at)
        second.commit()

    assert store.messages.rows[1].status is SmsStatus.CANCELED
