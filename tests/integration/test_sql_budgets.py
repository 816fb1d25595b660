"""SQL budgets per request, counted on PostgreSQL: the cost of a request, without timing it.

SQLite is left out: its transactions begin with a statement of their own (BEGIN IMMEDIATE).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from ecm_comms.adapters.memory import FakeGateway, FixedClock
from ecm_comms.container import Container
from ecm_comms.domain.commands import RegisterUser, UpsertPatient
from ecm_comms.entrypoints.http import create_app
from tests.support.statements import counting_statements
from tests.support.webhooks import SignedWebhooks, new_sid, webhook_container

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("database_url", ["postgres"], indirect=True),
]

API = "/v1/clinic/ecm/communications"
PATIENT_PHONE = "+18051234567"

SEND_BUDGET = 8  # authentication included
STATUS_CALLBACK_BUDGET = 3
INBOUND_SMS_BUDGET = 6
HISTORY_PAGE_BUDGET = 3  # authentication, the patient, the page: whatever its size


@pytest.fixture
def service(
    database_url: str, gateway: FakeGateway, clock: FixedClock
) -> Iterator[tuple[Container, FlaskClient, dict[str, str]]]:
    with webhook_container(database_url, gateway, clock) as container:
        token = container.register_user()(RegisterUser(101, 1, "Dana", "+18055550101")).token
        container.upsert_patient()(UpsertPatient(123, 1, (PATIENT_PHONE,), coordinator_id=101))
        client = create_app(container).test_client()
        yield container, client, {"X-User-Token": token.value}


def test_sending_an_sms_stays_within_its_budget(
    service: tuple[Container, FlaskClient, dict[str, str]],
) -> None:
    container, client, headers = service
    body = {"sms": {"phone_number": PATIENT_PHONE, "body": "Reminder"}}

    with counting_statements(container.engine()) as statements:
        response = client.post(f"{API}/patients/123/sms", json=body, headers=headers)

    assert response.status_code == 201
    assert len(statements) <= SEND_BUDGET, str(statements)


def test_placing_a_call_stays_within_its_budget(
    service: tuple[Container, FlaskClient, dict[str, str]],
) -> None:
    container, client, headers = service
    body = {"call": {"phone_number": PATIENT_PHONE}}

    with counting_statements(container.engine()) as statements:
        response = client.post(f"{API}/patients/123/call", json=body, headers=headers)

    assert response.status_code == 201
    assert len(statements) <= SEND_BUDGET, str(statements)


def test_a_status_callback_stays_within_its_budget(
    service: tuple[Container, FlaskClient, dict[str, str]],
) -> None:
    container, client, headers = service
    body = {"sms": {"phone_number": PATIENT_PHONE, "body": "Reminder"}}
    sms = client.post(f"{API}/patients/123/sms", json=body, headers=headers).json
    assert sms is not None
    twilio = SignedWebhooks(client)

    with counting_statements(container.engine()) as statements:
        response = twilio.sms_status(
            sms["sms"]["twilio_sid"], "delivered", record_id=sms["sms"]["id"]
        )

    assert response.status_code == 204
    assert len(statements) <= STATUS_CALLBACK_BUDGET, str(statements)


def test_an_inbound_sms_stays_within_its_budget(
    service: tuple[Container, FlaskClient, dict[str, str]],
) -> None:
    container, client, _ = service
    twilio = SignedWebhooks(client)

    with counting_statements(container.engine()) as statements:
        response = twilio.inbound_sms(PATIENT_PHONE, "See you then", MessageSid=new_sid("SM"))

    assert response.status_code == 200
    assert len(statements) <= INBOUND_SMS_BUDGET, str(statements)


@pytest.mark.parametrize("page_size", [1, 10, 50])
def test_a_history_page_costs_the_same_whatever_its_size(
    service: tuple[Container, FlaskClient, dict[str, str]], page_size: int
) -> None:
    container, client, headers = service
    twilio = SignedWebhooks(client)
    for n in range(60):
        if n % 3:
            client.post(
                f"{API}/patients/123/sms",
                json={"sms": {"phone_number": PATIENT_PHONE, "body": f"n{n}"}},
                headers=headers,
            )
        else:
            twilio.inbound_sms(PATIENT_PHONE, f"reply {n}")

    with counting_statements(container.engine()) as statements:
        response = client.get(
            f"{API}/patients/123/communications?limit={page_size}", headers=headers
        )

    assert response.json is not None
    assert len(response.json["communications"]) == page_size
    assert len(statements) <= HISTORY_PAGE_BUDGET, str(statements)
