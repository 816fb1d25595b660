"""Patients text and call the clinic: Twilio's inbound webhooks, signed, through the real app."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask.testing import FlaskClient

from ecm_comms.adapters.memory import FakeGateway, FixedClock
from ecm_comms.adapters.sql import tables
from ecm_comms.container import Container
from ecm_comms.domain.commands import RegisterUser, UpsertPatient
from ecm_comms.domain.people import Patient
from ecm_comms.settings import DEFAULT_CALL_UNAVAILABLE_MESSAGE
from tests.conftest import Staff
from tests.support.webhooks import (
    CLINIC_NUMBER,
    NOTHING_WRITTEN,
    WEBHOOK_SETTINGS,
    SignedWebhooks,
    history,
    new_sid,
    only_row,
    rows,
    sent_sms,
    table_counts,
    twiml,
    webhook_container,
)

PATIENT_PHONE = "+18051234567"
STRANGER_PHONE = "+18055559999"
CLINIC_FRONT_DESK = "+18055550100"


@pytest.fixture
def settings() -> dict[str, str]:
    """The service's environment; a test parametrizes it to change a setting."""
    return dict(WEBHOOK_SETTINGS)


@pytest.fixture
def container(
    database_url: str, gateway: FakeGateway, clock: FixedClock, settings: dict[str, str]
) -> Iterator[Container]:
    with webhook_container(database_url, gateway, clock, settings) as built:
        yield built


@pytest.fixture
def twilio(client: FlaskClient) -> SignedWebhooks:
    return SignedWebhooks(client)


def _register(container: Container, user_id: int, phone: str | None = None) -> Staff:
    registered = container.register_user()(RegisterUser(user_id, 1, f"User {user_id}", phone))
    return Staff(registered.user, registered.token.value)


# --- inbound SMS -------------------------------------------------------------------------------


def test_an_sms_from_a_patient_is_recorded_as_received_from_them(
    twilio: SignedWebhooks, container: Container, clock: FixedClock, patient: Patient
) -> None:
    sid = new_sid("SM")

    response = twilio.inbound_sms(PATIENT_PHONE, "Yes, Tuesday works", sid=sid)

    assert response.status_code == 200, response.text
    message = only_row(container, tables.text_messages)
    assert {
        key: message[key]
        for key in (
            "clinic_id",
            "patient_id",
            "direction",
            "status",
            "from_number",
            "to_number",
            "body",
            "twilio_sid",
            "sent_by_id",
            "created_at",
        )
    } == {
        "clinic_id": 1,
        "patient_id": 123,
        "direction": "inbound",
        "status": "received",
        "from_number": PATIENT_PHONE,
        "to_number": CLINIC_NUMBER,
        "body": "Yes, Tuesday works",
        "twilio_sid": sid,
        "sent_by_id": None,
        "created_at": clock.now(),
    }


def test_an_sms_from_a_patient_gets_an_activity_for_their_coordinator_and_an_event(
    twilio: SignedWebhooks, container: Container, clock: FixedClock, patient: Patient
) -> None:
    twilio.inbound_sms(PATIENT_PHONE, "Yes, Tuesday works")

    message = only_row(container, tables.text_messages)
    activity = only_row(container, tables.activities)
    event = only_row(container, tables.events)
    assert dict(activity) == {
        "id": activity["id"],
        "clinic_id": 1,
        "activity_type": "sms",
        "status": "created",
        "patient_id": 123,
        "performed_by_id": None,  # the system recorded it
        "assigned_to_id": 101,  # the patient's coordinator
        "text_message_id": message["id"],
        "voice_call_id": None,
        "created_at": clock.now(),
    }
    assert dict(event) == {
        "id": event["id"],
        "clinic_id": 1,
        "event_type": "sms",
        "occurred_at": clock.now(),
        "patient_id": 123,
        "activity_id": activity["id"],
    }


def test_an_inbound_sms_is_answered_with_an_empty_twiml_response(
    twilio: SignedWebhooks, patient: Patient
) -> None:
    response = twilio.inbound_sms(PATIENT_PHONE, "Thanks!")

    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    assert twiml(response) == []


