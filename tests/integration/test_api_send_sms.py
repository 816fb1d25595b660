"""POST …/patients/{patient_id}/sms, as the API document describes it."""

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
from ecm_comms.domain.errors import GatewayError
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.sms_bodies import SmsBody
from ecm_comms.ports.gateway import OutboundSms, SmsReceipt
from tests.conftest import Staff
from tests.integration.records import (
    count_rows,
    not_sent,
    only_row,
    outcome,
    recorded,
    refused,
    rows,
    sms_url,
)

PHONE = "+18051234567"
BODY = "Hello! This is a reminder about your upcoming appointment. Please reply to confirm."
CREATED_AT = "2024-11-27T10:00:00.000Z"  # FixedClock's default instant
TWILIO_REJECTION = "The 'To' number is not a valid phone number"

pytestmark = pytest.mark.usefixtures("patient")


def post_sms(
    client: FlaskClient, staff: Staff, sms: Any, *, patient_id: int | str = 123
) -> TestResponse:
    return client.post(sms_url(patient_id), json={"sms": sms}, headers=staff.headers)


# --- success -------------------------------------------------------------------------------------


def test_sending_an_sms_answers_201_with_the_documented_body(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway
) -> None:
    response = post_sms(client, coordinator, {"phone_number": PHONE, "body": BODY})

    message = only_row(container, tables.text_messages)
    activity = only_row(container, tables.activities)
    assert response.status_code == 201
    assert response.mimetype == "application/json"
    assert response.json == {
        "message": "SMS sent successfully",
        "sms": {
            "id": message["id"],
            "twilio_sid": gateway.sent[0].sid,
            "to": PHONE,
            "from": "+18059876543",
            "body": BODY,
            "status": "queued",
            "direction": "outbound",
            "created_at": CREATED_AT,
        },
        "activity": {
            "id": activity["id"],
            "activity_type": "sms",
            "status": "created",
            "patient_id": 123,
            "performed_by_id": 101,
            "assigned_to_id": 101,
        },
    }


