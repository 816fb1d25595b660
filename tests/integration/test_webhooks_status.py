"""Twilio's status callbacks: late, repeated and out of order, statuses still only move forward."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient

from ecm_comms.adapters.memory import FakeGateway, FixedClock
from ecm_comms.adapters.sql import tables
from ecm_comms.container import Container
from ecm_comms.domain.errors import GatewayError
from ecm_comms.domain.people import Patient
from tests.conftest import Staff
from tests.support.webhooks import (
    API,
    CLINIC_NUMBER,
    WEBHOOK_SETTINGS,
    SignedWebhooks,
    new_sid,
    only_row,
    rows,
    send_sms,
    sent_sms,
    start_call,
    started_call,
    table_counts,
    webhook_container,
)


@pytest.fixture
def container(database_url: str, gateway: FakeGateway, clock: FixedClock) -> Iterator[Container]:
    with webhook_container(database_url, gateway, clock, WEBHOOK_SETTINGS) as built:
        yield built


@pytest.fixture
def twilio(client: FlaskClient) -> SignedWebhooks:
    return SignedWebhooks(client)


def _get(client: FlaskClient, staff: Staff, path: str) -> dict[str, Any]:
    response = client.get(f"{API}{path}", headers=staff.headers)
    assert response.status_code == 200, response.get_json()
    body: dict[str, Any] = response.get_json()
    return body


def _callbacks_in_order(
    twilio: SignedWebhooks, clock: FixedClock, sid: str, record_id: int, statuses: list[str]
) -> list[int]:
    """Post SMS callbacks one minute apart; their answers' status codes."""
    answers = []
    for status in statuses:
        clock.advance(timedelta(minutes=1))
        answers.append(twilio.sms_status(sid, status, record_id=record_id).status_code)
    return answers


# --- SMS ---------------------------------------------------------------------------------------


@pytest.mark.both_databases
def test_sms_callbacks_out_of_order_and_repeated_leave_it_delivered(
    twilio: SignedWebhooks,
    client: FlaskClient,
    clock: FixedClock,
    coordinator: Staff,
    patient: Patient,
) -> None:
    sms = sent_sms(client, coordinator.headers, body="See you Tuesday")

    answers = _callbacks_in_order(
        twilio, clock, sms["twilio_sid"], sms["id"], ["sent", "delivered", "sending", "queued"]
    )
    answers += _callbacks_in_order(twilio, clock, sms["twilio_sid"], sms["id"], ["delivered"])

    assert answers == [204] * 5
    found = _get(client, coordinator, f"/sms/{sms['id']}")
    assert found["sms"] == {
        "id": sms["id"],
        "twilio_sid": sms["twilio_sid"],
        "to": "+18051234567",
        "from": CLINIC_NUMBER,
        "body": "See you Tuesday",
        "status": "delivered",
        "direction": "outbound",
        "created_at": "2024-11-27T10:00:00.000Z",
        "segments": 1,
        "encoding": "GSM-7",
        "send_at": None,
        "skip_reason": None,
        "patient_id": 123,
        "error_code": None,
        "error_message": None,
        # When "delivered" first came: the callbacks after it moved nothing.
        "updated_at": "2024-11-27T10:02:00.000Z",
    }
    assert found["activity"] is not None
    assert found["activity"]["performed_by_id"] == 101


@pytest.mark.both_databases
def test_every_sms_callback_is_kept_in_the_log_once_per_status(
    twilio: SignedWebhooks,
    client: FlaskClient,
    container: Container,
    clock: FixedClock,
    coordinator: Staff,
    patient: Patient,
) -> None:
    sms = sent_sms(client, coordinator.headers)

    _callbacks_in_order(
        twilio, clock, sms["twilio_sid"], sms["id"], ["sent", "delivered", "sent", "queued"]
    )

    logged = [
        (row["channel"], row["twilio_sid"], row["status"], row["record_id"])
        for row in rows(container, tables.status_callbacks)
    ]
    assert sorted(logged) == sorted(
        ("sms", sms["twilio_sid"], status, sms["id"]) for status in ("sent", "delivered", "queued")
    )


def test_an_undelivered_sms_keeps_twilios_error_code_and_message(
    twilio: SignedWebhooks,
    client: FlaskClient,
    coordinator: Staff,
    patient: Patient,
) -> None:
    sms = sent_sms(client, coordinator.headers)
    twilio.sms_status(sms["twilio_sid"], "sent", record_id=sms["id"])

    response = twilio.sms_status(
        sms["twilio_sid"],
        "undelivered",
        record_id=sms["id"],
        error_code=30003,
        error_message="Unreachable destination handset",
    )

    assert response.status_code == 204
    found = _get(client, coordinator, f"/sms/{sms['id']}")["sms"]
    assert (found["status"], found["error_code"], found["error_message"]) == (
        "undelivered",
        30003,
        "Unreachable destination handset",
    )


def test_a_status_twilio_adds_later_is_logged_and_changes_nothing(
    twilio: SignedWebhooks,
    client: FlaskClient,
    container: Container,
    coordinator: Staff,
    patient: Patient,
) -> None:
    sms = sent_sms(client, coordinator.headers)

    response = twilio.sms_status(sms["twilio_sid"], "teleported", record_id=sms["id"])

    assert response.status_code == 204
    assert _get(client, coordinator, f"/sms/{sms['id']}")["sms"]["status"] == "queued"
    assert only_row(container, tables.status_callbacks)["status"] == "teleported"