def test_an_inbound_sms_appears_in_the_patients_history_with_its_activity(
    twilio: SignedWebhooks,
    client: FlaskClient,
    container: Container,
    coordinator: Staff,
    patient: Patient,
) -> None:
    sid = new_sid("SM")
    twilio.inbound_sms(PATIENT_PHONE, "Running 10 minutes late", sid=sid)

    response = history(client, coordinator.headers)

    assert response.status_code == 200, response.get_json()
    message = only_row(container, tables.text_messages)
    activity = only_row(container, tables.activities)
    assert response.get_json() == {
        "communications": [
            {
                "type": "sms",
                "id": message["id"],
                "twilio_sid": sid,
                "direction": "inbound",
                "status": "received",
                "to": CLINIC_NUMBER,
                "from": PATIENT_PHONE,
                "body": "Running 10 minutes late",
                "created_at": "2024-11-27T10:00:00.000Z",
                "segments": 1,
                "encoding": "GSM-7",
                "send_at": None,
                "skip_reason": None,
                "activity": {
                    "id": activity["id"],
                    "activity_type": "sms",
                    "status": "created",
                    "patient_id": 123,
                    "performed_by_id": None,
                    "assigned_to_id": 101,
                },
            }
        ],
        "next_cursor": None,
    }


def test_an_sms_from_an_unknown_number_is_stored_unmatched_without_an_activity(
    twilio: SignedWebhooks, container: Container, patient: Patient
) -> None:
    response = twilio.inbound_sms(STRANGER_PHONE, "Who is this?")

    assert response.status_code == 200
    assert twiml(response) == []
    message = only_row(container, tables.text_messages)
    assert (message["patient_id"], message["clinic_id"], message["from_number"]) == (
        None,
        None,
        STRANGER_PHONE,
    )
    assert table_counts(container) == NOTHING_WRITTEN | {"text_messages": 1}


@pytest.mark.both_databases
def test_a_message_sid_twilio_posts_twice_is_recorded_once(
    twilio: SignedWebhooks, container: Container, patient: Patient
) -> None:
    sid = new_sid("SM")

    first = twilio.inbound_sms(PATIENT_PHONE, "Yes", sid=sid)
    again = twilio.inbound_sms(PATIENT_PHONE, "Yes", sid=sid)

    assert (first.status_code, again.status_code) == (200, 200)
    assert twiml(again) == []
    assert table_counts(container) == NOTHING_WRITTEN | {
        "text_messages": 1,
        "activities": 1,
        "events": 1,
        "consent_entries": 1,  # "Yes" is an opt-in keyword: one ledger entry, not two
    }


@pytest.mark.both_databases
@pytest.mark.parametrize("contacted_last", [123, 124])
def test_an_sms_from_a_family_phone_goes_to_the_patient_last_contacted_at_that_number(
    twilio: SignedWebhooks,
    client: FlaskClient,
    container: Container,
    clock: FixedClock,
    coordinator: Staff,
    patient: Patient,
    contacted_last: int,
) -> None:
    # Patients 123 and 124 (a parent and child, say) share one phone.
    container.upsert_patient()(UpsertPatient(124, 1, (PATIENT_PHONE,), coordinator_id=101))
    contacted_first = 123 if contacted_last == 124 else 124
    sent_sms(client, coordinator.headers, patient_id=contacted_first)
    clock.advance(timedelta(minutes=5))
    sent_sms(client, coordinator.headers, patient_id=contacted_last)
    clock.advance(timedelta(minutes=5))

    twilio.inbound_sms(PATIENT_PHONE, "Which of us is this about?")

    [reply] = [m for m in rows(container, tables.text_messages) if m["direction"] == "inbound"]
    assert reply["patient_id"] == contacted_last
    activities = rows(container, tables.activities)
    [activity] = [a for a in activities if a["text_message_id"] == reply["id"]]
    assert activity["patient_id"] == contacted_last


@pytest.mark.both_databases
def test_an_sms_from_a_patient_without_a_coordinator_is_assigned_to_whoever_contacted_them_last(
    twilio: SignedWebhooks,
    client: FlaskClient,
    container: Container,
    clock: FixedClock,
    coordinator: Staff,
) -> None:
    container.upsert_patient()(UpsertPatient(125, 1, ("+18055550125",)))
    lee = _register(container, 102, "+18055550102")
    sent_sms(client, coordinator.headers, patient_id=125, phone_number="+18055550125")
    clock.advance(timedelta(hours=1))
    sent_sms(client, lee.headers, patient_id=125, phone_number="+18055550125")
    clock.advance(timedelta(hours=1))

    twilio.inbound_sms("+18055550125", "Got it, thanks")

    activity = rows(container, tables.activities)[-1]
    assert (activity["patient_id"], activity["performed_by_id"], activity["assigned_to_id"]) == (
        125,
        None,
        102,
    )


# --- inbound calls -----------------------------------------------------------------------------


