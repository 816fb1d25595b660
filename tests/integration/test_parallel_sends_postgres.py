"""Ten different SMS posted at once, on PostgreSQL: each recorded whole, none lost or mixed up."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from flask import Flask

from ecm_comms.adapters.memory import FakeGateway
from ecm_comms.adapters.memory.gateway import SentSms
from ecm_comms.adapters.sids import new_sid
from ecm_comms.adapters.sql import tables
from ecm_comms.container import Container
from ecm_comms.domain.statuses import SmsStatus
from ecm_comms.ports.gateway import OutboundSms, SmsReceipt
from tests.conftest import Staff
from tests.integration.records import count_rows, recorded, rows, sms_url

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("database_url", ["postgres"], indirect=True),
    pytest.mark.usefixtures("patient"),
]

THREADS = 10
BODIES = [f"Reminder {n}: your appointment is Tuesday at 10am." for n in range(THREADS)]


class SlowGateway(FakeGateway):
    """Takes 0.1 s to accept an SMS, so that the sends overlap; safe from several threads."""

    def send_sms(self, sms: OutboundSms) -> SmsReceipt:
        time.sleep(0.1)
        sent = SentSms(new_sid("SM"), sms.to, sms.body, sms.record_id)
        self.sent.append(sent)  # list.append is atomic
        return SmsReceipt(sid=sent.sid, status=SmsStatus.QUEUED, sender=self.sender)


@pytest.fixture
def gateway() -> FakeGateway:
    return SlowGateway()


def send_all_at_once(app: Flask, staff: Staff) -> list[tuple[int, Any]]:
    """Every body in BODIES posted by its own thread and client, released together."""
    barrier = threading.Barrier(THREADS)
    answers: list[tuple[int, Any]] = [(0, None)] * THREADS
    errors: list[BaseException] = []

    def run(index: int) -> None:
        client = app.test_client()
        sms = {"sms": {"phone_number": "+18051234567", "body": BODIES[index]}}
        try:
            barrier.wait(timeout=30)
            response = client.post(sms_url(), json=sms, headers=staff.headers)
            answers[index] = (response.status_code, response.get_json())
        except BaseException as error:  # reported below, in the test's own thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(index,)) for index in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a request never finished"
    assert errors == []
    return answers


def test_ten_different_sms_at_once_are_all_answered_201(
    app: Flask, container: Container, coordinator: Staff
) -> None:
    answers = send_all_at_once(app, coordinator)

    assert [status for status, _ in answers] == [201] * THREADS, answers
    assert [body["sms"]["body"] for _, body in answers] == BODIES


def test_ten_different_sms_at_once_are_ten_records_each_with_one_activity_and_one_event(
    app: Flask, container: Container, coordinator: Staff, gateway: FakeGateway
) -> None:
    send_all_at_once(app, coordinator)

    messages = rows(container, tables.text_messages)
    activities = rows(container, tables.activities)
    events = rows(container, tables.events)
    assert count_rows(container) == recorded(text_messages=THREADS, activities=THREADS)
    assert sorted(a["text_message_id"] for a in activities) == sorted(m["id"] for m in messages)
    assert sorted(e["activity_id"] for e in events) == sorted(a["id"] for a in activities)
    assert len(gateway.sent) == THREADS


def test_ten_different_sms_at_once_each_answer_names_its_own_record_and_twilio_sid(
    app: Flask, container: Container, coordinator: Staff, gateway: FakeGateway
) -> None:
    answers = send_all_at_once(app, coordinator)

    stored = {m["id"]: (m["body"], m["twilio_sid"]) for m in rows(container, tables.text_messages)}
    answered = {
        body["sms"]["id"]: (body["sms"]["body"], body["sms"]["twilio_sid"]) for _, body in answers
    }
    handed_to_twilio = {sent.record_id: (sent.body.text, sent.sid) for sent in gateway.sent}
    assert answered == stored == handed_to_twilio
    activity_of = {a["text_message_id"]: a["id"] for a in rows(container, tables.activities)}
    assert {body["sms"]["id"]: body["activity"]["id"] for _, body in answers} == activity_of
