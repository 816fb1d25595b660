"""The API wired to the Twilio adapter (ECM_GATEWAY=twilio), talking to a Twilio stand-in."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from ecm_comms.container import create_container
from ecm_comms.domain.commands import RegisterUser, UpsertPatient
from ecm_comms.entrypoints.http import create_app
from tests.support.twilio_standin import RunningStandIn, TwilioStandIn

SMS_URL = "/v1/clinic/ecm/communications/patients/123/sms"


@pytest.fixture
def twilio() -> Iterator[TwilioStandIn]:
    with RunningStandIn() as standin:
        yield standin


@pytest.fixture
def client_and_token(database_url: str, twilio: TwilioStandIn) -> Iterator[tuple[FlaskClient, str]]:
    container = create_container(
        environ={
            "ECM_DATABASE_URL": database_url,
            "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
            "TWILIO_AUTH_TOKEN": "test-auth-token",
            "TWILIO_FROM_NUMBER": "+18059876543",
            "TWILIO_API_BASE_URL": twilio.base_url,
        }
    )
    assert container.config.gateway() == "twilio"
    token = container.register_user()(RegisterUser(101, 1, "Dana")).token.value
    container.upsert_patient()(UpsertPatient(123, 1, ("+18051234567",)))
    yield create_app(container).test_client(), token
    container.engine().dispose()


def test_an_sms_sent_through_the_api_reaches_twilio(
    client_and_token: tuple[FlaskClient, str], twilio: TwilioStandIn
) -> None:
    client, token = client_and_token

    response = client.post(
        SMS_URL,
        json={"sms": {"phone_number": "(805) 123-4567", "body": "Hello"}},
        headers={"X-User-Token": token},
    )

    assert response.status_code == 201, response.json
    [request] = twilio.requests
    assert request.field("To") == "+18051234567"
    assert response.json is not None
    assert response.json["sms"]["from"] == "+18059876543"
    assert response.json["sms"]["twilio_sid"].startswith("SM")


def test_twilios_refusal_is_a_422_in_the_documents_words(
    client_and_token: tuple[FlaskClient, str], twilio: TwilioStandIn
) -> None:
    client, token = client_and_token
    twilio.fail_next(400, 21211, "The 'To' number is not a valid phone number")

    response = client.post(
        SMS_URL,
        json={"sms": {"phone_number": "+18051234567", "body": "Hello"}},
        headers={"X-User-Token": token},
    )

    assert response.status_code == 422
    assert response.json == {
        "errors": ["Failed to send SMS: The 'To' number is not a valid phone number"]
    }


def test_twilio_unavailable_is_a_502(
    client_and_token: tuple[FlaskClient, str], twilio: TwilioStandIn
) -> None:
    client, token = client_and_token
    twilio.fail_next(500, None, "Internal error")

    response = client.post(
        "/v1/clinic/ecm/communications/patients/123/call",
        json={"call": {"phone_number": "+18051234567"}},
        headers={"X-User-Token": token},
    )

    assert response.status_code == 502
    assert response.json == {"errors": ["Failed to initiate call: Internal error"]}