def test_sending_an_sms_answers_the_fields_in_the_documents_order(
    client: FlaskClient, coordinator: Staff
) -> None:
    body = post_sms(client, coordinator, {"phone_number": PHONE, "body": BODY}).json
    assert body is not None

    assert list(body) == ["message", "sms", "activity"]
    assert list(body["sms"]) == [
        "id",
        "twilio_sid",
        "to",
        "from",
        "body",
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


def test_sending_an_sms_answers_integer_ids_and_a_twilio_message_sid(
    client: FlaskClient, coordinator: Staff
) -> None:
    body = post_sms(client, coordinator, {"phone_number": PHONE, "body": BODY}).json
    assert body is not None

    assert isinstance(body["sms"]["id"], int)
    assert isinstance(body["activity"]["id"], int)
    assert body["sms"]["twilio_sid"].startswith("SM")


def test_sending_an_sms_hands_the_message_to_twilio_once(
    client: FlaskClient, coordinator: Staff, gateway: FakeGateway
) -> None:
    post_sms(client, coordinator, {"phone_number": PHONE, "body": BODY})

    assert [(sent.to, sent.body) for sent in gateway.sent] == [(PhoneNumber(PHONE), SmsBody(BODY))]
    assert gateway.calls == []


def test_sending_an_sms_records_one_message_one_activity_and_one_event(
    client: FlaskClient, coordinator: Staff, container: Container
) -> None:
    post_sms(client, coordinator, {"phone_number": PHONE, "body": BODY})

    assert count_rows(container) == recorded(text_messages=1, activities=1)


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
def test_every_documented_phone_format_is_sent_and_stored_as_e164(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway, typed: str
) -> None:
    response = post_sms(client, coordinator, {"phone_number": typed, "body": BODY})

    assert response.status_code == 201
    assert response.json is not None
    assert response.json["sms"]["to"] == "+18051234567"
    assert [sent.to for sent in gateway.sent] == [PhoneNumber("+18051234567")]
    assert only_row(container, tables.text_messages)["to_number"] == "+18051234567"


def test_a_body_of_exactly_1600_characters_is_sent(
    client: FlaskClient, coordinator: Staff, container: Container
) -> None:
    response = post_sms(client, coordinator, {"phone_number": PHONE, "body": "x" * 1600})

    assert response.status_code == 201
    assert response.json is not None
    assert response.json["sms"]["body"] == "x" * 1600
    assert count_rows(container) == recorded(text_messages=1, activities=1)


def test_unknown_fields_in_the_sms_object_are_ignored(
    client: FlaskClient, coordinator: Staff
) -> None:
    response = post_sms(
        client, coordinator, {"phone_number": PHONE, "body": BODY, "media_url": "https://x.test"}
    )

    assert response.status_code == 201


def test_an_sms_without_a_content_type_header_is_still_read_as_json(
    client: FlaskClient, coordinator: Staff, container: Container
) -> None:
    response = client.post(
        sms_url(),
        data=f'{{"sms": {{"phone_number": "{PHONE}", "body": "Hi"}}}}',
        headers=coordinator.headers,
    )

    assert response.status_code == 201
    assert response.mimetype == "application/json"
    assert count_rows(container) == recorded(text_messages=1, activities=1)


# --- 422: the fields' values ---------------------------------------------------------------------

MISSING = object()  # the key is absent from the sms object


def sms_with(phone_number: Any = PHONE, body: Any = BODY) -> dict[str, Any]:
    fields = {"phone_number": phone_number, "body": body}
    return {key: value for key, value in fields.items() if value is not MISSING}


@pytest.mark.parametrize(
    "phone_number",
    [
        pytest.param(MISSING, id="missing"),
        pytest.param(None, id="null"),
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
    ],
)
def test_a_missing_phone_number_is_refused(
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
    phone_number: Any,
) -> None:
    response = post_sms(client, coordinator, sms_with(phone_number=phone_number))

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
    response = post_sms(client, coordinator, sms_with(phone_number=phone_number))

    assert outcome(response, container, gateway) == refused(422, ["Invalid phone number"])


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(MISSING, id="missing"),
        pytest.param(None, id="null"),
        pytest.param("", id="empty"),
        pytest.param("   ", id="blank"),
        pytest.param("\n\t ", id="whitespace"),
    ],
)
def test_a_missing_body_is_refused(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway, body: Any
) -> None:
    response = post_sms(client, coordinator, sms_with(body=body))

    assert outcome(response, container, gateway) == refused(422, ["Body is required"])


def test_a_body_of_1601_characters_is_refused(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway
) -> None:
    response = post_sms(client, coordinator, sms_with(body="x" * 1601))

    assert outcome(response, container, gateway) == refused(
        422, ["Body is too long (maximum is 1600 characters)"]
    )


@pytest.mark.parametrize(
    ("sms", "errors"),
    [
        pytest.param({}, ["Phone number is required", "Body is required"], id="both-missing"),
        pytest.param(
            {"phone_number": "  ", "body": ""},
            ["Phone number is required", "Body is required"],
            id="both-blank",
        ),
        pytest.param(
            {"phone_number": "abc", "body": "x" * 1601},
            ["Invalid phone number", "Body is too long (maximum is 1600 characters)"],
            id="invalid-number-and-long-body",
        ),
    ],
)
def test_every_problem_is_reported_at_once(
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
    sms: dict[str, Any],
    errors: list[str],
) -> None:
    response = post_sms(client, coordinator, sms)

    assert outcome(response, container, gateway) == refused(422, errors)


# --- 422: the request's shape --------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param({}, id="no-sms-key"),
        pytest.param({"sms": None}, id="sms-null"),
        pytest.param({"call": {"phone_number": PHONE}}, id="a-call-payload"),
    ],
)
def test_a_request_without_an_sms_object_is_refused(
    client: FlaskClient,
    coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
    payload: dict[str, Any],
) -> None:
    response = client.post(sms_url(), json=payload, headers=coordinator.headers)

    assert outcome(response, container, gateway) == refused(422, ['"sms" is required'])


