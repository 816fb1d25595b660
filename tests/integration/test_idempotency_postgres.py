"""One SMS posted eight times at once with one Idempotency-Key, on PostgreSQL: it is sent once."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event

from ecm_comms.adapters.memory import FakeGateway
from ecm_comms.adapters.memory.gateway import SentSms
from ecm_comms.adapters.sids import new_sid
from ecm_comms.adapters.sql import tables
from ecm_comms.container import Container
from ecm_comms.domain.statuses import SmsStatus
from ecm_comms.entrypoints.http.idempotency import IdempotentRequests, request_fingerprint
from ecm_comms.ports.gateway import OutboundSms, SmsReceipt
from tests.conftest import Staff
from tests.integration.records import count_rows, recorded, sms_url

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("database_url", ["postgres"], indirect=True),
    pytest.mark.usefixtures("patient"),
]

THREADS = 8
KEY = "one-reminder-8c5b1f0e"
SMS = {"sms": {"phone_number": "+18051234567", "body": "Reminder: Tuesday at 10am."}}
KEYS_TABLE = tables.idempotency_keys.name
IN_PROGRESS = ["A request with this Idempotency-Key is still in progress; retry it shortly"]


class SlowGateway(FakeGateway):
    """Takes 0.3 s to accept an SMS, as Twilio might, so that the requests overlap."""

    def send_sms(self, sms: OutboundSms) -> SmsReceipt:
        time.sleep(0.3)
        sent = SentSms(new_sid("SM"), sms.to, sms.body, sms.record_id)
        self.sent.append(sent)  # list.append is atomic: safe from several threads
        return SmsReceipt(sid=sent.sid, status=SmsStatus.QUEUED, sender=self.sender)


@pytest.fixture
def gateway() -> FakeGateway:
    return SlowGateway()


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    replayed: bool


def post_all_at_once(app: Flask, staff: Staff, count: int) -> list[Answer]:
    """``count`` identical POSTs with KEY, each on its own client and thread, released together."""
    barrier = threading.Barrier(count)
    answers: list[Answer | None] = [None] * count
    errors: list[BaseException] = []
    headers = staff.headers | {"Idempotency-Key": KEY}

    def run(index: int) -> None:
        client = app.test_client()
        try:
            barrier.wait(timeout=30)
            response = client.post(sms_url(), json=SMS, headers=headers)
            replayed = response.headers.get("Idempotent-Replayed") == "true"
            answers[index] = Answer(response.status_code, response.get_json(), replayed)
        except BaseException as error:  # reported below, in the test's own thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a request never finished"
    assert errors == []
    return [answer for answer in answers if answer is not None]


def test_one_sms_posted_eight_times_at_once_with_one_key_is_sent_once(
    app: Flask, container: Container, coordinator: Staff, gateway: FakeGateway
) -> None:
    answers = post_all_at_once(app, coordinator, THREADS)

    assert len(gateway.sent) == 1
    assert count_rows(container) == recorded(text_messages=1, activities=1)
    assert len(answers) == THREADS


def test_of_eight_identical_requests_at_once_one_is_answered_and_the_others_replay_or_wait(
    app: Flask, container: Container, coordinator: Staff
) -> None:
    answers = post_all_at_once(app, coordinator, THREADS)

    originals = [a for a in answers if a.status == 201 and not a.replayed]
    assert len(originals) == 1, answers
    original = originals[0]
    replay = Answer(201, original.body, replayed=True)
    in_progress = Answer(409, {"errors": IN_PROGRESS}, replayed=False)
    others = [a for a in answers if a is not original]
    assert [a for a in others if a not in (replay, in_progress)] == []


def test_after_eight_identical_requests_at_once_a_retry_gets_the_one_answer(
    app: Flask, container: Container, coordinator: Staff, gateway: FakeGateway
) -> None:
    answers = post_all_at_once(app, coordinator, THREADS)

    retry = app.test_client().post(
        sms_url(), json=SMS, headers=coordinator.headers | {"Idempotency-Key": KEY}
    )

    original = next(a for a in answers if a.status == 201 and not a.replayed)
    assert (retry.status_code, retry.get_json()) == (201, original.body)
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert len(gateway.sent) == 1


def test_a_repeat_claiming_a_key_just_as_the_first_request_releases_it_is_not_a_500(
    app: Flask, container: Container, coordinator: Staff, gateway: FakeGateway
) -> None:
    # The first request is in progress; the repeat's insert finds its key taken, and before the
    # repeat reads the key back, the first request ends unexpectedly (a 500/503) and frees it.
    with app.test_request_context(sms_url(), method="POST", json=SMS):
        fingerprint = request_fingerprint()
    requests = IdempotentRequests(container.idempotency_keys(), container.clock())
    assert requests.begin(coordinator.user.id, KEY, fingerprint) is None
    released: list[bool] = []

    def first_request_releases_its_key(*args: Any) -> None:
        statement: str = args[2]
        if not released and statement.lstrip().startswith("SELECT") and KEYS_TABLE in statement:
            released.append(True)
            requests.release(coordinator.user.id, KEY)

    event.listen(container.engine(), "before_cursor_execute", first_request_releases_its_key)
    try:
        repeat = app.test_client().post(
            sms_url(), json=SMS, headers=coordinator.headers | {"Idempotency-Key": KEY}
        )
    finally:
        event.remove(container.engine(), "before_cursor_execute", first_request_releases_its_key)

    assert released == [True]
    assert repeat.status_code in (201, 409), repeat.get_json()
