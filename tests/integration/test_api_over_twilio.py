"""The API wired to the Twilio adapter (ECM_GATEWAY=twilio), talking to a Twilio stand-in."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Table
from werkzeug.test import TestResponse

from benchmarks.twilio_standin import RunningStandIn, TwilioStandIn
from ecm_comms.adapters.sql import tables
from ecm_comms.container import Container, create_container
from ecm_comms.domain.commands import RegisterUser, UpsertPatient
from ecm_comms.entrypoints.http import create_app
from ecm_comms.settings import DEFAULT_CALL_UNAVAILABLE_MESSAGE
from tests.integration.records import call_url, count_rows, only_row, recorded, sms_url

PUBLIC_BASE_URL = "https://comms.clinic.example"
PHONE = "+18051234567"
OUTCOME_COLUMNS = ("status", "twilio_sid", "error_code", "error_message")


@pytest.fixture
def twilio() -> Iterator[TwilioStandIn]:
    with RunningStandIn() as standin:
        yield standin


@dataclass(frozen=True)
class Service:
    client: FlaskClient
    token: str
    container: Container

    def send_sms(self, phone_number: str = PHONE, body: str = "Hello") -> TestResponse:
        return self.client.post(
            sms_url(123),
            json={"sms": {"phone_number": phone_number, "body": body}},
            headers={"X-User-Token": self.token},
        )

    def initiate_call(self, phone_number: str = PHONE) -> TestResponse:
        return self.client.post(
            call_url(123),
            json={"call": {"phone_number": phone_number}},
            headers={"X-User-Token": self.token},
        )

    def outcome_of(self, table: Table) -> dict[str, Any]:
        """What the only record of ``table`` says of Twilio's answer."""
        row = only_row(self.container, table)
        return {column: row[column] for column in OUTCOME_COLUMNS}


@contextmanager
def running_service(database_url: str, twilio_base_url: str) -> Iterator[Service]:
    """The service configured for Twilio at ``twilio_base_url``, with Dana and patient 123."""
    container = create_container(
        environ={
            "ECM_DATABASE_URL": database_url,
            "ECM_PUBLIC_BASE_URL": PUBLIC_BASE_URL,
            "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
            "TWILIO_AUTH_TOKEN": "test-auth-token",
            "TWILIO_FROM_NUMBER": "+18059876543",
            "TWILIO_API_BASE_URL": twilio_base_url,
        }
    )
    assert container.settings().gateway == "twilio"
    token = container.register_user()(RegisterUser(101, 1, "Dana")).token.value
    container.upsert_patient()(UpsertPatient(123, 1, (PHONE,)))
    try:
        yield Service(create_app(container).test_client(), token, container)
    finally:
        container.engine().dispose()


@pytest.fixture
def service(database_url: str, twilio: TwilioStandIn) -> Iterator[Service]:
    with running_service(database_url, twilio.base_url) as running:
        yield running


def test_an_sms_sent_through_the_api_reaches_twilio(
    service: Service, twilio: TwilioStandIn
) -> None:
    response = service.send_sms("(805) 123-4567")

    assert response.status_code == 201, response.json
    [request] = twilio.requests
    assert request.field("To") == "+18051234567"
    assert response.json is not None
    assert response.json["sms"]["from"] == "+18059876543"
    assert response.json["sms"]["twilio_sid"].startswith("SM")


def test_twilio_reports_an_smss_statuses_at_the_public_url_naming_its_record(
    service: Service, twilio: TwilioStandIn
) -> None:
    answer = service.send_sms().json

    assert answer is not None
    assert twilio.status_callback_for(answer["sms"]["twilio_sid"]) == (
        f"{PUBLIC_BASE_URL}/v1/clinic/webhooks/twilio/sms_status?id={answer['sms']['id']}"
    )


def test_twilio_reports_a_calls_statuses_at_the_public_url_naming_its_record(
    service: Service, twilio: TwilioStandIn
) -> None:
    answer = service.initiate_call().json

    assert answer is not None
    assert twilio.status_callback_for(answer["call"]["twilio_sid"]) == (
        f"{PUBLIC_BASE_URL}/v1/clinic/webhooks/twilio/voice_status?id={answer['call']['id']}"
    )


def test_a_call_by_a_user_without_a_phone_plays_the_clinics_message_when_answered(
    service: Service, twilio: TwilioStandIn
) -> None:
    service.initiate_call()

    [request] = twilio.requests
    assert request.field("Twiml") == (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f"<Response><Say>{DEFAULT_CALL_UNAVAILABLE_MESSAGE}</Say><Hangup /></Response>"
    )


def test_twilios_refusal_is_a_422_in_the_documents_words_and_kept_as_failed(
    service: Service, twilio: TwilioStandIn
) -> None:
    twilio.fail_next(400, 21211, "The 'To' number is not a valid phone number")

    response = service.send_sms()

    assert response.status_code == 422
    assert response.json == {
        "errors": ["Failed to send SMS: The 'To' number is not a valid phone number"]
    }
    assert service.outcome_of(tables.text_messages) == {
        "status": "failed",
        "twilio_sid": None,
        "error_code": 21211,
        "error_message": "The 'To' number is not a valid phone number",
    }
    assert count_rows(service.container) == recorded(text_messages=1)


def test_twilio_busy_through_every_retry_is_a_502_and_kept_as_failed(
    service: Service, twilio: TwilioStandIn
) -> None:
    twilio.fail_next(503, None, "Service unavailable", times=3)

    response = service.initiate_call()

    assert response.status_code == 502
    assert response.json == {"errors": ["Failed to initiate call: Service unavailable"]}
    assert len(twilio.requests) == 3
    assert service.outcome_of(tables.voice_calls) == {
        "status": "failed",
        "twilio_sid": None,
        "error_code": None,
        "error_message": "Service unavailable",
    }


def test_a_twilio_server_error_is_a_502_and_leaves_the_call_queued_for_its_callback(
    service: Service, twilio: TwilioStandIn
) -> None:
    twilio.fail_next(500, None, "Internal error")

    response = service.initiate_call()

    assert response.status_code == 502
    assert response.json == {"errors": ["Failed to initiate call: Internal error"]}
    assert service.outcome_of(tables.voice_calls) == {
        "status": "queued",
        "twilio_sid": None,
        "error_code": None,
        "error_message": None,
    }
    assert count_rows(service.container) == recorded(voice_calls=1)


def test_after_twilio_says_the_number_opted_out_no_sms_goes_to_twilio_for_it(
    service: Service, twilio: TwilioStandIn
) -> None:
    twilio.fail_next(400, 21610, "Attempt to send to unsubscribed recipient")
    service.send_sms()

    response = service.send_sms()

    assert response.status_code == 422
    assert response.json == {
        "errors": ["Failed to send SMS: The recipient has opted out of SMS (replied STOP)"]
    }
    assert len(twilio.requests) == 1
    assert count_rows(service.container) == recorded(text_messages=1, consent_entries=1)


def test_an_unreachable_twilio_is_a_502_after_retries_and_the_sms_is_kept_as_failed(
    database_url: str,
) -> None:
    with RunningStandIn() as gone:
        unreachable = gone.base_url

    with running_service(database_url, unreachable) as service:
        response = service.send_sms()
        kept = service.outcome_of(tables.text_messages)

    assert response.status_code == 502
    assert response.json == {"errors": ["Failed to send SMS: Twilio could not be reached"]}
    assert kept == {
        "status": "failed",
        "twilio_sid": None,
        "error_code": None,
        "error_message": "Twilio could not be reached",
    }
