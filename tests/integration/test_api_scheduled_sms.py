"""POST …/patients/{patient_id}/sms with ``send_at`` and POST …/sms/{id}/cancel: an SMS scheduled
for a worker to send, answered and refused as the API document's family does. No worker runs
here: what the API queued is looked at on an in-memory queue."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from ecm_comms.adapters.memory import FakeGateway
from ecm_comms.adapters.memory.send_queue import InMemorySendQueue
from ecm_comms.adapters.sql import tables
from ecm_comms.container import Container
from ecm_comms.domain.people import Patient
from tests.conftest import Staff
from tests.integration.records import API, count_rows, recorded, sms_url
from tests.integration.test_openapi import assert_conforms

PHONE = "+18051234567"
CLINIC_NUMBER = "+18059876543"  # the FakeGateway's sender
BODY = "Reminder: your appointment is tomorrow at 10am. Reply STOP to opt out."
NOW = "2024-11-27T10:00:00.000Z"  # FixedClock's default instant
TOMORROW = "2024-11-28T17:00:00Z"
KEY_HEADER = "Idempotency-Key"
NOT_SCHEDULED = {"errors": ["Only a scheduled SMS can be canceled"]}
NOT_FOUND = {"errors": ["Not found"]}
SEND_AT_FORMAT = (
    "send_at must be an ISO 8601 date and time with a time zone, e.g. 2026-12-04T17:00:00Z"
)

pytestmark = pytest.mark.usefixtures("patient")


@pytest.fixture
def container(container: Container, queue: InMemorySendQueue) -> Container:
    """conftest's container, its send queue a fake too: what was queued, and when."""
    container.send_queue.override(queue)
    return container


def schedule(
    client: FlaskClient,
    staff: Staff,
    send_at: Any = TOMORROW,
    *,
    body: Any = BODY,
    patient_id: int | str = 123,
    headers: dict[str, str] | None = None,
) -> TestResponse:
    sms = {"phone_number": PHONE, "body": body, "send_at": send_at}
    return client.post(
        sms_url(patient_id), json={"sms": sms}, headers=staff.headers | (headers or {})
    )


def scheduled_id(client: FlaskClient, staff: Staff) -> int:
    response = schedule(client, staff)
    assert response.status_code == 202, response.get_data(as_text=True)
    sms_id: int = response.get_json()["sms"]["id"]
    return sms_id


def cancel(
    client: FlaskClient, staff: Staff | None, sms_id: int | str, **headers: str
) -> TestResponse:
    own = staff.headers if staff else {}
    return client.post(f"{API}/sms/{sms_id}/cancel", headers=own | headers)


def automated_rows(container: Container) -> int:
    with container.engine().connect() as connection:
        counted: int = connection.execute(
            select(func.count()).select_from(tables.automated_sms)
        ).scalar_one()
        return counted


def nothing_scheduled(container: Container, queue: InMemorySendQueue, gateway: FakeGateway) -> None:
    assert count_rows(container) == recorded()
    assert automated_rows(container) == 0
    assert queue.queued == []
    assert gateway.sent == []


# --- scheduling ---------------------------------------------------------------------------------


def test_an_sms_with_send_at_is_scheduled_and_answered_202(
    client: FlaskClient, coordinator: Staff
) -> None:
    response = schedule(client, coordinator)

    assert response.status_code == 202
    answer = response.get_json()
    assert answer == {
        "message": "SMS scheduled",
        "sms": {
            "id": answer["sms"]["id"],
            "twilio_sid": None,
            "to": PHONE,
            "from": CLINIC_NUMBER,
            "body": BODY,
            "status": "scheduled",
            "direction": "outbound",
            "created_at": NOW,
            "segments": 1,
            "encoding": "GSM-7",
            "send_at": "2024-11-28T17:00:00.000Z",
            "skip_reason": None,
        },
        "activity": None,
    }
    assert list(answer) == ["message", "sms", "activity"]


def test_a_scheduled_sms_is_on_record_and_queued_for_its_time_and_nothing_is_sent(
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
    queue: InMemorySendQueue,
) -> None:
    schedule(client, coordinator)

    assert count_rows(container) == recorded(text_messages=1)  # no activity, no event yet
    assert automated_rows(container) == 1
    assert gateway.sent == []
    [(ids, eta)] = queue.queued
    assert len(ids) == 1
    assert eta is not None
    assert eta.isoformat() == "2024-11-28T17:00:00+00:00"