def test_a_call_from_a_patient_is_put_through_to_their_coordinators_phone(
    twilio: SignedWebhooks, coordinator: Staff, patient: Patient
) -> None:
    response = twilio.inbound_call(PATIENT_PHONE)

    assert response.status_code == 200, response.text
    assert response.mimetype == "text/xml"
    assert twiml(response) == [("Dial", "+18055550101")]


def test_a_call_from_a_patient_is_recorded_with_an_activity_and_an_event(
    twilio: SignedWebhooks, container: Container, coordinator: Staff, patient: Patient
) -> None:
    sid = new_sid("CA")

    twilio.inbound_call(PATIENT_PHONE, sid=sid)

    call = only_row(container, tables.voice_calls)
    assert (call["direction"], call["status"], call["patient_id"], call["twilio_sid"]) == (
        "inbound",
        "ringing",
        123,
        sid,
    )
    activity = only_row(container, tables.activities)
    assert (
        activity["activity_type"],
        activity["voice_call_id"],
        activity["performed_by_id"],
        activity["assigned_to_id"],
    ) == ("call", call["id"], None, 101)
    assert only_row(container, tables.events)["activity_id"] == activity["id"]


@pytest.mark.both_databases
def test_a_call_twilio_posts_twice_is_recorded_once_and_still_put_through(
    twilio: SignedWebhooks, container: Container, coordinator: Staff, patient: Patient
) -> None:
    sid = new_sid("CA")

    twilio.inbound_call(PATIENT_PHONE, sid=sid)
    again = twilio.inbound_call(PATIENT_PHONE, sid=sid)

    assert twiml(again) == [("Dial", "+18055550101")]
    assert table_counts(container) == NOTHING_WRITTEN | {
        "voice_calls": 1,
        "activities": 1,
        "events": 1,
    }


@pytest.mark.both_databases
def test_a_call_from_a_patient_without_a_coordinator_goes_to_whoever_contacted_them_last(
    twilio: SignedWebhooks,
    client: FlaskClient,
    container: Container,
    clock: FixedClock,
    coordinator: Staff,
) -> None:
    container.upsert_patient()(UpsertPatient(125, 1, ("+18055550125",)))
    lee = _register(container, 102, "+18055550102")
    sent_sms(client, coordinator.headers, patient_id=125, phone_number="+18055550125")
    clock.advance(timedelta(hours=1))
    sent_sms(client, lee.headers, patient_id=125, phone_number="+18055550125")

    response = twilio.inbound_call("+18055550125")

    assert twiml(response) == [("Dial", "+18055550102")]


def test_a_call_nobody_can_take_hears_the_unavailable_message_and_is_hung_up(
    twilio: SignedWebhooks, container: Container, patient: Patient
) -> None:
    response = twilio.inbound_call(STRANGER_PHONE)

    assert response.status_code == 200
    assert twiml(response) == [("Say", DEFAULT_CALL_UNAVAILABLE_MESSAGE), ("Hangup", None)]
    assert table_counts(container) == NOTHING_WRITTEN | {"voice_calls": 1}


@pytest.mark.parametrize(
    "settings",
    [WEBHOOK_SETTINGS | {"ECM_CALL_UNAVAILABLE_MESSAGE": "Sunrise Clinic is closed. Goodbye."}],
)
def test_the_unavailable_message_is_the_clinics_own_when_configured(
    twilio: SignedWebhooks,
) -> None:
    response = twilio.inbound_call(STRANGER_PHONE)

    assert twiml(response) == [("Say", "Sunrise Clinic is closed. Goodbye."), ("Hangup", None)]


@pytest.mark.parametrize(
    "settings", [WEBHOOK_SETTINGS | {"ECM_CLINIC_PHONE_NUMBER": "(805) 555-0100"}]
)
def test_a_call_from_a_patient_whose_coordinator_has_no_phone_goes_to_the_clinic_number(
    twilio: SignedWebhooks, container: Container
) -> None:
    _register(container, 103, phone=None)
    container.upsert_patient()(UpsertPatient(126, 1, ("+18055550126",), coordinator_id=103))

    response = twilio.inbound_call("+18055550126")

    assert twiml(response) == [("Dial", CLINIC_FRONT_DESK)]
    assert only_row(container, tables.activities)["assigned_to_id"] == 103


@pytest.mark.parametrize(
    "settings", [WEBHOOK_SETTINGS | {"ECM_CLINIC_PHONE_NUMBER": "(805) 555-0100"}]
)
def test_a_call_from_an_unknown_number_goes_to_the_clinic_number_when_configured(
    twilio: SignedWebhooks,
) -> None:
    response = twilio.inbound_call(STRANGER_PHONE)

    assert twiml(response) == [("Dial", CLINIC_FRONT_DESK)]