@pytest.mark.parametrize(
    "sms",
    [
        pytest.param("x", id="string"),
        pytest.param([], id="empty-list"),
        pytest.param([PHONE, BODY], id="list"),
        pytest.param(3, id="number"),
        pytest.param(True, id="boolean"),
    ],
)
def test_an_sms_that_is_not_an_object_is_refused(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway, sms: Any
) -> None:
    response = post_sms(client, coordinator, sms)

    assert outcome(response, container, gateway) == refused(422, ['"sms" must be an object'])


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
    response = post_sms(client, coordinator, sms_with(phone_number=phone_number))

    assert outcome(response, container, gateway) == refused(422, ["Phone number must be a string"])


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(42, id="integer"),
        pytest.param(["Hello"], id="list"),
        pytest.param({"text": "Hello"}, id="object"),
        pytest.param(True, id="boolean"),
    ],
)
def test_a_body_that_is_not_a_string_is_refused(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway, body: Any
) -> None:
    response = post_sms(client, coordinator, sms_with(body=body))

    assert outcome(response, container, gateway) == refused(422, ["Body must be a string"])


def test_a_phone_number_and_a_body_of_the_wrong_types_are_both_reported(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway
) -> None:
    response = post_sms(client, coordinator, {"phone_number": 8051234567, "body": 42})

    assert outcome(response, container, gateway) == refused(
        422, ["Phone number must be a string", "Body must be a string"]
    )


# --- 404 -----------------------------------------------------------------------------------------


def test_an_unknown_patient_is_not_found(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway
) -> None:
    response = post_sms(client, coordinator, sms_with(), patient_id=999)

    assert outcome(response, container, gateway) == refused(404, ["Patient not found"])


def test_a_patient_of_another_clinic_is_not_found(
    client: FlaskClient,
    other_clinic_coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
) -> None:
    response = post_sms(client, other_clinic_coordinator, sms_with())

    assert outcome(response, container, gateway) == refused(404, ["Patient not found"])


def test_a_patient_of_another_clinic_is_not_found_even_with_invalid_fields(
    client: FlaskClient,
    other_clinic_coordinator: Staff,
    container: Container,
    gateway: FakeGateway,
) -> None:
    response = post_sms(client, other_clinic_coordinator, {"phone_number": "abc", "body": ""})

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
    response = post_sms(client, coordinator, sms_with(), patient_id=patient_id)

    assert outcome(response, container, gateway) == refused(404, ["Patient not found"])


# --- on record before Twilio is asked -------------------------------------------------------------


class _RowReadingGateway(FakeGateway):
    """Reads the text_messages table at the moment it is asked to send an SMS."""

    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self._engine = engine
        self.rows_seen: list[dict[str, Any]] = []

    def send_sms(self, sms: OutboundSms) -> SmsReceipt:
        with self._engine.connect() as connection:
            found = connection.execute(select(tables.text_messages)).mappings()
            self.rows_seen = [dict(row) for row in found]
        return super().send_sms(sms)


def test_the_sms_is_committed_as_queued_without_a_sid_before_twilio_is_asked(
    client: FlaskClient, coordinator: Staff, container: Container
) -> None:
    reading = _RowReadingGateway(container.engine())
    container.gateway.override(reading)

    response = post_sms(client, coordinator, sms_with())

    assert response.json is not None
    assert [
        (row["id"], row["status"], row["twilio_sid"], row["sent_by_id"], row["body"])
        for row in reading.rows_seen
    ] == [(response.json["sms"]["id"], "queued", None, 101, BODY)]


def test_twilio_is_given_the_id_of_the_smss_record(
    client: FlaskClient, coordinator: Staff, gateway: FakeGateway
) -> None:
    response = post_sms(client, coordinator, sms_with())

    assert response.json is not None
    assert [sent.record_id for sent in gateway.sent] == [response.json["sms"]["id"]]


# --- Twilio failures -----------------------------------------------------------------------------

# What a test reads of the SMS's row after Twilio failed.
OUTCOME_COLUMNS = ("status", "twilio_sid", "error_code", "error_message", "sent_by_id")


def the_sms_row(container: Container) -> dict[str, Any]:
    message = only_row(container, tables.text_messages)
    return {column: message[column] for column in OUTCOME_COLUMNS}


def test_an_sms_twilio_rejects_is_refused_with_twilios_message_and_kept_as_failed(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway
) -> None:
    gateway.fail_next(GatewayError(TWILIO_REJECTION, code=21211))

    response = post_sms(client, coordinator, sms_with())

    assert outcome(response, container, gateway) == not_sent(
        422, [f"Failed to send SMS: {TWILIO_REJECTION}"], recorded(text_messages=1)
    )
    assert the_sms_row(container) == {
        "status": "failed",
        "twilio_sid": None,
        "error_code": 21211,
        "error_message": TWILIO_REJECTION,
        "sent_by_id": 101,
    }


