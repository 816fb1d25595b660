"""Twilio's webhooks arriving at once, on PostgreSQL: the database keeps the record whole."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import pytest
from flask import Flask

from ecm_comms.adapters.memory import FakeGateway, FixedClock
from ecm_comms.adapters.sql import tables
from ecm_comms.container import Container
from ecm_comms.domain.people import Patient
from ecm_comms.webhook_routes import INBOUND_SMS, SMS_STATUS
from tests.conftest import Staff
from tests.support.webhooks import (
    NOTHING_WRITTEN,
    WEBHOOK_SETTINGS,
    SignedWebhooks,
    inbound_sms_form,
    new_sid,
    rows,
    sent_sms,
    sms_status_form,
    table_counts,
    webhook_container,
)

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("database_url", ["postgres"], indirect=True),
]

THREADS = 8
ROUNDS = 5
T = TypeVar("T")


@pytest.fixture
def container(database_url: str, gateway: FakeGateway, clock: FixedClock) -> Iterator[Container]:
    with webhook_container(database_url, gateway, clock, WEBHOOK_SETTINGS) as built:
        yield built


def _all_at_once(tasks: list[Callable[[], T]]) -> list[T]:
    """Run every task in its own thread, released together by a barrier; their results."""
    barrier = threading.Barrier(len(tasks))
    results: list[Any] = [None] * len(tasks)
    errors: list[BaseException] = []

    def run(index: int, task: Callable[[], T]) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = task()
        except BaseException as error:  # reported below, in the test's own thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(index, task)) for index, task in enumerate(tasks)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a request never finished"
    assert errors == []
    return results


def _poster(app: Flask, route: str, form: dict[str, str], record_id: int | None = None) -> Any:
    """A request of its own, on a test client of its own, signed before the race starts."""
    twilio = SignedWebhooks(app.test_client())
    return lambda: twilio.post(route, form, record_id=record_id).status_code


def test_one_inbound_sms_posted_eight_times_at_once_is_recorded_once(
    app: Flask, container: Container, coordinator: Staff, patient: Patient
) -> None:
    form = inbound_sms_form("+18051234567", "Yes, see you then")

    answers = _all_at_once([_poster(app, INBOUND_SMS, form) for _ in range(THREADS)])

    assert answers == [200] * THREADS
    assert table_counts(container) == NOTHING_WRITTEN | {
        "text_messages": 1,
        "activities": 1,
        "events": 1,
    }


def test_status_callbacks_for_one_sms_at_once_in_any_order_end_at_the_highest_status(
    app: Flask, container: Container, coordinator: Staff, patient: Patient
) -> None:
    # Eight statuses: "read" alone has the highest rank; the last is one Twilio may add some day.
    statuses = [
        "accepted",
        "scheduled",
        "queued",
        "sending",
        "sent",
        "delivered",
        "read",
        "delivery_receipt_pending",
    ]
    # A lost update shows only in some interleavings: race on several messages, one at a time.
    sids = []
    for _ in range(ROUNDS):
        sms = sent_sms(app.test_client(), coordinator.headers)
        sids.append(sms["twilio_sid"])
        random.shuffle(statuses)
        answers = _all_at_once(
            [
                _poster(app, SMS_STATUS, sms_status_form(sms["twilio_sid"], status), sms["id"])
                for status in statuses
            ]
        )
        assert answers == [204] * THREADS, statuses

    stored = rows(container, tables.text_messages)
    assert {m["twilio_sid"]: m["status"] for m in stored} == dict.fromkeys(sids, "read")
    logged: dict[str, list[str]] = {sid: [] for sid in sids}
    for row in rows(container, tables.status_callbacks):
        logged[row["twilio_sid"]].append(row["status"])
    assert {sid: sorted(found) for sid, found in logged.items()} == dict.fromkeys(
        sids, sorted(statuses)
    )


def test_the_same_status_callback_posted_eight_times_at_once_is_logged_once(
    app: Flask, container: Container, coordinator: Staff, patient: Patient
) -> None:
    sms = sent_sms(app.test_client(), coordinator.headers)
    form = sms_status_form(sms["twilio_sid"], "delivered")

    answers = _all_at_once([_poster(app, SMS_STATUS, form, sms["id"]) for _ in range(THREADS)])

    assert answers == [204] * THREADS
    assert [row["status"] for row in rows(container, tables.status_callbacks)] == ["delivered"]
    assert rows(container, tables.text_messages)[0]["status"] == "delivered"


def test_callbacks_for_different_messages_at_once_each_reach_their_own_message(
    app: Flask, container: Container, coordinator: Staff, patient: Patient
) -> None:
    sent = [sent_sms(app.test_client(), coordinator.headers) for _ in range(THREADS)]
    outcome = {sms["id"]: random.choice(["delivered", "undelivered", "failed"]) for sms in sent}

    answers = _all_at_once(
        [
            _poster(
                app,
                SMS_STATUS,
                sms_status_form(sms["twilio_sid"], outcome[sms["id"]]),
                sms["id"],
            )
            for sms in sent
        ]
    )

    assert answers == [204] * THREADS
    assert {m["id"]: m["status"] for m in rows(container, tables.text_messages)} == outcome


def test_eight_different_inbound_sms_at_once_are_each_recorded(
    app: Flask, container: Container, coordinator: Staff, patient: Patient
) -> None:
    forms = [
        inbound_sms_form("+18051234567", f"message {n}", sid=new_sid("SM")) for n in range(THREADS)
    ]

    answers = _all_at_once([_poster(app, INBOUND_SMS, form) for form in forms])

    assert answers == [200] * THREADS
    assert table_counts(container) == NOTHING_WRITTEN | {
        "text_messages": THREADS,
        "activities": THREADS,
        "events": THREADS,
    }
