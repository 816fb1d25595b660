"""POST …/patients/{patient_id}/call, as the API document describes it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, select
from werkzeug.test import TestResponse

from ecm_comms.adapters.memory import FakeGateway
from ecm_comms.adapters.sql import tables
from ecm_comms.container import Container
from ecm_comms.domain.commands import RegisterUser
from ecm_comms.domain.errors import GatewayError
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.ports.gateway import CallReceipt, OutboundCall
from tests.conftest import Staff
from tests.integration.records import (
    call_url,
    count_rows,
    not_sent,
    only_row,
    outcome,
    recorded,
    refused,
    rows,
)

PHONE = "+18051234567"
CREATED_AT = "2024-11-27T10:00:00.000Z"  # FixedClock's default instant
TWILIO_REJECTION = "The 'To' number is not a valid phone number"

pytestmark = pytest.mark.usefixtures("patient")


def post_call(
    client: FlaskClient, staff: Staff, call: Any, *, patient_id: int | str = 123
) -> TestResponse:
    return client.post(call_url(patient_id), json={"call": call}, headers=staff.headers)


# --- success -------------------------------------------------------------------------------------


def test_initiating_a_call_answers_201_with_the_documented_body(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway
) -> None:
    response = post_call(client, coordinator, {"phone_number": PHONE})

    call = only_row(container, tables.voice_calls)
    activity = only_row(container, tables.activities)
    assert response.status_code == 201
    assert response.mimetype == "application/json"
    assert response.json == {
        "message": "Call initiated successfully",
        "call": {
            "id": call["id"],
            "twilio_sid": gateway.calls[0].sid,
            "to": PHONE,
            "from": "+18059876543",
            "status": "queued",
            "direction": "outbound",
            "created_at": CREATED_AT,
        },
        "activity": {
            "id": activity["id"],
            "activity_type": "call",
            "status": "created",
            "patient_id": 123,
            "performed_by_id": 101,
            "assigned_to_id": 101,
        },
    }


def test_initiating_a_call_answers_the_fields_in_the_documents_order(
    client: FlaskClient, coordinator: Staff
) -> None:
    body = post_call(client, coordinator, {"phone_number": PHONE}).json
    assert body is not None

    assert list(body) == ["message", "call", "activity"]
    assert list(body["call"]) == [
        "id",
        "twilio_sid",
        "to",
        "from",
        "status",
        "direction",
        "created_at",
    ]
    assert list(body["activity"]) == [
        "id",
        "activity_type",
        "status",
        "patient_id",
        "performed_by_id",
        "assigned_to_id",
    ]


def test_initiating_a_call_answers_integer_ids_and_a_twilio_call_sid(
    client: FlaskClient, coordinator: Staff
) -> None:
    body = post_call(client, coordinator, {"phone_number": PHONE}).json
    assert body is not None

    assert isinstance(body["call"]["id"], int)
    assert isinstance(body["activity"]["id"], int)
    assert body["call"]["twilio_sid"].startswith("CA")


def test_initiating_a_call_asks_twilio_for_one_call(
    client: FlaskClient, coordinator: Staff, gateway: FakeGateway
) -> None:
    post_call(client, coordinator, {"phone_number": PHONE})

    assert [started.to for started in gateway.calls] == [PhoneNumber(PHONE)]
    assert gateway.sent == []


def test_initiating_a_call_records_one_call_one_activity_and_one_event(
    client: FlaskClient, coordinator: Staff, container: Container
) -> None:
    post_call(client, coordinator, {"phone_number": PHONE})

    assert count_rows(container) == recorded(voice_calls=1, activities=1)


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param("+18051234567", id="e164"),
        pytest.param("8051234567", id="national"),
        pytest.param("805-123-4567", id="with-dashes"),
        pytest.param("(805) 123-4567", id="with-parentheses"),
        pytest.param("1 805 123 4567", id="spaces-and-leading-1"),
    ],
)
def test_every_documented_phone_format_is_called_and_stored_as_e164(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway, typed: str
) -> None:
    response = post_call(client, coordinator, {"phone_number": typed})

    assert response.status_code == 201
    assert response.json is not None
    assert response.json["call"]["to"] == "+18051234567"
    assert [started.to for started in gateway.calls] == [PhoneNumber("+18051234567")]
    assert only_row(container, tables.voice_calls)["to_number"] == "+18051234567"


def test_a_body_field_in_the_call_object_is_ignored(
    client: FlaskClient, coordinator: Staff, container: Container
) -> None:
    response = post_call(client, coordinator, {"phone_number": PHONE, "body": 42})

    assert response.status_code == 201
    assert count_rows(container) == recorded(voice_calls=1, activities=1)


def test_a_call_without_a_content_type_header_is_still_read_as_json(
    client: FlaskClient, coordinator: Staff, container: Container
) -> None:
    response = client.post(
        call_url(), data=f'{{"call": {{"phone_number": "{PHONE}"}}}}', headers=coordinator.headers
    )

    assert response.status_code == 201
    assert response.mimetype == "application/json"
    assert count_rows(container) == recorded(voice_calls=1, activities=1)


# --- 422 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        pytest.param({}, id="missing"),
        pytest.param({"phone_number": None}, id="null"),
        pytest.param({"phone_number": ""}, id="empty"),
        pytest.param({"phone_number": "   "}, id="blank"),
    ],
)
def test_a_missing_phone_number_is_refused(
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
    call: dict[str, Any],
) -> None:
    response = post_call(client, coordinator, call)

    assert outcome(response, container, gateway) == refused(422, ["Phone number is required"])


@pytest.mark.parametrize(
    "phone_number",
    [
        pytest.param("abc", id="letters"),
        pytest.param("12345", id="too-short"),
        pytest.param("+1805123456789", id="too-long"),
    ],
)
def test_an_invalid_phone_number_is_refused(
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
    phone_number: str,
) -> None:
    response = post_call(client, coordinator, {"phone_number": phone_number})

    assert outcome(response, container, gateway) == refused(422, ["Invalid phone number"])


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({}, id="no-call-key"),
        pytest.param({"call": None}, id="call-null"),
        pytest.param({"sms": {"phone_number": PHONE, "body": "Hi"}}, id="an-sms-payload"),
    ],
)
def test_a_request_without_a_call_object_is_refused(
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
    payload: dict[str, Any],
) -> None:
    response = client.post(call_url(), json=payload, headers=coordinator.headers)

    assert outcome(response, container, gateway) == refused(422, ['"call" is required'])


@pytest.mark.parametrize(
    "call",
    [
        pytest.param("x", id="string"),
        pytest.param([], id="empty-list"),
        pytest.param([PHONE], id="list"),
        pytest.param(3, id="number"),
        pytest.param(True, id="boolean"),
    ],
)
def test_a_call_that_is_not_an_object_is_refused(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway, call: Any
) -> None:
    response = post_call(client, coordinator, call)

    assert outcome(response, container, gateway) == refused(422, ['"call" must be an object'])


@pytest.mark.parametrize(
    "phone_number",
    [
        pytest.param(8051234567, id="integer"),
        pytest.param(8051234567.0, id="float"),
        pytest.param([PHONE], id="list"),
        pytest.param({"number": PHONE}, id="object"),
        pytest.param(False, id="boolean"),
    ],
)
def test_a_phone_number_that_is_not_a_string_is_refused(
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
    phone_number: Any,
) -> None:
    response = post_call(client, coordinator, {"phone_number": phone_number})

    assert outcome(response, container, gateway) == refused(422, ["Phone number must be a string"])


# --- 404 -----------------------------------------------------------------------------------------


def test_an_unknown_patient_is_not_found(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway
) -> None:
    response = post_call(client, coordinator, {"phone_number": PHONE}, patient_id=999)

    assert outcome(response, container, gateway) == refused(404, ["Patient not found"])


def test_a_patient_of_another_clinic_is_not_found(
    client: FlaskClient,
    other_clinic_coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
) -> None:
    response = post_call(client, other_clinic_coordinator, {"phone_number": PHONE})

    assert outcome(response, container, gateway) == refused(404, ["Patient not found"])


def test_a_patient_of_another_clinic_is_not_found_even_with_an_invalid_number(
    client: FlaskClient,
    other_clinic_coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
) -> None:
    response = post_call(client, other_clinic_coordinator, {"phone_number": "abc"})

    assert outcome(response, container, gateway) == refused(404, ["Patient not found"])


@pytest.mark.parametrize(
    "patient_id",
    [
        pytest.param("abc", id="letters"),
        pytest.param("12.5", id="decimal"),
        pytest.param("-1", id="negative"),
        pytest.param("1e3", id="exponent"),
        pytest.param("99999999999999999999", id="beyond-64-bits"),
    ],
)
def test_a_patient_id_that_is_not_an_integer_is_not_found(
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
    patient_id: str,
) -> None:
    response = post_call(client, coordinator, {"phone_number": PHONE}, patient_id=patient_id)

    assert outcome(response, container, gateway) == refused(404, ["Patient not found"])


# --- on record before Twilio is asked, and what Twilio is asked ----------------------------------


class _RowReadingGateway(FakeGateway):
    """Reads the voice_calls table at the moment it is asked to start a call."""

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self._engine = engine
        self.rows_seen: list[dict[str, Any]] = []

    def start_call(self, call: OutboundCall) -> CallReceipt:
        with self._engine.connect() as connection:
            found = connection.execute(select(tables.voice_calls)).mappings()
            self.rows_seen = [dict(row) for row in found]
        return super().start_call(call)


def test_the_call_is_committed_as_queued_without_a_sid_before_twilio_is_asked(
    client: FlaskClient, coordinator: Staff, container: Container
) -> None:
    reading = _RowReadingGateway(container.engine())
    container.gateway.override(reading)

    response = post_call(client, coordinator, {"phone_number": PHONE})

    assert response.json is not None
    assert [
        (row["id"], row["status"], row["twilio_sid"], row["sent_by_id"])
        for row in reading.rows_seen
    ] == [(response.json["call"]["id"], "queued", None, 101)]


def test_twilio_is_given_the_id_of_the_calls_record(
    client: FlaskClient, coordinator: Staff, gateway: FakeGateway
) -> None:
    response = post_call(client, coordinator, {"phone_number": PHONE})

    assert response.json is not None
    assert [started.record_id for started in gateway.calls] == [response.json["call"]["id"]]


def test_a_call_by_a_user_with_a_phone_connects_the_patient_to_that_phone(
    client: FlaskClient, coordinator: Staff, gateway: FakeGateway
) -> None:
    post_call(client, coordinator, {"phone_number": PHONE})

    assert [started.connect_to for started in gateway.calls] == [PhoneNumber("+18055550101")]


@pytest.fixture
def phoneless_coordinator(container: Container) -> Staff:
    """Lee, coordinator 102 of clinic 1, with no phone of their own."""
    registered = container.register_user()(RegisterUser(102, 1, "Lee Nophone"))
    return Staff(registered.user, registered.token.value)


def test_a_call_by_a_user_without_a_phone_connects_the_patient_to_the_clinics_number(
    client: FlaskClient, phoneless_coordinator: Staff, container: Container, gateway: FakeGateway
) -> None:
    container.clinic_number.override(PhoneNumber("+18059870000"))

    response = post_call(client, phoneless_coordinator, {"phone_number": PHONE})

    assert response.status_code == 201
    assert [started.connect_to for started in gateway.calls] == [PhoneNumber("+18059870000")]


def test_a_call_with_no_one_to_connect_to_is_still_placed_without_a_number_to_dial(
    client: FlaskClient, phoneless_coordinator: Staff, gateway: FakeGateway
) -> None:
    response = post_call(client, phoneless_coordinator, {"phone_number": PHONE})

    assert response.status_code == 201
    assert [(started.to, started.connect_to) for started in gateway.calls] == [
        (PhoneNumber(PHONE), None)
    ]


# --- Twilio failures -----------------------------------------------------------------------------

# What a test reads of the call's row after Twilio failed.
OUTCOME_COLUMNS = ("status", "twilio_sid", "error_code", "error_message", "sent_by_id")


def the_call_row(container: Container) -> dict[str, Any]:
    call = only_row(container, tables.voice_calls)
    return {column: call[column] for column in OUTCOME_COLUMNS}


def test_a_call_twilio_rejects_is_refused_with_twilios_message_and_kept_as_failed(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway
) -> None:
    gateway.fail_next(GatewayError(TWILIO_REJECTION, code=21211))

    response = post_call(client, coordinator, {"phone_number": PHONE})

    assert outcome(response, container, gateway) == not_sent(
        422, [f"Failed to initiate call: {TWILIO_REJECTION}"], recorded(voice_calls=1)
    )
    assert the_call_row(container) == {
        "status": "failed",
        "twilio_sid": None,
        "error_code": 21211,
        "error_message": TWILIO_REJECTION,
        "sent_by_id": 101,
    }


def test_a_call_twilio_stayed_unavailable_for_answers_502_and_is_kept_as_failed(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway
) -> None:
    # What the adapter raises once its retries of 429/503 answers are spent: Twilio did nothing.
    gateway.fail_next(GatewayError("Service Unavailable", unavailable=True, retry_safe=True))

    response = post_call(client, coordinator, {"phone_number": PHONE})

    assert outcome(response, container, gateway) == not_sent(
        502, ["Failed to initiate call: Service Unavailable"], recorded(voice_calls=1)
    )
    assert the_call_row(container) == {
        "status": "failed",
        "twilio_sid": None,
        "error_code": None,
        "error_message": "Service Unavailable",
        "sent_by_id": 101,
    }


def test_a_call_whose_fate_at_twilio_is_unknown_answers_502_and_stays_queued(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway
) -> None:
    # A 500 answer: Twilio may have placed it, and its status callback will say so.
    gateway.fail_next(GatewayError("Internal error", unavailable=True))

    response = post_call(client, coordinator, {"phone_number": PHONE})

    assert outcome(response, container, gateway) == not_sent(
        502, ["Failed to initiate call: Internal error"], recorded(voice_calls=1)
    )
    assert the_call_row(container) == {
        "status": "queued",
        "twilio_sid": None,
        "error_code": None,
        "error_message": None,
        "sent_by_id": 101,
    }


def test_a_call_after_a_twilio_failure_is_placed_with_its_own_record_and_activity(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway
) -> None:
    gateway.fail_next(GatewayError("Service Unavailable", unavailable=True, retry_safe=True))
    post_call(client, coordinator, {"phone_number": PHONE})

    response = post_call(client, coordinator, {"phone_number": PHONE})

    assert response.status_code == 201
    assert response.json is not None
    assert len(gateway.calls) == 1
    assert count_rows(container) == recorded(voice_calls=2, activities=1)
    assert [(row["status"], row["twilio_sid"]) for row in rows(container, tables.voice_calls)] == [
        ("failed", None),
        ("queued", gateway.calls[0].sid),
    ]
    assert only_row(container, tables.activities)["voice_call_id"] == (response.json["call"]["id"])


# --- opt-outs are for SMS only -------------------------------------------------------------------


def test_a_number_opted_out_of_sms_is_still_called(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway
) -> None:
    with container.uow() as uow:
        uow.opt_outs.opt_out(PhoneNumber(PHONE), datetime(2024, 11, 1, tzinfo=UTC))
        uow.commit()

    response = post_call(client, coordinator, {"phone_number": PHONE})

    assert response.status_code == 201
    assert [started.to for started in gateway.calls] == [PhoneNumber(PHONE)]


def test_twilios_opted_out_error_on_a_call_does_not_opt_the_number_out_of_sms(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway
) -> None:
    gateway.fail_next(GatewayError("Attempt to send to unsubscribed recipient", code=21610))

    response = post_call(client, coordinator, {"phone_number": PHONE})

    assert response.status_code == 422
    assert count_rows(container) == recorded(voice_calls=1, opt_outs=0)