def test_an_sms_twilio_stayed_unavailable_for_answers_502_and_is_kept_as_failed(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway
) -> None:
    # What the adapter raises once its retries of 429/503 answers are spent: Twilio did nothing.
    gateway.fail_next(GatewayError("Service Unavailable", unavailable=True, retry_safe=True))

    response = post_sms(client, coordinator, sms_with())

    assert outcome(response, container, gateway) == not_sent(
        502, ["Failed to send SMS: Service Unavailable"], recorded(text_messages=1)
    )
    assert the_sms_row(container) == {
        "status": "failed",
        "twilio_sid": None,
        "error_code": None,
        "error_message": "Service Unavailable",
        "sent_by_id": 101,
    }


def test_an_sms_whose_fate_at_twilio_is_unknown_answers_502_and_stays_queued(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway
) -> None:
    # A timeout: Twilio may have sent it, and its status callback will say so.
    gateway.fail_next(GatewayError("Twilio did not answer in time", unavailable=True))

    response = post_sms(client, coordinator, sms_with())

    assert outcome(response, container, gateway) == not_sent(
        502, ["Failed to send SMS: Twilio did not answer in time"], recorded(text_messages=1)
    )
    assert the_sms_row(container) == {
        "status": "queued",
        "twilio_sid": None,
        "error_code": None,
        "error_message": None,
        "sent_by_id": 101,
    }


def test_an_sms_after_a_twilio_failure_is_sent_with_its_own_record_and_activity(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway
) -> None:
    gateway.fail_next(GatewayError("Service Unavailable", unavailable=True, retry_safe=True))
    post_sms(client, coordinator, sms_with())

    response = post_sms(client, coordinator, sms_with())

    assert response.status_code == 201
    assert response.json is not None
    assert len(gateway.sent) == 1
    assert count_rows(container) == recorded(text_messages=2, activities=1)
    assert [
        (row["status"], row["twilio_sid"]) for row in rows(container, tables.text_messages)
    ] == [("failed", None), ("queued", gateway.sent[0].sid)]
    assert only_row(container, tables.activities)["text_message_id"] == (response.json["sms"]["id"])


# --- opted out -----------------------------------------------------------------------------------

UNSUBSCRIBED = "Attempt to send to unsubscribed recipient"
OPTED_OUT = ["Failed to send SMS: The recipient has opted out of SMS (replied STOP)"]


def test_twilios_opted_out_error_opts_the_number_out(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway
) -> None:
    gateway.fail_next(GatewayError(UNSUBSCRIBED, code=21610))

    response = post_sms(client, coordinator, sms_with())

    assert outcome(response, container, gateway) == not_sent(
        422, [f"Failed to send SMS: {UNSUBSCRIBED}"], recorded(text_messages=1, opt_outs=1)
    )
    assert dict(only_row(container, tables.opt_outs)) == {
        "phone": PHONE,
        "opted_out_at": datetime(2024, 11, 27, 10, 0, tzinfo=UTC),
    }
    assert the_sms_row(container)["status"] == "failed"


def test_an_sms_to_a_number_twilio_reported_opted_out_is_refused_and_not_sent(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway
) -> None:
    gateway.fail_next(GatewayError(UNSUBSCRIBED, code=21610))
    post_sms(client, coordinator, sms_with())

    response = post_sms(client, coordinator, sms_with(phone_number="(805) 123-4567"))

    assert outcome(response, container, gateway) == not_sent(
        422, OPTED_OUT, recorded(text_messages=1, opt_outs=1)
    )


def test_an_opted_out_number_does_not_stop_sms_to_another_number(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway
) -> None:
    gateway.fail_next(GatewayError(UNSUBSCRIBED, code=21610))
    post_sms(client, coordinator, sms_with())

    response = post_sms(client, coordinator, sms_with(phone_number="+18055550199"))

    assert response.status_code == 201
    assert [sent.to for sent in gateway.sent] == [PhoneNumber("+18055550199")]