def test_send_at_in_another_zone_is_answered_in_utc(
    client: FlaskClient, coordinator: Staff
) -> None:
    response = schedule(client, coordinator, "2024-11-28T09:00:00-08:00")

    assert response.status_code == 202
    assert response.get_json()["sms"]["send_at"] == "2024-11-28T17:00:00.000Z"


def test_a_null_send_at_sends_the_sms_now(
    client: FlaskClient, coordinator: Staff, gateway: FakeGateway
) -> None:
    response = schedule(client, coordinator, None)

    assert response.status_code == 201
    assert response.get_json()["message"] == "SMS sent successfully"
    assert response.get_json()["sms"]["send_at"] is None
    assert len(gateway.sent) == 1


def test_a_scheduled_sms_reads_back_scheduled_without_an_activity(
    client: FlaskClient, coordinator: Staff
) -> None:
    sms_id = scheduled_id(client, coordinator)

    read = client.get(f"{API}/sms/{sms_id}", headers=coordinator.headers).get_json()

    assert read["activity"] is None
    assert {key: read["sms"][key] for key in ("status", "send_at", "skip_reason")} == {
        "status": "scheduled",
        "send_at": "2024-11-28T17:00:00.000Z",
        "skip_reason": None,
    }


@pytest.mark.parametrize(
    ("send_at", "message"),
    [
        pytest.param("2024-11-27T09:00:00Z", "send_at must be in the future", id="past"),
        pytest.param(NOW, "send_at must be in the future", id="now"),
        pytest.param("2025-03-01T10:00:00Z", "send_at must be within 90 days", id="too-far"),
        pytest.param("2024-11-28T17:00:00", SEND_AT_FORMAT, id="no-zone"),
        pytest.param("tomorrow at five", SEND_AT_FORMAT, id="not-a-time"),
        pytest.param("", SEND_AT_FORMAT, id="empty"),
    ],
)
def test_an_unacceptable_send_at_is_422_naming_send_at_and_nothing_is_recorded(
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
    queue: InMemorySendQueue,
    send_at: str,
    message: str,
) -> None:
    response = schedule(client, coordinator, send_at)

    assert (response.status_code, response.get_json()) == (422, {"errors": [message]})
    nothing_scheduled(container, queue, gateway)


@pytest.mark.parametrize("send_at", [17, True, {"at": TOMORROW}, [TOMORROW]])
def test_a_send_at_that_is_not_a_string_is_422_naming_send_at(
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
    queue: InMemorySendQueue,
    send_at: Any,
) -> None:
    response = schedule(client, coordinator, send_at)

    assert (response.status_code, response.get_json()) == (
        422,
        {"errors": ["send_at must be a string"]},
    )
    nothing_scheduled(container, queue, gateway)


def test_every_problem_of_a_scheduled_sms_is_reported_at_once(
    client: FlaskClient, coordinator: Staff
) -> None:
    response = schedule(client, coordinator, "tomorrow", body="")

    assert (response.status_code, response.get_json()) == (
        422,
        {"errors": ["Body is required", SEND_AT_FORMAT]},
    )


def test_shapes_are_checked_before_the_values(client: FlaskClient, coordinator: Staff) -> None:
    response = schedule(client, coordinator, 17, body=17)

    assert response.get_json() == {"errors": ["Body must be a string", "send_at must be a string"]}


@pytest.mark.parametrize("patient_id", [999, "abc"])
def test_scheduling_for_an_unknown_patient_is_404(
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
    queue: InMemorySendQueue,
    patient_id: int | str,
) -> None:
    response = schedule(
        client, coordinator, "not checked before the patient", patient_id=patient_id
    )

    assert (response.status_code, response.get_json()) == (404, {"errors": ["Patient not found"]})
    nothing_scheduled(container, queue, gateway)


def test_scheduling_for_another_clinics_patient_is_404(
    client: FlaskClient, other_clinic_coordinator: Staff
) -> None:
    response = schedule(client, other_clinic_coordinator)

    assert (response.status_code, response.get_json()) == (404, {"errors": ["Patient not found"]})


def test_scheduling_to_an_opted_out_number_is_refused_as_a_send_is(
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
    queue: InMemorySendQueue,
) -> None:
    opt_out = {"consent": {"phone_number": PHONE, "action": "opt_out"}}
    assert (
        client.post(f"{API}/consent", json=opt_out, headers=coordinator.headers).status_code == 201
    )

    response = schedule(client, coordinator)

    assert (response.status_code, response.get_json()) == (
        422,
        {"errors": ["Failed to send SMS: The recipient has opted out of SMS (replied STOP)"]},
    )
    assert automated_rows(container) == 0
    assert queue.queued == []


