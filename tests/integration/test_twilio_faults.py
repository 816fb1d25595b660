"""Twilio misbehaving under the API: the service wired to the Twilio adapter (ECM_GATEWAY=twilio)
talks to a Twilio stand-in over HTTP that answers 429, 503, 500 or stalls.

What a send may repeat depends on what Twilio's answer promises: a 429 or 503 promises nothing
was done (asked again, at most three times); a 500 or a timeout promises nothing (asked once,
and the record waits, queued, for its status callback).
``test_api_over_twilio.py`` covers a call through three 503s and a call's 500 left queued.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Table
from werkzeug.test import TestResponse

from benchmarks.twilio_standin import RunningStandIn, TwilioStandIn
from ecm_comms.adapters.sql import tables
from ecm_comms.adapters.twilio_gateway import TwilioGateway, twilio_client
from ecm_comms.container import Container, create_container
from ecm_comms.domain.commands import RegisterUser, UpsertPatient
from ecm_comms.domain.phone_numbers import PhoneNumber
from ecm_comms.entrypoints.http import create_app
from ecm_comms.settings import GatewayKind
from tests.integration.records import call_url, count_rows, only_row, recorded, sms_url

PUBLIC_BASE_URL = "https://comms.clinic.example"
PHONE = "+18051234567"
ACCOUNT_SID = "AC" + "2" * 32
AUTH_TOKEN = "twilio-faults-auth-token"
FROM_NUMBER = "+18059876543"
# The client's timeout in the stall tests, and how long the stand-in stalls: well beyond it.
SHORT_TIMEOUT_SECONDS = 0.5
STALL_SECONDS = 2.0

CHANNELS = ["sms", "call"]
RECORD_TABLE: dict[str, Table] = {"sms": tables.text_messages, "call": tables.voice_calls}
FAILED_TO = {"sms": "Failed to send SMS", "call": "Failed to initiate call"}


@pytest.fixture
def twilio() -> Iterator[TwilioStandIn]:
    with RunningStandIn() as standin:
        yield standin


@dataclass(frozen=True)
class Service:
    client: FlaskClient
    token: str
    container: Container

    def send(self, channel: str) -> TestResponse:
        """An SMS or a call to patient 123, through the API."""
        if channel == "sms":
            url, payload = sms_url(123), {"sms": {"phone_number": PHONE, "body": "Hello"}}
        else:
            url, payload = call_url(123), {"call": {"phone_number": PHONE}}
        return self.client.post(url, json=payload, headers={"X-User-Token": self.token})

    def record(self, channel: str) -> dict[str, Any]:
        """What the only record of ``channel`` says of Twilio's answer."""
        row = only_row(self.container, RECORD_TABLE[channel])
        return {column: row[column] for column in ("status", "twilio_sid", "error_message")}

    def records(self, channel: str, *, activities: int = 0) -> dict[str, int]:
        """``count_rows`` expected of one record of ``channel`` and ``activities`` activities."""
        if channel == "sms":
            return recorded(text_messages=1, activities=activities)
        return recorded(voice_calls=1, activities=activities)


@pytest.fixture
def service(database_url: str, twilio: TwilioStandIn) -> Iterator[Service]:
    """The service configured for Twilio at the stand-in, with Dana and patient 123."""
    container = create_container(
        environ={
            "ECM_DATABASE_URL": database_url,
            "ECM_GATEWAY": "twilio",
            "ECM_PUBLIC_BASE_URL": PUBLIC_BASE_URL,
            "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "TWILIO_FROM_NUMBER": FROM_NUMBER,
            "TWILIO_API_BASE_URL": twilio.base_url,
        }
    )
    assert container.settings().gateway is GatewayKind.TWILIO  # wrapped, to be counted
    token = container.register_user()(RegisterUser(101, 1, "Dana")).token.value
    container.upsert_patient()(UpsertPatient(123, 1, (PHONE,)))
    try:
        yield Service(create_app(container).test_client(), token, container)
    finally:
        container.engine().dispose()


@pytest.fixture
def impatient_service(service: Service, twilio: TwilioStandIn) -> Service:
    """The service whose Twilio requests give up after ``SHORT_TIMEOUT_SECONDS``."""
    client = twilio_client(ACCOUNT_SID, AUTH_TOKEN, twilio.base_url, SHORT_TIMEOUT_SECONDS)
    service.container.gateway.override(
        TwilioGateway(
            client,
            PhoneNumber.parse(FROM_NUMBER),
            public_base_url=PUBLIC_BASE_URL,
        )
    )
    return service


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_rate_limited_send_is_retried_once_and_recorded_once(
    service: Service, twilio: TwilioStandIn, channel: str
) -> None:
    twilio.fail_next(429, 20429, "Too Many Requests")

    response = service.send(channel)

    assert response.status_code == 201, response.get_json()
    assert len(twilio.requests) == 2
    assert count_rows(service.container) == service.records(channel, activities=1)
    assert service.record(channel)["status"] == "queued"
    assert service.record(channel)["twilio_sid"] is not None


def test_an_sms_twilio_stays_unavailable_for_is_asked_three_times_and_kept_failed(
    service: Service, twilio: TwilioStandIn
) -> None:
    twilio.fail_next(503, None, "Service unavailable", times=3)

    response = service.send("sms")

    assert (response.status_code, response.get_json()) == (
        502,
        {"errors": ["Failed to send SMS: Service unavailable"]},
    )
    assert len(twilio.requests) == 3
    assert service.record("sms") == {
        "status": "failed",
        "twilio_sid": None,
        "error_message": "Service unavailable",
    }
    assert count_rows(service.container) == service.records("sms")


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_twilio_server_error_is_a_502_asked_once_and_the_record_waits_queued(
    service: Service, twilio: TwilioStandIn, channel: str
) -> None:
    twilio.fail_next(500, None, "Internal error")

    response = service.send(channel)

    assert (response.status_code, response.get_json()) == (
        502,
        {"errors": [f"{FAILED_TO[channel]}: Internal error"]},
    )
    assert len(twilio.requests) == 1
    assert service.record(channel) == {
        "status": "queued",
        "twilio_sid": None,
        "error_message": None,
    }
    assert count_rows(service.container) == service.records(channel)


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_stalled_twilio_is_a_502_asked_once_and_the_record_waits_queued(
    impatient_service: Service, twilio: TwilioStandIn, channel: str
) -> None:
    twilio.stall_next(STALL_SECONDS)

    response = impatient_service.send(channel)

    assert (response.status_code, response.get_json()) == (
        502,
        {"errors": [f"{FAILED_TO[channel]}: Twilio did not answer in time"]},
    )
    assert len(twilio.requests) == 1
    assert impatient_service.record(channel) == {
        "status": "queued",
        "twilio_sid": None,
        "error_message": None,
    }
    assert count_rows(impatient_service.container) == impatient_service.records(channel)