def test_a_callback_for_an_unknown_sid_is_answered_204_and_only_logged(
    twilio: SignedWebhooks, container: Container
) -> None:
    sid = new_sid("SM")

    response = twilio.sms_status(sid, "delivered")

    assert response.status_code == 204
    assert response.data == b""
    assert table_counts(container)["text_messages"] == 0
    logged = only_row(container, tables.status_callbacks)
    assert (logged["twilio_sid"], logged["status"], logged["record_id"]) == (sid, "delivered", None)


@pytest.mark.both_databases
def test_a_callback_naming_another_records_id_does_not_take_over_that_record(
    twilio: SignedWebhooks,
    client: FlaskClient,
    coordinator: Staff,
    patient: Patient,
) -> None:
    sms = sent_sms(client, coordinator.headers)

    response = twilio.sms_status(new_sid("SM"), "failed", record_id=sms["id"])

    assert response.status_code == 204
    found = _get(client, coordinator, f"/sms/{sms['id']}")["sms"]
    assert (found["twilio_sid"], found["status"]) == (sms["twilio_sid"], "queued")


@pytest.mark.both_databases
def test_a_callback_completes_an_sms_whose_send_ended_without_an_answer(
    twilio: SignedWebhooks,
    client: FlaskClient,
    container: Container,
    gateway: FakeGateway,
    clock: FixedClock,
    coordinator: Staff,
    patient: Patient,
) -> None:
    # Twilio took the request but its answer never came: the SMS stays on record, queued, no sid.
    gateway.fail_next(GatewayError("timeout", unavailable=True))
    refused = send_sms(client, coordinator.headers, body="Your lab results are in")
    assert refused.status_code == 502, refused.get_json()
    pending = only_row(container, tables.text_messages)
    assert (pending["twilio_sid"], pending["status"]) == (None, "queued")
    assert table_counts(container)["activities"] == 0
    sid = new_sid("SM")
    clock.advance(timedelta(minutes=1))

    response = twilio.sms_status(sid, "sent", record_id=pending["id"])

    assert response.status_code == 204
    completed = only_row(container, tables.text_messages)
    assert (completed["twilio_sid"], completed["status"]) == (sid, "sent")
    activity = only_row(container, tables.activities)
    assert (
        activity["text_message_id"],
        activity["performed_by_id"],
        activity["assigned_to_id"],
    ) == (pending["id"], 101, 101)
    assert only_row(container, tables.events)["activity_id"] == activity["id"]
    assert _get(client, coordinator, f"/sms/{pending['id']}")["activity"]["id"] == activity["id"]


# --- calls -------------------------------------------------------------------------------------


def test_call_callbacks_move_a_call_to_completed_with_its_duration(
    twilio: SignedWebhooks,
    client: FlaskClient,
    clock: FixedClock,
    coordinator: Staff,
    patient: Patient,
) -> None:
    call = started_call(client, coordinator.headers)

    answers = []
    for sequence, (status, duration) in enumerate(
        [("ringing", None), ("in-progress", None), ("completed", 42)]
    ):
        clock.advance(timedelta(seconds=20))
        answers.append(
            twilio.call_status(
                call["twilio_sid"],
                status,
                record_id=call["id"],
                duration=duration,
                sequence_number=sequence,
            ).status_code
        )

    assert answers == [204, 204, 204]
    found = _get(client, coordinator, f"/calls/{call['id']}")
    assert found["call"] == {
        "id": call["id"],
        "twilio_sid": call["twilio_sid"],
        "to": "+18051234567",
        "from": CLINIC_NUMBER,
        "status": "completed",
        "direction": "outbound",
        "created_at": "2024-11-27T10:00:00.000Z",
        "duration": 42,
        "patient_id": 123,
        "error_code": None,
        "error_message": None,
        "updated_at": "2024-11-27T10:01:00.000Z",
    }
    assert found["activity"]["activity_type"] == "call"


@pytest.mark.both_databases
def test_a_late_ringing_callback_leaves_a_completed_call_completed_with_its_duration(
    twilio: SignedWebhooks,
    client: FlaskClient,
    coordinator: Staff,
    patient: Patient,
) -> None:
    call = started_call(client, coordinator.headers)
    twilio.call_status(call["twilio_sid"], "completed", record_id=call["id"], duration=75)

    response = twilio.call_status(call["twilio_sid"], "ringing", record_id=call["id"])

    assert response.status_code == 204
    found = _get(client, coordinator, f"/calls/{call['id']}")["call"]
    assert (found["status"], found["duration"]) == ("completed", 75)


def test_a_callback_for_an_unknown_call_is_answered_204(
    twilio: SignedWebhooks, container: Container
) -> None:
    response = twilio.call_status(new_sid("CA"), "completed", duration=3)

    assert response.status_code == 204
    assert table_counts(container)["voice_calls"] == 0
    assert only_row(container, tables.status_callbacks)["channel"] == "call"


@pytest.mark.both_databases
def test_a_callback_completes_a_call_whose_start_ended_without_an_answer(
    twilio: SignedWebhooks,
    client: FlaskClient,
    container: Container,
    gateway: FakeGateway,
    coordinator: Staff,
    patient: Patient,
) -> None:
    gateway.fail_next(GatewayError("timeout", unavailable=True))
    refused = start_call(client, coordinator.headers)
    assert refused.status_code == 502, refused.get_json()
    pending = only_row(container, tables.voice_calls)
    assert pending["twilio_sid"] is None
    sid = new_sid("CA")

    response = twilio.call_status(sid, "ringing", record_id=pending["id"])

    assert response.status_code == 204
    completed = only_row(container, tables.voice_calls)
    assert (completed["twilio_sid"], completed["status"]) == (sid, "ringing")
    activity = only_row(container, tables.activities)
    assert (activity["voice_call_id"], activity["performed_by_id"]) == (pending["id"], 101)
    assert only_row(container, tables.events)["activity_id"] == activity["id"]