def test_scheduling_without_a_token_is_401(client: FlaskClient) -> None:
    response = client.post(sms_url(), json={"sms": {"phone_number": PHONE, "send_at": TOMORROW}})

    assert (response.status_code, response.get_json()) == (
        401,
        {"errors": ["X-User-Token header is required"]},
    )


def test_a_repeated_schedule_with_an_idempotency_key_replays_the_first_answer(
    client: FlaskClient, coordinator: Staff, container: Container, queue: InMemorySendQueue
) -> None:
    key = {KEY_HEADER: "reminder-123-dec-4"}
    first = schedule(client, coordinator, headers=key)
    repeat = schedule(client, coordinator, headers=key)

    assert (repeat.status_code, repeat.get_json()) == (202, first.get_json())
    assert repeat.headers["Idempotent-Replayed"] == "true"
    assert automated_rows(container) == 1
    assert len(queue.queued) == 1


def test_the_same_key_with_another_send_at_is_refused(
    client: FlaskClient, coordinator: Staff, container: Container
) -> None:
    key = {KEY_HEADER: "reminder-123-dec-4"}
    schedule(client, coordinator, headers=key)

    response = schedule(client, coordinator, "2024-11-29T17:00:00Z", headers=key)

    assert (response.status_code, response.get_json()) == (
        422,
        {"errors": ["Idempotency-Key was already used for a different request"]},
    )
    assert automated_rows(container) == 1


# --- canceling ----------------------------------------------------------------------------------


def test_canceling_a_scheduled_sms_answers_it_canceled(
    client: FlaskClient, coordinator: Staff
) -> None:
    sms_id = scheduled_id(client, coordinator)

    response = cancel(client, coordinator, sms_id)

    assert response.status_code == 200
    assert response.get_json() == {
        "message": "SMS canceled",
        "sms": {
            "id": sms_id,
            "twilio_sid": None,
            "to": PHONE,
            "from": CLINIC_NUMBER,
            "body": BODY,
            "status": "canceled",
            "direction": "outbound",
            "created_at": NOW,
            "segments": 1,
            "encoding": "GSM-7",
            "send_at": "2024-11-28T17:00:00.000Z",
            "skip_reason": None,
            "patient_id": 123,
            "error_code": None,
            "error_message": None,
            "updated_at": NOW,
        },
    }


def test_a_canceled_sms_stays_on_record_canceled(
    client: FlaskClient, coordinator: Staff, container: Container
) -> None:
    sms_id = scheduled_id(client, coordinator)
    cancel(client, coordinator, sms_id)

    read = client.get(f"{API}/sms/{sms_id}", headers=coordinator.headers).get_json()

    assert (read["sms"]["status"], read["activity"]) == ("canceled", None)
    assert count_rows(container) == recorded(text_messages=1)


def test_canceling_twice_is_409(client: FlaskClient, coordinator: Staff) -> None:
    sms_id = scheduled_id(client, coordinator)
    cancel(client, coordinator, sms_id)

    response = cancel(client, coordinator, sms_id)

    assert (response.status_code, response.get_json()) == (409, NOT_SCHEDULED)


def test_canceling_an_sms_that_was_sent_at_once_is_409(
    client: FlaskClient, coordinator: Staff, gateway: FakeGateway
) -> None:
    sent = schedule(client, coordinator, None).get_json()["sms"]

    response = cancel(client, coordinator, sent["id"])

    assert (response.status_code, response.get_json()) == (409, NOT_SCHEDULED)
    assert len(gateway.sent) == 1


@pytest.mark.parametrize("sms_id", ["999", "abc", "-1", "1" * 19])
def test_canceling_an_unknown_sms_is_404(
    client: FlaskClient, coordinator: Staff, sms_id: str
) -> None:
    response = cancel(client, coordinator, sms_id)

    assert (response.status_code, response.get_json()) == (404, NOT_FOUND)


def test_canceling_another_clinics_sms_is_404_and_leaves_it_scheduled(
    client: FlaskClient, coordinator: Staff, other_clinic_coordinator: Staff
) -> None:
    sms_id = scheduled_id(client, coordinator)

    response = cancel(client, other_clinic_coordinator, sms_id)

    assert (response.status_code, response.get_json()) == (404, NOT_FOUND)
    read = client.get(f"{API}/sms/{sms_id}", headers=coordinator.headers).get_json()
    assert read["sms"]["status"] == "scheduled"


def test_canceling_without_a_token_is_401(client: FlaskClient, coordinator: Staff) -> None:
    sms_id = scheduled_id(client, coordinator)

    response = cancel(client, None, sms_id)

    assert (response.status_code, response.get_json()) == (
        401,
        {"errors": ["X-User-Token header is required"]},
    )


