"""Patients opt out of SMS by texting STOP and back in with START, over the API and webhooks."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient

from ecm_comms.adapters.memory import FakeGateway, FixedClock
from ecm_comms.adapters.sql import tables
from ecm_comms.container import Container
from ecm_comms.domain.errors import GatewayError
from ecm_comms.domain.people import Patient
from ecm_comms.domain.phone_numbers import PhoneNumber
from tests.conftest import Staff
from tests.support.webhooks import (
    WEBHOOK_SETTINGS,
    SignedWebhooks,
    rows,
    send_sms,
    sent_sms,
    start_call,
    webhook_container,
)

PATIENT_PHONE = "+18051234567"
OPTED_OUT = {"errors": ["Failed to send SMS: The recipient has opted out of SMS (replied STOP)"]}


@pytest.fixture
def container(database_url: str, gateway: FakeGateway, clock: FixedClock) -> Iterator[Container]:
    with webhook_container(database_url, gateway, clock, WEBHOOK_SETTINGS) as built:
        yield built


@pytest.fixture
def twilio(client: FlaskClient) -> SignedWebhooks:
    return SignedWebhooks(client)


@pytest.fixture
def opted_out(twilio: SignedWebhooks, patient: Patient) -> None:
    """Patient 123 texted STOP."""
    assert twilio.inbound_sms(PATIENT_PHONE, "STOP").status_code == 200


def _outbound_sms(container: Container) -> list[str]:
    return [
        m["status"] for m in rows(container, tables.text_messages) if m["direction"] == "outbound"
    ]


def _inbound_sms_ids(container: Container) -> list[int]:
    return [m["id"] for m in rows(container, tables.text_messages) if m["direction"] == "inbound"]


def _ledger(container: Container) -> list[tuple[str, int | None, str, str, int | None]]:
    """The consent entries, oldest first: (phone, clinic, action, source, SMS)."""
    return [
        (e["phone"], e["clinic_id"], e["action"], e["source"], e["sms_id"])
        for e in rows(container, tables.consent_entries)
    ]


@pytest.mark.both_databases
@pytest.mark.parametrize(
    "body",
    ["STOP", "stop", "  Stop \n", "STOPALL", "unsubscribe", "Cancel", "END", "quit"],
)
def test_an_opt_out_keyword_blocks_the_next_sms_before_it_reaches_twilio(
    twilio: SignedWebhooks,
    client: FlaskClient,
    container: Container,
    gateway: FakeGateway,
    coordinator: Staff,
    patient: Patient,
    body: str,
) -> None:
    assert twilio.inbound_sms(PATIENT_PHONE, body).status_code == 200

    response = send_sms(client, coordinator.headers)

    assert response.status_code == 422
    assert response.get_json() == OPTED_OUT
    assert "opted out" in response.get_json()["errors"][0]
    assert gateway.sent == []
    assert _outbound_sms(container) == []


@pytest.mark.usefixtures("opted_out")
def test_the_opt_out_holds_whichever_format_the_coordinator_types_the_number_in(
    client: FlaskClient, gateway: FakeGateway, coordinator: Staff
) -> None:
    response = send_sms(client, coordinator.headers, phone_number="(805) 123-4567")

    assert response.status_code == 422
    assert gateway.sent == []


@pytest.mark.usefixtures("opted_out")
def test_calls_still_go_through_after_stop(
    client: FlaskClient, gateway: FakeGateway, coordinator: Staff
) -> None:
    response = start_call(client, coordinator.headers)

    assert response.status_code == 201, response.get_json()
    assert len(gateway.calls) == 1


@pytest.mark.both_databases
@pytest.mark.usefixtures("opted_out")
@pytest.mark.parametrize("body", ["START", "yes", " Unstop "])
def test_an_opt_in_keyword_allows_sms_again(
    twilio: SignedWebhooks,
    client: FlaskClient,
    gateway: FakeGateway,
    coordinator: Staff,
    body: str,
) -> None:
    assert twilio.inbound_sms(PATIENT_PHONE, body).status_code == 200

    response = send_sms(client, coordinator.headers)

    assert response.status_code == 201, response.get_json()
    assert [sms.to.e164 for sms in gateway.sent] == [PATIENT_PHONE]


@pytest.mark.both_databases
@pytest.mark.usefixtures("opted_out")
def test_an_opt_in_is_a_new_entry_after_the_opt_out_in_the_ledger(
    twilio: SignedWebhooks, container: Container
) -> None:
    assert twilio.inbound_sms(PATIENT_PHONE, "START").status_code == 200

    stop, start = _inbound_sms_ids(container)
    assert _ledger(container) == [
        (PATIENT_PHONE, None, "opt_out", "keyword", stop),
        (PATIENT_PHONE, None, "opt_in", "keyword", start),
    ]
    assert (
        container.consent_views().consent(PhoneNumber(PATIENT_PHONE), None).sms_opted_out is False
    )


@pytest.mark.usefixtures("opted_out")
def test_help_leaves_an_opted_out_number_opted_out(
    twilio: SignedWebhooks, client: FlaskClient, gateway: FakeGateway, coordinator: Staff
) -> None:
    twilio.inbound_sms(PATIENT_PHONE, "HELP")

    response = send_sms(client, coordinator.headers)

    assert response.status_code == 422
    assert gateway.sent == []


def test_help_leaves_a_subscribed_number_subscribed(
    twilio: SignedWebhooks,
    client: FlaskClient,
    gateway: FakeGateway,
    coordinator: Staff,
    patient: Patient,
) -> None:
    twilio.inbound_sms(PATIENT_PHONE, "help")

    response = send_sms(client, coordinator.headers)

    assert response.status_code == 201, response.get_json()
    assert len(gateway.sent) == 1


@pytest.mark.parametrize("body", ["stop please", "Please STOP", "don't stop", "STOP!", "STOP STOP"])
def test_a_message_that_is_more_than_the_keyword_changes_nothing(
    twilio: SignedWebhooks,
    client: FlaskClient,
    gateway: FakeGateway,
    coordinator: Staff,
    patient: Patient,
    body: str,
) -> None:
    twilio.inbound_sms(PATIENT_PHONE, body)

    response = send_sms(client, coordinator.headers)

    assert response.status_code == 201, response.get_json()
    assert len(gateway.sent) == 1


@pytest.mark.usefixtures("opted_out")
def test_a_start_sent_as_a_sentence_does_not_opt_back_in(
    twilio: SignedWebhooks, client: FlaskClient, gateway: FakeGateway, coordinator: Staff
) -> None:
    twilio.inbound_sms(PATIENT_PHONE, "start again please")

    response = send_sms(client, coordinator.headers)

    assert response.status_code == 422
    assert gateway.sent == []


def test_twilios_opt_out_type_opts_out_whatever_the_words(
    twilio: SignedWebhooks,
    client: FlaskClient,
    gateway: FakeGateway,
    coordinator: Staff,
    patient: Patient,
) -> None:
    # Advanced Opt-Out recognises the clinic's own keywords and says so in OptOutType.
    twilio.inbound_sms(PATIENT_PHONE, "Arrêter", OptOutType="STOP")

    response = send_sms(client, coordinator.headers)

    assert response.status_code == 422
    assert gateway.sent == []


def test_error_21610_in_a_status_callback_opts_the_number_out(
    twilio: SignedWebhooks,
    client: FlaskClient,
    gateway: FakeGateway,
    coordinator: Staff,
    patient: Patient,
) -> None:
    sms = sent_sms(client, coordinator.headers)
    twilio.sms_status(
        sms["twilio_sid"],
        "failed",
        record_id=sms["id"],
        error_code=21610,
        error_message="Attempt to send to unsubscribed recipient",
    )

    response = send_sms(client, coordinator.headers)

    assert response.status_code == 422
    assert response.get_json() == OPTED_OUT
    assert len(gateway.sent) == 1


def test_error_21610_on_a_send_opts_the_number_out(
    client: FlaskClient, gateway: FakeGateway, coordinator: Staff, patient: Patient
) -> None:
    gateway.fail_next(GatewayError("Attempt to send to unsubscribed recipient", code=21610))
    refused = send_sms(client, coordinator.headers)
    assert refused.get_json() == {
        "errors": ["Failed to send SMS: Attempt to send to unsubscribed recipient"]
    }

    response = send_sms(client, coordinator.headers)

    assert response.status_code == 422
    assert response.get_json() == OPTED_OUT


@pytest.mark.both_databases
@pytest.mark.usefixtures("opted_out")
def test_a_repeated_stop_webhook_after_start_does_not_opt_out_again(
    twilio: SignedWebhooks,
    client: FlaskClient,
    container: Container,
    gateway: FakeGateway,
    coordinator: Staff,
) -> None:
    # Twilio re-posts the STOP (same MessageSid) after the patient has said START.
    [stop] = rows(container, tables.text_messages)
    twilio.inbound_sms(PATIENT_PHONE, "START")

    twilio.inbound_sms(PATIENT_PHONE, "STOP", sid=stop["twilio_sid"])

    assert send_sms(client, coordinator.headers).status_code == 201
    assert [entry[2] for entry in _ledger(container)] == ["opt_out", "opt_in"]
