"""The database really holds what the API answered: the communication, its activity, its event.

Rows are read straight from the tables (not through the repositories), on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Table
from werkzeug.test import TestResponse

from ecm_comms.adapters.memory import FakeGateway, FixedClock
from ecm_comms.adapters.sql import tables
from ecm_comms.container import Container
from tests.conftest import Staff
from tests.integration.records import (
    call_url,
    count_rows,
    only_row,
    recorded,
    rows,
    sms_url,
)

PHONE = "+18051234567"
CLINIC_NUMBER = "+18059876543"
NOW = datetime(2024, 11, 27, 10, 0, tzinfo=UTC)  # FixedClock's default instant

pytestmark = pytest.mark.usefixtures("patient")


def send_sms(
    client: FlaskClient, staff: Staff, body: str = "Hello", phone: str = PHONE
) -> dict[str, Any]:
    response = client.post(
        sms_url(123), json={"sms": {"phone_number": phone, "body": body}}, headers=staff.headers
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    answer = response.json
    assert isinstance(answer, dict)
    return answer


def initiate_call(client: FlaskClient, staff: Staff, phone: str = PHONE) -> dict[str, Any]:
    response = client.post(
        call_url(123), json={"call": {"phone_number": phone}}, headers=staff.headers
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    answer = response.json
    assert isinstance(answer, dict)
    return answer


def post_sms(client: FlaskClient, staff: Staff) -> TestResponse:
    return client.post(
        sms_url(123), json={"sms": {"phone_number": PHONE, "body": "Hi"}}, headers=staff.headers
    )


def post_call(client: FlaskClient, staff: Staff) -> TestResponse:
    return client.post(call_url(123), json={"call": {"phone_number": PHONE}}, headers=staff.headers)


def without_id(row: Any) -> dict[str, Any]:
    return {key: value for key, value in dict(row).items() if key != "id"}


# --- SMS -----------------------------------------------------------------------------------------


def test_a_sent_sms_is_stored_as_the_api_answered(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway
) -> None:
    sms = send_sms(client, coordinator, "Reminder: appointment tomorrow at 10:00.")["sms"]

    assert dict(only_row(container, tables.text_messages)) == {
        "id": sms["id"],
        "clinic_id": 1,
        "patient_id": 123,
        "direction": "outbound",
        "to_number": PHONE,
        "from_number": CLINIC_NUMBER,
        "body": "Reminder: appointment tomorrow at 10:00.",
        "status": "queued",
        "twilio_sid": gateway.sent[0].sid,
        "sent_by_id": 101,
        "error_code": None,
        "error_message": None,
        "created_at": NOW,
        "updated_at": NOW,
        "send_at": None,  # sent at once, not scheduled
        "skip_reason": None,
    }
    assert sms["twilio_sid"] == gateway.sent[0].sid


def test_an_sms_activity_is_stored_as_the_api_answered_and_points_at_the_sms(
    client: FlaskClient, coordinator: Staff, container: Container
) -> None:
    answer = send_sms(client, coordinator)

    assert dict(only_row(container, tables.activities)) == {
        "id": answer["activity"]["id"],
        "clinic_id": 1,
        "activity_type": "sms",
        "status": "created",
        "patient_id": 123,
        "performed_by_id": 101,
        "assigned_to_id": 101,
        "text_message_id": answer["sms"]["id"],
        "voice_call_id": None,
        "created_at": NOW,
    }


def test_an_sms_event_is_stored_for_its_activity(
    client: FlaskClient, coordinator: Staff, container: Container
) -> None:
    answer = send_sms(client, coordinator)

    assert without_id(only_row(container, tables.events)) == {
        "clinic_id": 1,
        "event_type": "sms",
        "occurred_at": NOW,
        "patient_id": 123,
        "activity_id": answer["activity"]["id"],
    }


@pytest.mark.both_databases
@pytest.mark.parametrize(
    "body",
    [
        pytest.param("  Hello  ", id="surrounding-spaces"),
        pytest.param("Line one\nLine two\r\n\tindented", id="newlines-and-tabs"),
        pytest.param("Hola, ¿cómo está? 🙂 你好", id="unicode"),
        pytest.param("é" * 1600, id="1600-accented-characters"),
        pytest.param('<b>"quotes" & \\backslash\\</b>', id="markup-and-escapes"),
    ],
)
def test_an_sms_body_is_stored_and_answered_exactly_as_written(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway, body: str
) -> None:
    answer = send_sms(client, coordinator, body)

    assert answer["sms"]["body"] == body
    assert only_row(container, tables.text_messages)["body"] == body
    assert [sent.body.text for sent in gateway.sent] == [body]


def test_each_sms_gets_its_own_message_activity_and_event(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway
) -> None:
    first = send_sms(client, coordinator, "First")
    second = send_sms(client, coordinator, "Second")

    assert count_rows(container) == recorded(text_messages=2, activities=2)
    assert [(row["body"], row["twilio_sid"]) for row in rows(container, tables.text_messages)] == [
        ("First", gateway.sent[0].sid),
        ("Second", gateway.sent[1].sid),
    ]
    assert [(row["id"], row["text_message_id"]) for row in rows(container, tables.activities)] == [
        (first["activity"]["id"], first["sms"]["id"]),
        (second["activity"]["id"], second["sms"]["id"]),
    ]
    assert [row["activity_id"] for row in rows(container, tables.events)] == [
        first["activity"]["id"],
        second["activity"]["id"],
    ]


@pytest.mark.both_databases
@pytest.mark.parametrize(
    "body",
    [
        pytest.param("Hi\u0000there", id="nul-character"),
        pytest.param("Hi \ud800 there", id="lone-surrogate"),
    ],
)
def test_an_sms_is_sent_only_if_it_is_also_put_on_record(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway, body: str
) -> None:
    """JSON can carry text a database cannot store; such a body must never reach Twilio unrecorded.

    Refusing it (4xx) or storing it (201) are both fine; sending it and then failing is not.
    """
    data = json.dumps({"sms": {"phone_number": PHONE, "body": body}})  # \\u escapes, valid JSON

    response = client.post(
        sms_url(123), data=data, content_type="application/json", headers=coordinator.headers
    )

    answered = f"{response.status_code} {response.get_data(as_text=True)}"
    assert len(gateway.sent) == count_rows(container)["text_messages"], answered
    assert response.status_code != 500, answered
    assert response.mimetype == "application/json"


# --- calls ---------------------------------------------------------------------------------------


def test_an_initiated_call_is_stored_as_the_api_answered(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway
) -> None:
    call = initiate_call(client, coordinator)["call"]

    assert dict(only_row(container, tables.voice_calls)) == {
        "id": call["id"],
        "clinic_id": 1,
        "patient_id": 123,
        "direction": "outbound",
        "to_number": PHONE,
        "from_number": CLINIC_NUMBER,
        "status": "queued",
        "twilio_sid": gateway.calls[0].sid,
        "sent_by_id": 101,
        "duration_seconds": None,
        "error_code": None,
        "error_message": None,
        "created_at": NOW,
        "updated_at": NOW,
    }
    assert call["twilio_sid"] == gateway.calls[0].sid


def test_a_call_activity_is_stored_as_the_api_answered_and_points_at_the_call(
    client: FlaskClient, coordinator: Staff, container: Container
) -> None:
    answer = initiate_call(client, coordinator)

    assert dict(only_row(container, tables.activities)) == {
        "id": answer["activity"]["id"],
        "clinic_id": 1,
        "activity_type": "call",
        "status": "created",
        "patient_id": 123,
        "performed_by_id": 101,
        "assigned_to_id": 101,
        "text_message_id": None,
        "voice_call_id": answer["call"]["id"],
        "created_at": NOW,
    }


def test_a_call_event_is_stored_for_its_activity(
    client: FlaskClient, coordinator: Staff, container: Container
) -> None:
    answer = initiate_call(client, coordinator)

    assert without_id(only_row(container, tables.events)) == {
        "clinic_id": 1,
        "event_type": "call",
        "occurred_at": NOW,
        "patient_id": 123,
        "activity_id": answer["activity"]["id"],
    }


# --- both ----------------------------------------------------------------------------------------


def test_an_sms_and_a_call_to_one_patient_are_two_activities_and_two_events(
    client: FlaskClient, coordinator: Staff, container: Container
) -> None:
    sms = send_sms(client, coordinator)
    call = initiate_call(client, coordinator)

    assert count_rows(container) == recorded(text_messages=1, voice_calls=1, activities=2)
    assert [
        (row["activity_type"], row["text_message_id"], row["voice_call_id"])
        for row in rows(container, tables.activities)
    ] == [("sms", sms["sms"]["id"], None), ("call", None, call["call"]["id"])]
    assert [(row["event_type"], row["activity_id"]) for row in rows(container, tables.events)] == [
        ("sms", sms["activity"]["id"]),
        ("call", call["activity"]["id"]),
    ]


@pytest.mark.both_databases
@pytest.mark.parametrize(
    ("post", "key", "table"),
    [
        pytest.param(post_sms, "sms", tables.text_messages, id="sms"),
        pytest.param(post_call, "call", tables.voice_calls, id="call"),
    ],
)
def test_the_records_carry_the_clocks_time_to_the_millisecond_in_the_answer(
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    clock: FixedClock,
    post: Callable[[FlaskClient, Staff], TestResponse],
    key: str,
    table: Table,
) -> None:
    clock.at = datetime(2025, 3, 9, 17, 45, 30, 123456, tzinfo=UTC)

    answer = post(client, coordinator).json

    assert answer is not None
    assert answer[key]["created_at"] == "2025-03-09T17:45:30.123Z"
    assert only_row(container, table)["created_at"] == clock.at
    assert only_row(container, tables.activities)["created_at"] == clock.at
    assert only_row(container, tables.events)["occurred_at"] == clock.at
