"""POST …/patients/{patient_id}/sms: what only SMS do (shared rules: test_api_send_or_call)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from ecm_comms.adapters.memory import FakeGateway
from ecm_comms.adapters.sql import tables
from ecm_comms.container import Container
from ecm_comms.domain.errors import GatewayError
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.domain.sms_bodies import SmsBody
from tests.conftest import Staff
from tests.integration.records import (
    count_rows,
    not_sent,
    only_row,
    outcome,
    recorded,
    refused,
    sms_url,
)

PHONE = "+18051234567"
BODY = "Hello! This is a reminder about your upcoming appointment. Please reply to confirm."

pytestmark = pytest.mark.usefixtures("patient")


def post_sms(
    client: FlaskClient, staff: Staff, sms: Any, *, patient_id: int | str = 123
) -> TestResponse:
    return client.post(sms_url(patient_id), json={"sms": sms}, headers=staff.headers)


# --- success -------------------------------------------------------------------------------------


def test_sending_an_sms_hands_the_message_to_twilio_once(
    client: FlaskClient, coordinator: Staff, gateway: FakeGateway
) -> None:
    post_sms(client, coordinator, {"phone_number": PHONE, "body": BODY})

    assert [(sent.to, sent.body) for sent in gateway.sent] == [(PhoneNumber(PHONE), SmsBody(BODY))]
    assert gateway.calls == []


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


# --- 422: the fields' values ---------------------------------------------------------------------

MISSING = object()  # the key is absent from the sms object


def sms_with(phone_number: Any = PHONE, body: Any = BODY) -> dict[str, Any]:
    fields = {"phone_number": phone_number, "body": body}
    return {key: value for key, value in fields.items() if value is not MISSING}


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


# --- Twilio failures -----------------------------------------------------------------------------

# What a test reads of the SMS's row after Twilio failed.
OUTCOME_COLUMNS = ("status", "twilio_sid", "error_code", "error_message", "sent_by_id")


def the_sms_row(container: Container) -> dict[str, Any]:
    message = only_row(container, tables.text_messages)
    return {column: message[column] for column in OUTCOME_COLUMNS}


# --- opted out -----------------------------------------------------------------------------------

UNSUBSCRIBED = "Attempt to send to unsubscribed recipient"
OPTED_OUT = ["Failed to send SMS: The recipient has opted out of SMS (replied STOP)"]


def test_twilios_opted_out_error_opts_the_number_out(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway
) -> None:
    gateway.fail_next(GatewayError(UNSUBSCRIBED, code=21610))

    response = post_sms(client, coordinator, sms_with())

    assert outcome(response, container, gateway) == not_sent(
        422,
        [f"Failed to send SMS: {UNSUBSCRIBED}"],
        recorded(text_messages=1, consent_entries=1),
    )
    assert dict(only_row(container, tables.consent_entries)) == {
        "id": 1,
        "phone": PHONE,
        "clinic_id": None,
        "action": "opt_out",
        "source": "carrier_21610",
        "sms_id": only_row(container, tables.text_messages)["id"],
        "user_id": None,
        "note": None,
        "recorded_for_clinic_id": 1,
        "at": datetime(2024, 11, 27, 10, 0, tzinfo=UTC),
    }
    assert the_sms_row(container)["status"] == "failed"


def test_an_sms_to_a_number_twilio_reported_opted_out_is_refused_and_not_sent(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway
) -> None:
    gateway.fail_next(GatewayError(UNSUBSCRIBED, code=21610))
    post_sms(client, coordinator, sms_with())

    response = post_sms(client, coordinator, sms_with(phone_number="(805) 123-4567"))

    assert outcome(response, container, gateway) == not_sent(
        422, OPTED_OUT, recorded(text_messages=1, consent_entries=1)
    )


def test_an_opted_out_number_does_not_stop_sms_to_another_number(
    client: FlaskClient, coordinator: Staff, container: Container, gateway: FakeGateway
) -> None:
    gateway.fail_next(GatewayError(UNSUBSCRIBED, code=21610))
    post_sms(client, coordinator, sms_with())

    response = post_sms(client, coordinator, sms_with(phone_number="+18055550199"))

    assert response.status_code == 201
    assert [sent.to for sent in gateway.sent] == [PhoneNumber("+18055550199")]