def test_a_repeated_cancel_with_an_idempotency_key_replays_the_first_answer(
    client: FlaskClient, coordinator: Staff
) -> None:
    sms_id = scheduled_id(client, coordinator)
    first = cancel(client, coordinator, sms_id, **{KEY_HEADER: "cancel-1"})

    repeat = cancel(client, coordinator, sms_id, **{KEY_HEADER: "cancel-1"})

    assert (repeat.status_code, repeat.get_json()) == (200, first.get_json())
    assert repeat.headers["Idempotent-Replayed"] == "true"


# --- segments on every SMS representation --------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "segments", "encoding"),
    [
        pytest.param("x" * 160, 1, "GSM-7", id="gsm-one-segment"),
        pytest.param("x" * 161, 2, "GSM-7", id="gsm-two-segments"),
        pytest.param("€" * 80, 1, "GSM-7", id="extension-counts-twice"),
        pytest.param("€" * 81, 2, "GSM-7", id="extension-over-one-segment"),
        pytest.param("Hola 🙂" + "x" * 63, 1, "UCS-2", id="ucs2-one-segment"),  # 70 units
        pytest.param("Hola 🙂" + "x" * 64, 2, "UCS-2", id="ucs2-two-segments"),
    ],
)
def test_a_sent_sms_says_its_segments_and_encoding(
    client: FlaskClient, coordinator: Staff, body: str, segments: int, encoding: str
) -> None:
    response = schedule(client, coordinator, None, body=body)

    sms = response.get_json()["sms"]
    assert (sms["segments"], sms["encoding"]) == (segments, encoding)


def test_an_sms_sent_at_once_has_no_send_time_nor_skip_reason(
    client: FlaskClient, coordinator: Staff
) -> None:
    sms = schedule(client, coordinator, None).get_json()["sms"]

    assert list(sms)[-4:] == ["segments", "encoding", "send_at", "skip_reason"]
    assert (sms["send_at"], sms["skip_reason"]) == (None, None)


def test_an_sms_read_back_says_its_segments_and_encoding(
    client: FlaskClient, coordinator: Staff
) -> None:
    sent = schedule(client, coordinator, None, body="¿Qué tal? " + "ñ" * 200).get_json()["sms"]

    read = client.get(f"{API}/sms/{sent['id']}", headers=coordinator.headers).get_json()["sms"]

    assert {key: read[key] for key in ("segments", "encoding", "send_at", "skip_reason")} == {
        "segments": 2,
        "encoding": "GSM-7",
        "send_at": None,
        "skip_reason": None,
    }


def test_a_patients_history_lists_segments_encoding_and_send_time(
    client: FlaskClient, coordinator: Staff, patient: Patient
) -> None:
    schedule(client, coordinator, None, body="Привет")
    schedule(client, coordinator)

    page = client.get(
        f"{API}/patients/{patient.id}/communications", headers=coordinator.headers
    ).get_json()

    assert [
        {key: entry[key] for key in ("status", "segments", "encoding", "send_at", "skip_reason")}
        for entry in page["communications"]
    ] == [
        {
            "status": "scheduled",
            "segments": 1,
            "encoding": "GSM-7",
            "send_at": "2024-11-28T17:00:00.000Z",
            "skip_reason": None,
        },
        {
            "status": "queued",
            "segments": 1,
            "encoding": "UCS-2",
            "send_at": None,
            "skip_reason": None,
        },
    ]


# --- the OpenAPI document -----------------------------------------------------------------------


def test_scheduling_and_canceling_answers_conform_to_the_openapi_document(
    client: FlaskClient, coordinator: Staff, container: Container
) -> None:
    scheduled = schedule(client, coordinator)
    sms_id = scheduled.get_json()["sms"]["id"]
    answers = [
        ("post", "/patients/{patient_id}/sms", scheduled),
        ("post", "/patients/{patient_id}/sms", schedule(client, coordinator, "yesterday")),
        ("post", "/sms/{sms_id}/cancel", cancel(client, coordinator, sms_id)),
        ("post", "/sms/{sms_id}/cancel", cancel(client, coordinator, sms_id)),
        ("post", "/sms/{sms_id}/cancel", cancel(client, coordinator, "999")),
        ("get", "/sms/{sms_id}", client.get(f"{API}/sms/{sms_id}", headers=coordinator.headers)),
    ]

    assert [response.status_code for _, _, response in answers] == [202, 422, 200, 409, 404, 200]
    for method, path, response in answers:
        assert_conforms(method, API + path, response)
